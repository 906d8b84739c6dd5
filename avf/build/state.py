"""What the last build made, so the next one rebuilds only what changed.

Each city's fingerprint hashes everything its output depends on: its files (by content),
the theme, the plugins, the settings, our code and library versions, the network news and
the build options. A city whose fingerprint is unchanged, whose release is still online and
whose agenda has not moved (no event passed since) is not rebuilt.

File contents are hashed once and remembered with their size and change time (as Lektor
and git do). The change time (ctime), not the modification time: `cp -p`, `rsync -t` or
`tar` can give a new content an old mtime, but every write sets the ctime to now. A file
changed within the last seconds before the state was saved is hashed again, since its
ctime cannot tell a second change apart (git's "racy" rule).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

STATE_VERSION = 3
STATE_DIR = Path(".state")
RACY_WINDOW_NS = 2_000_000_000  # change times this close to the save are not trusted

FileEntry = tuple[int, int, str]  # size, change time (ctime) in ns, sha256 of the content


@dataclass
class CityState:
    """What the last successful build of one city was made from."""

    fingerprint: str
    card: dict[str, object] | None
    expires: str | None  # ISO time when an event of the city passes: rebuild then
    files: dict[str, FileEntry] = field(default_factory=dict)
    saved_ns: int = 0


class BuildState:
    """The state folder: one small file per city (so rebuilding one city reads and
    writes one file, whatever the size of the network) and one for the portal.

    Anything missing, from another version or damaged is treated as absent: an
    untrusted cache is discarded, never used.
    """

    def __init__(self, output_dir: Path):
        self.folder = output_dir / STATE_DIR
        self._cities: dict[str, CityState | None] = {}
        self.portal: str | None = self._read("portal.json").get("fingerprint")  # type: ignore[assignment]
        index = self._read("index.json").get("cities")
        self.index: dict[str, dict[str, object]] = index if isinstance(index, dict) else {}

    def looks_unchanged(self, slug: str, stats: dict[str, FileStat], network_print: str,
                        now: datetime) -> bool:
        """The quick test: same files (names, sizes, change times) and same network as when
        the city was last built, nothing racy, no event passed — without reading a file."""
        entry = self.index.get(slug)
        if not isinstance(entry, dict):
            return False
        expires = entry.get("expires")
        moment = _aware(expires) if expires is not None else None
        try:
            return (entry.get("stats") == stats_digest(stats)
                    and entry.get("network") == network_print
                    and not is_racy(stats, int(entry["saved_ns"]))  # type: ignore[call-overload]
                    and (expires is None or (moment is not None and moment > now)))
        except (KeyError, TypeError, ValueError):
            return False

    def built_for_another_network(self, slug: str, network_print: str) -> bool:
        """The city was last built with other code, theme, settings or network news: it
        must be rebuilt whatever its files say (so they need not be hashed now)."""
        entry = self.index.get(slug)
        return isinstance(entry, dict) and entry.get("network") != network_print

    def note_index(self, slug: str, stats: dict[str, FileStat], network_print: str,
                   expires: str | None) -> None:
        self.index[slug] = {"stats": stats_digest(stats), "network": network_print,
                            "expires": expires, "saved_ns": time.time_ns()}

    def save_index(self) -> None:
        self._write("index.json", {"cities": self.index})

    def city(self, slug: str) -> CityState | None:
        if slug not in self._cities:
            self._cities[slug] = self._load_city(slug)
        return self._cities[slug]

    def set_city(self, slug: str, state: CityState) -> None:
        state.saved_ns = time.time_ns()
        self._cities[slug] = state
        self._write(f"cities/{slug}.json", {
            "fingerprint": state.fingerprint, "card": state.card, "expires": state.expires,
            "files": state.files, "saved_ns": state.saved_ns})

    def forget_city(self, slug: str) -> None:
        self._cities[slug] = None
        self.index.pop(slug, None)
        (self.folder / "cities" / f"{slug}.json").unlink(missing_ok=True)

    def invalidate_city(self, slug: str) -> None:
        """Keep the card (the site stays online) but rebuild the city next time."""
        self.index.pop(slug, None)
        previous = self.city(slug)
        if previous is not None:
            previous.fingerprint = ""
            self.set_city(slug, previous)

    def set_portal(self, fingerprint: str | None) -> None:
        self.portal = fingerprint
        self._write("portal.json", {"fingerprint": fingerprint})

    def _load_city(self, slug: str) -> CityState | None:
        raw = self._read(f"cities/{slug}.json")
        card, expires = raw.get("card"), raw.get("expires")
        if card is not None and not (isinstance(card, dict) and {"slug", "name", "city",
                                                                 "region"} <= card.keys()):
            return None
        if expires is not None and _aware(expires) is None:
            return None
        try:
            return CityState(
                fingerprint=str(raw["fingerprint"]), card=raw.get("card"),  # type: ignore[arg-type]
                expires=raw.get("expires"),  # type: ignore[arg-type]
                files={name: (int(size), int(changed), str(sha))
                       for name, (size, changed, sha) in raw["files"].items()},  # type: ignore[attr-defined]
                saved_ns=int(raw["saved_ns"]),  # type: ignore[call-overload]
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def _read(self, name: str) -> dict[str, object]:
        try:
            raw = json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            return {}
        return raw

    def _write(self, name: str, data: dict[str, object]) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(
            json.dumps({"version": STATE_VERSION, **data}, ensure_ascii=False,
                       separators=(",", ":")),
            encoding="utf-8", errors="backslashreplace")
        os.replace(temporary, path)


FileStat = tuple[int, int, str]  # size, change time (ctime) in ns, path on disk


def stat_folder(folder: Path) -> dict[str, FileStat]:
    """Size and change time of every file below `folder` (no dot files, no __pycache__)."""
    stats: dict[str, FileStat] = {}
    pending = [str(folder)]
    prefix = len(str(folder)) + 1
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name == "__pycache__":
                continue
            if entry.is_dir():
                pending.append(entry.path)
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:  # removed while we list (git checkout, an editor)
                continue
            # A name that is not UTF-8 (validation reports it) must still count, readably.
            relative = entry.path[prefix:].encode("utf-8", "surrogateescape").decode(
                "utf-8", "backslashreplace")
            stats[relative] = (stat.st_size, stat.st_ctime_ns, entry.path)
    return stats


def stats_digest(stats: dict[str, FileStat]) -> str:
    """A hash of names, sizes and change times: equal means no file changed (outside the
    racy window), without reading any file."""
    return fingerprint(sorted((name, size, changed) for name, (size, changed, _) in
                              stats.items()))


def is_racy(stats: dict[str, FileStat], saved_ns: int) -> bool:
    """A file changed so close to the last save that its change time cannot be trusted."""
    return any(changed >= saved_ns - RACY_WINDOW_NS for _size, changed, _path in stats.values())


def hash_folder(folder: Path, known: dict[str, FileEntry], saved_ns: int,
                stats: dict[str, FileStat] | None = None) -> dict[str, FileEntry]:
    """Every file below `folder` with its content hash, reusing `known` hashes when the
    size and change time are unchanged and older than the state's racy window."""
    entries: dict[str, FileEntry] = {}
    for relative, (size, changed, path) in (stats if stats is not None
                                            else stat_folder(folder)).items():
        cached = known.get(relative)
        if (cached is not None and cached[0] == size and cached[1] == changed
                and changed < saved_ns - RACY_WINDOW_NS):
            entries[relative] = cached
        else:
            try:
                entries[relative] = (size, changed, _sha256(path))
            except FileNotFoundError:  # removed since it was listed: it is not there
                continue
    return entries


