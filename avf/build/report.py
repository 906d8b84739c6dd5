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
    cities: dict[str, object] = {}
    if path.is_file():
        try:
            cities = json.loads(path.read_text(encoding="utf-8")).get("cities", {})
        except (ValueError, AttributeError):
            cities = {}
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
    temporary.write_text(_one_city_a_line(report, report_cities), encoding="utf-8",
                         errors="backslashreplace")
    os.replace(temporary, path)
    return path


def _one_city_a_line(report: dict[str, object], cities: dict[str, object]) -> str:
    """`report` as JSON, its "cities" being `cities`, each city on a line of its own:
    readable and greppable, and written by the C encoder (`indent` falls back to the
    pure-Python one, which took ~10 ms of every one-city build of a 350-city network)."""
    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = [f"  {dump(slug)}: {dump(entry)}" for slug, entry in cities.items()]
    members = [f"{dump(key)}: {dump(value)}" if key != "cities" else
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
