"""A small JSON file the build writes for the service in each city's members' output
(`OUT/members/<city>/<name>`: home.json, events.json), parsed once per version of the file:
a release swap or a rebuild changes its real path, size, time or inode, and it is read
again; otherwise a request costs one `stat`."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Stamp = tuple[str, int, int, int]  # real path, mtime_ns, size, inode


class BuildFileCache(Generic[T]):
    def __init__(self, members_dir: Path, name: str, parse: Callable[[str, dict], T]):
        self.members_dir = members_dir
        self.name = name
        self._parse = parse  # (city, the file's JSON) -> T; ValueError etc. when unusable
        self._read: dict[str, tuple[Stamp, T]] = {}
        self._lock = threading.Lock()  # handlers run in the thread pool

    def get(self, city: str) -> T | None:
        """The city's parsed file, or None when it was never built or cannot be read (the
        page then says so rather than failing; the reason is logged)."""
        path = os.path.realpath(self.members_dir / city / self.name)
        try:
            status = os.stat(path)
        except OSError:
            return None
        stamp = (path, status.st_mtime_ns, status.st_size, status.st_ino)
        with self._lock:
            known = self._read.get(city)
        if known is not None and known[0] == stamp:
            return known[1]
        try:
            with open(path, encoding="utf-8") as stream:
                value = self._parse(city, json.load(stream))
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("%s of %s unreadable (%s): %s", self.name, city, path, error)
            return None
        with self._lock:
            self._read[city] = (stamp, value)
        return value

    def cities(self) -> list[str]:
        """The cities whose build wrote this file."""
        try:
            names = sorted(os.listdir(self.members_dir))
        except OSError:
            return []
        return [name for name in names if (self.members_dir / name / self.name).is_file()]
