"""What the last build made, so the next one rebuilds only what changed.

Each city's fingerprint hashes everything its output depends on: its files (by content),
the theme, the plugins, the settings, our code and library versions, the network news and
the build options. A city whose fingerprint is unchanged, whose release is still online and
whose agenda has not moved (no event passed since) is not rebuilt.

File contents are hashed once and remembered with their size and mtime (as Lektor and git
do); a file changed within the last seconds before the state was saved is hashed again,
since its mtime cannot tell a second change apart.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

STATE_VERSION = 1
STATE_FILE = Path(".state") / "build-state.json"
RACY_WINDOW_NS = 2_000_000_000  # mtimes this close to the save time are not trusted
LIBRARIES = ("pelican", "jinja2", "cmarkgfm", "pyyaml")

FileEntry = tuple[int, int, str]  # size, mtime in ns, sha256 of the content


@dataclass
class CityState:
    fingerprint: str
    card: dict[str, object] | None
    expires: str | None  # ISO time when an event of the city passes: rebuild then
    files: dict[str, FileEntry] = field(default_factory=dict)


@dataclass
class BuildState:
    """The state file: per-city fingerprints and the hash cache of their files."""

    cities: dict[str, CityState] = field(default_factory=dict)
    portal: str | None = None
    saved_ns: int = 0

    @classmethod
    def load(cls, output_dir: Path) -> BuildState:
        """The saved state, or an empty one if it is missing, from another version or
        damaged in any way: an untrusted cache is discarded, never used."""
        path = output_dir / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") != STATE_VERSION:
                return cls()
            cities = {
                slug: CityState(
                    fingerprint=str(entry["fingerprint"]), card=entry.get("card"),
                    expires=entry.get("expires"),
                    files={name: (int(size), int(mtime), str(sha))
                           for name, (size, mtime, sha) in entry["files"].items()},
                )
                for slug, entry in raw["cities"].items()
            }
            return cls(cities, raw.get("portal"), int(raw["saved_ns"]))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return cls()

    def save(self, output_dir: Path) -> None:
        path = output_dir / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self.saved_ns = time.time_ns()
        data = {
            "version": STATE_VERSION,
            "saved_ns": self.saved_ns,
            "portal": self.portal,
            "cities": {slug: {"fingerprint": city.fingerprint, "card": city.card,
                              "expires": city.expires, "files": city.files}
                       for slug, city in sorted(self.cities.items())},
        }
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                             encoding="utf-8", errors="backslashreplace")
        os.replace(temporary, path)


def hash_folder(folder: Path, known: dict[str, FileEntry], saved_ns: int,
                ) -> dict[str, FileEntry]:
    """Every file below `folder` with its content hash, reusing `known` hashes when the
    size and mtime are unchanged and older than the state's racy window."""
    entries: dict[str, FileEntry] = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            # A name that is not UTF-8 (validation reports it) must still count, readably.
            relative = os.path.relpath(path, folder).encode(
                "utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            stat = os.stat(path)
            cached = known.get(relative)
            if (cached is not None and cached[0] == stat.st_size
                    and cached[1] == stat.st_mtime_ns
                    and stat.st_mtime_ns < saved_ns - RACY_WINDOW_NS):
                entries[relative] = cached
            else:
                entries[relative] = (stat.st_size, stat.st_mtime_ns, _sha256(path))
    return entries


def fingerprint(*parts: object) -> str:
    """A stable hash of JSON-able parts."""
    encoded = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8", "backslashreplace")).hexdigest()


def files_digest(entries: dict[str, FileEntry]) -> str:
    return fingerprint(sorted((name, entry[2]) for name, entry in entries.items()))


def code_fingerprint(paths: list[Path]) -> str:
    """Everything the output depends on besides content: code, theme, settings, versions."""
    digests = [files_digest(hash_folder(path, {}, 0)) if path.is_dir() else _sha256(str(path))
               for path in paths]
    versions = {name: version(name) for name in LIBRARIES}
    return fingerprint(STATE_VERSION, sys.version_info[:2], versions, digests)


def is_expired(city: CityState, now: datetime) -> bool:
    return city.expires is not None and datetime.fromisoformat(city.expires) <= now


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
