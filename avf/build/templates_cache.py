"""Compiled templates kept in memory for the life of a build worker.

Pelican makes a new Jinja environment for every generator of every city, so the theme's
templates would be compiled again for each of the 350 cities. Jinja's bytecode cache lets
every environment of the worker reuse the first compilation; Jinja checks each template's
source checksum, so an edited template is compiled again, never served stale.
"""

from __future__ import annotations

from jinja2.bccache import Bucket, BytecodeCache


class MemoryBytecodeCache(BytecodeCache):
    """Bytecode of compiled templates, by template key, in this process's memory."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._store.clear()


WORKER_TEMPLATES = MemoryBytecodeCache()
