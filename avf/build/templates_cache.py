"""Compiled templates kept in memory for the life of a build worker, and on disk between
processes.

Pelican makes a new Jinja environment for every generator of every city, so the theme's
templates would be compiled again for each of the 350 cities. Jinja's bytecode cache lets
every environment of the worker reuse the first compilation; Jinja checks each template's
source checksum, so an edited template is compiled again, never served stale.

A command-line `avf build --city X` is a fresh process: compiling the theme's templates
was a quarter of its time. So compiled templates are also written to `OUT/.template-cache/`
and read back by the next process. Each file starts with the SHA-256 of the rest: a
truncated or damaged file (a crash, a full disk) is ignored and compiled again, never
handed to Jinja (whose own format unpickles). Like Python's `__pycache__`, the folder is
trusted as much as the code: whoever can write to it can already write the pages.

Jinja's own key is the template's name and file only, but the environment's options are
compiled in (escaping above all: a template compiled before autoescaping was turned on
writes values raw). So the key also holds those options: another environment, another
entry, never the bytecode of the old one.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache

FOLDER = ".template-cache"  # in the output folder, beside .state/
DIGEST_SIZE = 32  # bytes of SHA-256 before the bytecode


class MemoryBytecodeCache(BytecodeCache):
    """Bytecode of compiled templates, by template key, in this process's memory, and in
    the folder given by `use_folder` (if any) for the next process."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}
        self._folder: Path | None = None

    def use_folder(self, folder: Path | None) -> None:
        """Read and write compiled templates in `folder` too (None: memory only)."""
        self._folder = folder

    def get_bucket(self, environment: Environment, name: str, filename: str | None,
                   source: str) -> Bucket:
        key = hashlib.sha256(
            f"{compiled_with(environment, name)}|{name}|{filename or ''}".encode()).hexdigest()
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is None and self._folder is not None:
            data = self._read(self._folder, bucket.key)
            if data is not None:
                self._store[bucket.key] = data
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        data = bucket.bytecode_to_string()
        self._store[bucket.key] = data
        if self._folder is not None:
            self._write(self._folder, bucket.key, data)

    def clear(self) -> None:
        self._store.clear()

    @staticmethod
    def _path(folder: Path, key: str) -> Path:
        return folder / f"{hashlib.sha256(key.encode()).hexdigest()}.bytecode"

    def _read(self, folder: Path, key: str) -> bytes | None:
        try:
            raw = self._path(folder, key).read_bytes()
        except OSError:
            return None
        data = raw[DIGEST_SIZE:]
        if len(raw) <= DIGEST_SIZE or hashlib.sha256(data).digest() != raw[:DIGEST_SIZE]:
            return None  # damaged: compiled again, and rewritten
        return data

    def _write(self, folder: Path, key: str, data: bytes) -> None:
        """Written whole under a temporary name, then renamed: never half a file."""
        path = self._path(folder, key)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(hashlib.sha256(data).digest() + data)
            os.replace(temporary, path)
        except OSError:  # a cache: the build goes on without it
            temporary.unlink(missing_ok=True)


def compiled_with(environment: Environment, name: str) -> str:
    """The options of `environment` that change the code compiled from a template."""
    autoescape = environment.autoescape
    escaped = autoescape(name) if callable(autoescape) else autoescape
    extensions = ",".join(sorted(environment.extensions))
    return (f"autoescape={bool(escaped)};trim={environment.trim_blocks};"
            f"lstrip={environment.lstrip_blocks};newline={environment.newline_sequence!r};"
            f"trailing={environment.keep_trailing_newline};optimized={environment.optimized};"
            f"extensions={extensions}")


WORKER_TEMPLATES = MemoryBytecodeCache()
