"""The events a city takes registrations for, as the build wrote them:
`OUT/members/<city>/events.json` (plugins/avf_visibility), read again only when the file
changes (a `stat` per request otherwise, as home_data.py).

The service never reads the content folder for an event: what the last build published
is what members may register for, with the capacity it published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from avf.content.model import Event
from avf.service.build_files import BuildFileCache

EVENTS_DATA = "events.json"  # plugins/avf_visibility MEMBERS_EVENTS_DATA
VERSION = 1  # plugins/avf_visibility EVENTS_DATA_VERSION


@dataclass(frozen=True)
class RegistrableEvent:
    city: str
    slug: str
    title: str
    event: Event  # start, end, place, capacity (None: no limit)
    url: str  # a path from the site's root: /lyon/actualites/x.html
    members_only: bool

    @property
    def capacity(self) -> int | None:
        return self.event.capacity

    def is_open(self, now: datetime) -> bool:
        """Registrations and cancellations close when the event starts."""
        return self.event.start > now


class EventsData:
    """The registrable events of every city under `members_dir` (OUT/members)."""

    def __init__(self, members_dir: Path):
        self.members_dir = members_dir
        self._files = BuildFileCache(members_dir, EVENTS_DATA, parse_events)

    def get(self, city: str) -> dict[str, RegistrableEvent]:
        """The city's registrable events by slug; empty when never built or unreadable."""
        return self._files.get(city) or {}

    def event(self, city: str, slug: str) -> RegistrableEvent | None:
        return self.get(city).get(slug)

    def cities(self) -> list[str]:
        """The cities whose build wrote an events file (for the reminder pass)."""
        return self._files.cities()


def parse_events(city: str, data: dict[str, object]) -> dict[str, RegistrableEvent]:
    """The events of events.json's data by slug; ValueError for another version."""
    if data.get("version") != VERSION:
        raise ValueError(f"events.json version {data.get('version')!r}, expected {VERSION}")
    events = {}
    for item in data["events"]:  # type: ignore[attr-defined]
        capacity = item["capacity"]
        events[str(item["slug"])] = RegistrableEvent(
            city=city, slug=str(item["slug"]), title=str(item["title"]), url=str(item["url"]),
            members_only=item["visibility"] == "members",
            event=Event(start=datetime.fromisoformat(item["start"]),
                        end=datetime.fromisoformat(item["end"]) if item["end"] else None,
                        all_day=bool(item["all_day"]), place=item["place"] or None,
                        registration=True,
                        capacity=int(capacity) if capacity is not None else None))
    return events
