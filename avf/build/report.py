"""What each city's build gave, kept as data (OUT/build-report.json) so failures are visible."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Status = Literal["ok", "failed"]
REPORT_NAME = "build-report.json"


@dataclass
class CityResult:
    """One city's build: its status, pages written, time spent and problems (file, line)."""

    slug: str
    status: Status
    pages: int = 0
    seconds: float = 0.0
    errors: list[dict[str, object]] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)
    card: dict[str, object] | None = None  # the public card, for the portal
    release: str | None = None  # staging folder of a successful build, before publishing
    expires: str | None = None  # when the city's agenda changes (an event passes)
    built_at: str | None = None  # ISO time the build finished (UTC)
    search_seconds: float = 0.0  # of `seconds`, what Pagefind took to index the site
    search_reused: bool = False  # the previous release's index was kept (same indexed pages)
    # Published posts by visibility ({"public": n, "members": m}) and the newest one's date:
    # the dashboard's network figures and its "nothing published for 60 days" flag.
    publications: dict[str, int] = field(default_factory=dict)
    last_published: str | None = None
    # Photos decoded and resized by this build, and photos taken from the image cache.
    images: dict[str, int] = field(default_factory=dict)

    def as_report(self) -> dict[str, object]:
        entry = asdict(self)
        entry["name"] = self.card.get("name") if self.card else None
        for private in ("slug", "card", "release", "expires"):
            entry.pop(private)
        return entry


def write_report(output_dir: Path, results: list[CityResult], portal: CityResult | None,
                 seconds: float) -> Path:
    """Merge this run's results into OUT/build-report.json, written atomically."""
    path = output_dir / REPORT_NAME
    cities = _previous_cities(path)
    for result in results:
        cities[result.slug] = _merged(result.as_report(), cities.get(result.slug))
    report_cities = dict(sorted(cities.items()))
    report = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "built": sorted(result.slug for result in results),
        "cities": report_cities,
        "portal": portal.as_report() if portal else None,
    }
    temporary = path.with_name(f".{REPORT_NAME}.{os.getpid()}")
    lines = _city_lines(path, report_cities)
    temporary.write_text(_one_city_a_line(report, lines), encoding="utf-8",
                         errors="backslashreplace")
    os.replace(temporary, path)
    _written[str(path)] = (_stamp(path), report_cities, lines)
    return path


# The report this process wrote last, per output: its file's stamp, its cities and their
# lines. A warm process (the service, `avf watch`) rebuilding one city then neither parses
# the whole report again nor encodes the cities that did not change (~10 ms at 1,000
# cities). A report changed by anyone else (another process, an edit) has another stamp.
_written: dict[str, tuple[tuple[int, int, int], dict[str, object], dict[str, str]]] = {}


def _stamp(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _previous_cities(path: Path) -> dict[str, object]:
    """The cities of the report at `path` (a new dict: the caller adds to it)."""
    try:
        stamp = _stamp(path)
    except OSError:
        return {}
    written = _written.get(str(path))
    if written is not None and written[0] == stamp:
        return dict(written[1])
    try:
        cities = json.loads(path.read_text(encoding="utf-8")).get("cities", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return cities if isinstance(cities, dict) else {}


def _city_lines(path: Path, cities: dict[str, object]) -> dict[str, str]:
    """Each city's line of the report; an entry carried over unchanged from the report
    this process wrote last at `path` (the very same object) keeps its line."""
    written = _written.get(str(path))
    known = {} if written is None else {
        id(entry): written[2][slug] for slug, entry in written[1].items()}
    return {slug: known.get(id(entry)) or f"  {_dump(slug)}: {_dump(entry)}"
            for slug, entry in cities.items()}


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _one_city_a_line(report: dict[str, object], city_lines: dict[str, str]) -> str:
    """`report` as JSON, its "cities" one a line (`city_lines`): readable and greppable,
    and written by the C encoder (`indent` falls back to the pure-Python one, which took
    ~10 ms of every one-city build of a 350-city network)."""
    lines = list(city_lines.values())
    members = [f"{_dump(key)}: {_dump(value)}" if key != "cities" else
               '"cities": {' + ("\n" + ",\n".join(lines) + "\n" if lines else "") + "}"
               for key, value in report.items()]
    return "{\n" + ",\n".join(members) + "\n}\n"


def _merged(entry: dict[str, object], previous: object) -> dict[str, object]:
    """A failed build leaves the previous release online: keep what describes that release
    (its publications, when it was published) beside the new errors."""
    if not isinstance(previous, dict):
        previous = {}
    if entry["status"] == "ok":
        entry["online_since"] = entry["built_at"]
    else:
        for kept in ("name", "publications", "last_published", "online_since"):
            entry[kept] = previous.get(kept, entry.get(kept))
    return entry