UNSURE = "changed-while-building"


def settle(entries: dict[str, FileEntry], stats: dict[str, FileStat]) -> dict[str, FileEntry]:
    """The entries, with files that changed since `stats` were taken marked as unsure.

    Used after a build: a file saved while Pelican ran may be newer than what was
    published; marking it makes the next build look at it again instead of trusting it.
    """
    settled = dict(entries)
    for relative, (size, changed, path) in stats.items():
        try:
            now = os.stat(path)
        except FileNotFoundError:
            now = None
        moved = now is None or (now.st_size, now.st_ctime_ns) != (size, changed)
        if moved and relative in settled:
            settled[relative] = (size, changed, UNSURE)
    return settled


def fingerprint(*parts: object) -> str:
    """A stable hash of JSON-able parts."""
    encoded = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8", "backslashreplace")).hexdigest()


def files_digest(entries: dict[str, FileEntry]) -> str:
    return fingerprint(sorted((name, entry[2]) for name, entry in entries.items()))


_code_files: dict[Path, tuple[int, dict[str, FileEntry]]] = {}  # warm processes: watch, service


def code_fingerprint(paths: list[Path]) -> str:
    """Everything the output depends on besides content: code, theme, settings, versions."""
    digests = []
    for path in paths:
        if not path.is_dir():
            digests.append(_sha256(str(path)))
            continue
        hashed_at, known = _code_files.get(path, (0, {}))
        entries = hash_folder(path, known, hashed_at)
        _code_files[path] = (time.time_ns(), entries)
        digests.append(files_digest(entries))
    return fingerprint(STATE_VERSION, sys.version_info[:2], installed_versions(), digests)


@cache
def installed_versions() -> list[str]:
    """Every installed distribution with its version: Pelican's dependencies (feedgenerator,
    unidecode, markupsafe…) shape the output too, so any upgrade rebuilds the network.

    Read from the names of the `*.dist-info` folders (`pelican-4.12.0.dist-info`), which is
    a hundred times faster than parsing every package's metadata.
    """
    found = set()
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        found.update(name for name in names if name.endswith((".dist-info", ".egg-info")))
    return sorted(found)


def is_expired(city: CityState, now: datetime) -> bool:
    if city.expires is None:
        return False
    moment = _aware(city.expires)
    return moment is None or moment <= now


def _aware(text: object) -> datetime | None:
    """A timezone-aware ISO datetime from the state, or None if it is not one."""
    try:
        moment = datetime.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
