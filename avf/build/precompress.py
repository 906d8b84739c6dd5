"""Precompressed siblings: `page.html.gz` and `page.html.br` beside each text file.

nginx (`gzip_static`, `brotli_static`) and the service (`avf.service.static`) send these
as they are, so no request compresses anything. They are made once per distinct content:
the compressed bytes are stored as objects named after the original's hash
(`OUT/.objects/ab/<sha256>.br`, see build/objects.py), so a page that did not change between
two builds, or that many cities share, is never compressed again.

The compressed bytes depend only on the original's: gzip without a timestamp or a name,
brotli at a fixed quality. An incremental build therefore equals a cold one.
"""

from __future__ import annotations

import gzip
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import brotli

# What is worth compressing: text the build writes (pages, feeds, stylesheets, scripts,
# data). Images and fonts are compressed already, and an SVG is left to the images' rules.
COMPRESSIBLE = frozenset({"html", "css", "js", "mjs", "xml", "json", "ics", "txt",
                          "webmanifest"})
# Below this size a response fits in one TCP packet either way, while each sibling costs a
# whole disk block (4 KiB): not worth it.
MIN_SIZE = 1024
# Brotli's best quality: decompression costs the same, and each distinct file is
# compressed once (cached by hash), so the slower compression is paid once.
BROTLI_QUALITY = 11
GZIP_LEVEL = 9


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def _brotli(data: bytes) -> bytes:
    return brotli.compress(data, mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY)


# Suffix of the sibling → how it is made. Same suffixes as avf.service.static.PRECOMPRESSED.
ENCODERS: dict[str, Callable[[bytes], bytes]] = {".gz": _gzip, ".br": _brotli}


def is_compressible(name: str, size: int) -> bool:
    """Whether a file named `name` of `size` bytes gets precompressed siblings."""
    extension = name.rpartition(".")[2].lower()
    return size >= MIN_SIZE and "." in name and extension in COMPRESSIBLE


def compressed_object(data: bytes, target: Path, suffix: str) -> bool:
    """Make sure `target` holds `data` compressed for `suffix`; False when compression does
    not shrink it (no sibling then). Written under a temporary name and linked into place,
    so another worker never sees a half-written object."""
    if target.exists():
        return True
    packed = ENCODERS[suffix](data)
    if len(packed) >= len(data):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_bytes(packed)
    os.chmod(temporary, 0o444)  # objects are shared: never edited in place
    try:
        os.link(temporary, target)
    except FileExistsError:  # another worker made the same object meanwhile
        pass
    finally:
        os.unlink(temporary)
    return True


def precompress_folder(folder: Path) -> int:
    """Write missing siblings of the compressible files of `folder` (the theme's versions,
    which are plain folders, not objects); return how many were written."""
    written = 0
    for root, _dirs, files in os.walk(folder):
        present = set(files)
        for name in files:
            path = Path(root) / name
            if not is_compressible(name, path.stat().st_size):
                continue
            data = b""
            for suffix, encode in ENCODERS.items():
                if f"{name}{suffix}" in present:
                    continue
                data = data or path.read_bytes()
                packed = encode(data)
                if len(packed) >= len(data):
                    continue
                temporary = path.with_name(f".{name}{suffix}.{uuid.uuid4().hex[:8]}.tmp")
                temporary.write_bytes(packed)
                os.replace(temporary, path.with_name(f"{name}{suffix}"))
                written += 1
    return written
