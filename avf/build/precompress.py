"""Precompressed siblings, `x.gz` and `x.br`, beside the big text files only.

Who compresses what, a deploy decision measured on the 350-city benchmark corpus:

- **Small files are compressed on the fly**, by nginx (`gzip on`, level 5: ~0.1 ms for
  a 7 KB page) and by the service (`avf.service.static`, the same rule). Our pages are
  3.7–13 KB (median 7 KB). When every compressible public file of 1 KiB or more had a
  `.gz` sibling, that was 22,222 files (all but 6 of them for files under 16 KiB): 49 MB
  of bytes but 87 MiB of disk (each takes a whole 4 KiB block), and creating a file costs
  ~0.1–0.6 ms on the development machine, so they cost seconds of every cold build and of
  every theme change (which changes every page), plus the gzip -9 CPU — to save the
  server ~0.1 ms per page sent.
- **Files of 16 KiB or more get both siblings**, `.gz` (gzip -9) and `.br` (brotli q6),
  served as they are by nginx (`gzip_static`, `brotli_static`) and by the service: the
  portal's directory (160 KB → 21.6 KB gzip, 19.9 KB brotli), Pagefind's scripts, large
  feeds. There build-time compression pays: such a file takes longer to compress than a
  page, is stored once for the network (or for a city) and is sent often, and brotli
  saves 3–8 % more than gzip (on the fly it would need one more nginx module, the
  filter, where `brotli_static` serves a file as it is).

The siblings are made once per distinct content: the compressed bytes are stored as
objects named after the original's hash (`OUT/.objects/ab/<sha256>.br`, see
build/objects.py), so a file that did not change between two builds, or that many cities
share, is never compressed again. They depend only on the original's bytes (gzip without
a timestamp or a name, brotli at a fixed quality): an incremental build equals a cold one.
"""

from __future__ import annotations

import gzip
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import brotli

# What is worth compressing: text the build writes (pages, feeds, stylesheets, scripts,
# data, drawings). Photos and fonts are compressed already. The same list decides what
# nginx and the service compress on the fly (avf.service.static_headers.COMPRESSED_TYPES).
COMPRESSIBLE = frozenset({"html", "css", "js", "mjs", "xml", "json", "ics", "txt",
                          "webmanifest", "svg"})
# Only files this big get siblings; smaller ones are compressed on the fly (see above).
MIN_SIZE = 16 * 1024
# Brotli quality 6: 0.31 of a page's size in ~0.07 ms per KB (measured on pages, when
# they had siblings). Quality 11 gains 9 % more but is ~40 times slower, paid again by
# every build that changes a big file. (Qualities 7 to 9 compress no better than 6.)
BROTLI_QUALITY = 6
# gzip -9 for the siblings (on the fly, level 5): kept because the objects of earlier
# builds (`<sha256>.gz`) are made at -9: another level would give an incremental build
# other bytes than a cold one.
GZIP_LEVEL = 9


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def _brotli(data: bytes) -> bytes:
    return brotli.compress(data, mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY)


# Suffix of the sibling → how it is made. Same suffixes as avf.service.static.PRECOMPRESSED.
ENCODERS: dict[str, Callable[[bytes], bytes]] = {".gz": _gzip, ".br": _brotli}


def is_text(name: str) -> bool:
    """Whether a file named `name` is of a compressible kind, whatever its size."""
    return "." in name and name.rpartition(".")[2].lower() in COMPRESSIBLE


def is_compressible(name: str, size: int) -> bool:
    """Whether a file named `name` of `size` bytes gets precompressed siblings."""
    return size >= MIN_SIZE and is_text(name)


def precompress_folder(folder: Path) -> int:
    """Give the big text files of `folder` (the theme's versions, which are plain folders,
    not objects) their missing siblings, and take away those of small files, which a
    version published under the former rule (`.gz` from 1 KiB) still has: the folder is
    then what a cold build makes. Return how many siblings were written."""
    written = 0
    for root, _dirs, files in os.walk(folder):
        present = set(files)
        for name in files:
            if not is_text(name):
                continue
            path = Path(root) / name
            size = path.stat().st_size
            if not is_compressible(name, size):
                for suffix in ENCODERS:
                    if f"{name}{suffix}" in present:
                        path.with_name(f"{name}{suffix}").unlink(missing_ok=True)
                continue
            data = b""
            for suffix in ENCODERS:
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
