"""What a city's members' home shows, as the build wrote it: `OUT/members/<city>/home.json`
(plugins/avf_visibility), read again only when the city's release or the file changes.

The build knows the city's member-only posts and pages and its events; the service only
reads its summary, never the content folder, so a members' home costs a `stat` when
nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from avf.content.model import Event
from avf.service.build_files import BuildFileCache

HOME_DATA = "home.json"  # plugins/avf_visibility MEMBERS_HOME_DATA
VERSION = 1  # plugins/avf_visibility HOME_DATA_VERSION


@dataclass(frozen=True)
class MemberPost:
    title: str
    date: datetime
    summary: str
    url: str  # a path from the site's root: /membres/lyon/actualites/x.html


@dataclass(frozen=True)
class MemberPage:
    title: str
    url: str


@dataclass(frozen=True)
class CityEvent:
    title: str
    event: Event  # for the theme's `event_when` filter
    url: str
    members_only: bool


@dataclass(frozen=True)
class MembersHome:
    members_url: str  # /membres/lyon/
    posts: tuple[MemberPost, ...]  # newest first
    pages: tuple[MemberPage, ...]  # in menu order
    events: tuple[CityEvent, ...]  # by start; not over when the city was built

    def upcoming(self, now: datetime) -> list[CityEvent]:
        """The events not over at `now` (the city is rebuilt when one passes, but a page
        asked for in between must not show it)."""
        return [item for item in self.events if item.event.finishes > now]


class HomeData(BuildFileCache[MembersHome]):
    """The members' homes of `members_dir` (OUT/members), each parsed once per version."""

    def __init__(self, members_dir: Path):
        super().__init__(members_dir, HOME_DATA, lambda _city, data: parse_home(data))


def parse_home(data: dict[str, object]) -> MembersHome:
    """A MembersHome from home.json's data; ValueError for another version."""
    if data.get("version") != VERSION:
        raise ValueError(f"home.json version {data.get('version')!r}, expected {VERSION}")
    posts = tuple(MemberPost(title=str(post["title"]),
                             date=datetime.fromisoformat(post["date"]),
                             summary=str(post.get("summary") or ""), url=str(post["url"]))
                  for post in data["posts"])  # type: ignore[attr-defined]
    pages = tuple(MemberPage(title=str(page["title"]), url=str(page["url"]))
                  for page in data["pages"])  # type: ignore[attr-defined]
    events = tuple(
        CityEvent(title=str(item["title"]), url=str(item["url"]),
                  members_only=item["visibility"] == "members",
                  event=Event(start=datetime.fromisoformat(item["start"]),
                              end=datetime.fromisoformat(item["end"]) if item["end"] else None,
                              all_day=bool(item["all_day"]), place=item["place"] or None))
        for item in data["events"])  # type: ignore[attr-defined]
    return MembersHome(members_url=str(data["members_url"]), posts=posts, pages=pages,
                       events=events)
