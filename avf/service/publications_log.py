"""What the builds published, as the news mails see it (table `publications`).

The service learns of new posts by reading what a build wrote, never the content: what is
online is what a member can open from a mail. Three sources per pass:

- each city's public feed, `OUT/public/<city>/atom.xml` (titles, links, dates, summaries:
  `avf_feeds` keeps summaries only);
- each city's member-only posts, `OUT/members/<city>/home.json` (`avf_visibility`);
- the network's broadcast news: entries of the portal's feed `OUT/public/atom.xml` whose
  post is marked `broadcast: true` in `content/_network/posts/` (the portal's feed has
  every network post; the flag is only in the content), recorded under city `_network`.

`PublicationsLog.scan(now)` may be called by any process, as often as wanted: a file is
read again only when its (mtime, size, inode) changed — a release swap gives new inodes —
so a pass over 350 unchanged cities costs ~700 `stat`s. The service calls it after each
build and from its hourly housekeeping, which also catches command-line and cron builds.

Only *news* is recorded: a post dated more than `RECENT` before it is first seen is not
(the first scan of a network that has years of posts mails none of them, and neither
does a post back-dated by its author). URLs are stored as paths from the site's root, so
mails link through the service's own public address whatever the build's site URL was.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from avf.content import load_network
from avf.content.model import RESERVED_SLUGS, SLUG_PATTERN
from avf.store.schema import publications

log = logging.getLogger(__name__)

NETWORK = "_network"  # the `city` of the network's broadcast news
RECENT = timedelta(days=7)  # older than this when first seen: not news
ATOM = "{http://www.w3.org/2005/Atom}"
TITLE_MAX = 300  # the column's size
SUMMARY_MAX = 1000  # a summary is a line or two; a longer one is cut
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Publication:
    city: str
    url: str  # a path from the site's root
    title: str
    summary: str
    visibility: str  # public | members
    published_on: datetime


Source = tuple[tuple[str, str], Path, Callable[[Path], list[Publication]]]  # key, file, reader


class PublicationsLog:
    """Scans a build output for new publications. One per process (it remembers which
    files it already read); thread-safe."""

    def __init__(self, engine: Engine, output_dir: Path, content_dir: Path):
        self.engine = engine
        self.output_dir = output_dir
        self.content_dir = content_dir
        self._stamps: dict[tuple[str, str], tuple[int, int, int]] = {}
        self._lock = threading.Lock()

    def scan(self, now: datetime | None = None) -> int:
        """Record what was published since the files were last read; return how many new
        publications were recorded."""
        moment = now or datetime.now(UTC)
        with self._lock:
            added = 0
            for key, path, reader in self._sources():
                stamp = _stamp(path)
                if stamp is None or self._stamps.get(key) == stamp:
                    continue
                try:
                    found = reader(path)
                except (OSError, ValueError, ElementTree.ParseError) as error:
                    log.warning("publications: %s unreadable (%s)", path, error)
                    continue
                try:
                    added += self._record(found, moment)
                except IntegrityError:  # another process recorded them at the same time
                    continue  # the stamp is not kept: read again next pass
                self._stamps[key] = stamp
            return added

    def _sources(self) -> list[Source]:
        public = self.output_dir / "public"
        members = self.output_dir / "members"
        sources: list[Source] = []
        for folder in sorted(_city_folders(public)):
            sources.append(((folder.name, "public"), folder / "atom.xml",
                            lambda path, city=folder.name: _public_posts(city, path)))
        for folder in sorted(_city_folders(members)):
            sources.append(((folder.name, "members"), folder / "home.json",
                            lambda path, city=folder.name: _member_posts(city, path)))
        sources.append(((NETWORK, "public"), public / "atom.xml", self._broadcast_news))
        return sources

    def _broadcast_news(self, path: Path) -> list[Publication]:
        network = load_network(self.content_dir)
        broadcast = {f"{doc.slug}.html" for doc in network.published("post")
                     if doc.broadcast and not doc.is_members_only}
        return [replace_city(item, NETWORK) for item in _public_posts(NETWORK, path)
                if item.url.rsplit("/", 1)[-1] in broadcast]

    def _record(self, found: list[Publication], now: datetime) -> int:
        fresh = [item for item in found if item.published_on >= now - RECENT]
        if not fresh:
            return 0
        with self.engine.begin() as connection:
            cities = {item.city for item in fresh}
            known = {tuple(row) for row in connection.execute(
                select(publications.c.city, publications.c.url)
                .where(publications.c.city.in_(cities)))}
            new = [item for item in fresh if (item.city, item.url) not in known]
            for item in new:
                connection.execute(insert(publications).values(
                    city=item.city, url=item.url, title=item.title[:TITLE_MAX],
                    summary=item.summary[:SUMMARY_MAX], visibility=item.visibility,
                    published_on=item.published_on, seen_at=now))
        return len(new)


def replace_city(item: Publication, city: str) -> Publication:
    return Publication(city, item.url, item.title, item.summary, item.visibility,
                       item.published_on)


def _city_folders(root: Path) -> list[Path]:
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    return [entry for entry in entries if SLUG_PATTERN.match(entry.name)
            and entry.name not in RESERVED_SLUGS and entry.is_dir()]


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino)


def _public_posts(city: str, path: Path) -> list[Publication]:
    """The entries of a summary-only Atom feed written by Pelican."""
    root = ElementTree.parse(path).getroot()
    found = []
    for entry in root.iter(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        if link is None:
            link = entry.find(f"{ATOM}link")
        date = entry.findtext(f"{ATOM}published") or entry.findtext(f"{ATOM}updated")
        title = (entry.findtext(f"{ATOM}title") or "").strip()
        if link is None or not link.get("href") or not date or not title:
            continue
        found.append(Publication(
            city=city, url=_path_of(link.get("href", "")), title=title,
            summary=_plain(entry.findtext(f"{ATOM}summary") or ""), visibility="public",
            published_on=_aware(date)))
    return found


def _member_posts(city: str, path: Path) -> list[Publication]:
    """The member-only posts listed by `avf_visibility` in the city's `home.json`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for post in data.get("posts", []):
        if not post.get("url") or not post.get("title") or not post.get("date"):
            continue
        found.append(Publication(
            city=city, url=_path_of(str(post["url"])), title=str(post["title"]).strip(),
            summary=_plain(str(post.get("summary") or "")), visibility="members",
            published_on=_aware(str(post["date"]))))
    return found


def _path_of(url: str) -> str:
    """`http://host/lyon/actualites/a.html` → `/lyon/actualites/a.html`."""
    parts = urlsplit(url)
    return parts.path if parts.path.startswith("/") else f"/{parts.path}"


def _plain(html: str) -> str:
    """A summary's text: Atom summaries are HTML (`type="html"`)."""
    return " ".join(unescape(_TAGS.sub(" ", html)).split())


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
