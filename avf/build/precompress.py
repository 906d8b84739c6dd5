"""Precompressed siblings: `page.html.gz` and `page.html.br` beside each text file.

nginx (`gzip_static`, `brotli_static`) and the service (`avf.service.static`) send these
as they are, so no request compresses anything. They are made once per distinct content:
the compressed bytes are stored as objects named after the original's hash
(`OUT/.objects/ab/<sha256>.br`, see build/objects.py), so a page that did not change between
two builds, or that many cities share, is never compressed again.

The compressed bytes depend only on the original's: gzip without a timestamp or a name,
brotli at a fixed quality. An incremental build therefore equals a cold one.

Every compressible file of 1 KiB or more gets a `.gz` (served by stock nginx's
`gzip_static` and by the service); only files of 16 KiB or more also get a `.br`. Measured
on the 350-city benchmark corpus, our pages are 3.7–13 KB (median 7 KB): each arrives in
the first round trip (TCP's initial window, 10 segments ≈ 14 KB) compressed either way,
brotli saves ~8 % of the gzip size there (~200 bytes a page), and each `.br` costs a whole
4 KiB disk block: 21,700 of them were 87 MiB of the 564 MiB output. Big shared files (the
portal's directory, Pagefind's scripts, stored once for the network) keep their `.br`.
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
# Only files this big get a `.br` beside their `.gz` (see above).
BROTLI_MIN_SIZE = 16 * 1024
# Brotli quality 6: 0.31 of a page's size in ~0.07 ms per KB. Quality 11 gains 9 % more
# but is ~40 times slower: a theme change, which changes every page, would pay that for
# all 350 cities. (Qualities 7 to 9 compress no better than 6 on our pages.)
BROTLI_QUALITY = 6
# gzip -9: as small as -6 on our pages and a quarter slower (~3 ms a city), kept because
# the objects of earlier builds (`<sha256>.gz`) are made at -9: another level would give an
# incremental build other bytes than a cold one.
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


def sibling_suffixes(size: int) -> tuple[str, ...]:
    """The siblings a compressible file of `size` bytes gets: `.gz`, and `.br` if big."""
    return (".gz", ".br") if size >= BROTLI_MIN_SIZE else (".gz",)


def write_sibling(data: bytes, sibling: str, target: Path, suffix: str) -> None:
    """Put `data` compressed for `suffix` at `sibling` (a release path) as a link to the
    object `target`: linked when the object exists, else compressed, written at `sibling`
    and adopted as the object (one file created, as for the original). Nothing is written
    when compression would not shrink the file."""
    if not target.exists():
        packed = ENCODERS[suffix](data)
        if len(packed) >= len(data):
            return
        # Read-only from the start: objects are shared, never edited in place.
        descriptor = os.open(sibling, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(descriptor, packed)
        finally:
            os.close(descriptor)
        try:
            os.link(sibling, target)
            return
        except FileExistsError:  # another worker made the same object meanwhile
            pass
        except FileNotFoundError:  # its folder is new
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(sibling, target)
                return
            except FileExistsError:
                pass
    temporary = f"{sibling}.link"
    os.link(target, temporary)
    os.replace(temporary, sibling)


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
            for suffix in sibling_suffixes(path.stat().st_size):
                if f"{name}{suffix}" in present:
                    continue
                data = data or path.read_bytes()
                packed = ENCODERS[suffix](data)
                if len(packed) >= len(data):
                    continue
                temporary = path.with_name(f".{name}{suffix}.{uuid.uuid4().hex[:8]}.tmp")
                temporary.write_bytes(packed)
                os.replace(temporary, path.with_name(f"{name}{suffix}"))
                written += 1
    return written
