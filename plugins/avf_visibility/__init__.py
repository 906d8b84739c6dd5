"""Split member-only posts and pages away from the public site.

A `visibility: members` post is taken out of every public list before Pelican builds tags,
archives, feeds and the home page, and is written under AVF_MEMBERS_OUTPUT instead
(OUT/members/<city>/), which only the companion service serves, to signed-in members.

Beside them goes `home.json`, what the service's members' home of the city shows (its
member-only posts and pages, its next events), so that page reads one small file instead
of parsing the city's content on each request. It lies under OUT/members like the posts
it lists: member-only data never reaches the public half of a release.

And `events.json`: the city's events that take registrations (public or member-only, past
ones too, so that organisers keep their lists), for the service's registration pages.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pelican import signals
from pelican.writers import Writer

MEMBERS_INDEX_TEMPLATE = "members_index"
MEMBERS_HOME_DATA = "home.json"  # read by avf/service/members_home.py
HOME_DATA_VERSION = 1
MEMBERS_EVENTS_DATA = "events.json"  # read by avf/service/event_data.py
EVENTS_DATA_VERSION = 1


def is_members_only(content: Any) -> bool:
    return getattr(content, "visibility", "public") == "members"


def split_articles(generator: Any) -> None:
    """Before taxonomies are built: keep only public articles in the public lists."""
    generator.avf_members_articles = [a for a in generator.articles if is_members_only(a)]
    generator.articles = [a for a in generator.articles if not is_members_only(a)]
    generator.context["AVF_MEMBERS_COUNT"] = len(generator.avf_members_articles)


def split_pages(generator: Any) -> None:
    """After pages are read: same split; the context shares the list, so edit it in place."""
    generator.avf_members_pages = [p for p in generator.pages if is_members_only(p)]
    generator.pages[:] = [p for p in generator.pages if not is_members_only(p)]
    generator.context["avf_members_pages"] = generator.avf_members_pages


def write_members_articles(generator: Any, writer: Any) -> None:
    articles = getattr(generator, "avf_members_articles", [])
    members_writer = _members_writer(generator)
    for article in articles:
        members_writer.write_file(
            article.save_as, generator.get_template(article.template), generator.context,
            article=article, category=getattr(article, "category", None),
            url=article.url, blog=True, members_area=True,
        )
    pages = generator.context.get("avf_members_pages", [])
    members_writer.write_file(
        "index.html", generator.get_template(MEMBERS_INDEX_TEMPLATE), generator.context,
        members_articles=articles, members_pages=pages, members_area=True,
    )
    if generator.settings.get("AVF_CITY"):  # a city, not the portal
        write_home_data(generator, articles, pages)
        write_events_data(generator, articles)


def write_home_data(generator: Any, articles: list[Any], pages: list[Any]) -> None:
    """OUT/members/<city>/home.json: member-only posts (newest first) and pages, and the
    events not over at build time, public and member-only (by start). URLs are paths from
    the site's root; times are ISO 8601 with their offset. Sorted keys and stable order:
    the same content gives the same bytes (build/objects.py stores each version once)."""
    settings = generator.settings
    fixed = settings.get("AVF_NOW")  # as avf_agenda: reproducible tests
    now = datetime.fromisoformat(fixed) if fixed else datetime.now(UTC)
    members_root = urlsplit(settings["AVF_MEMBERS_URL"]).path.rstrip("/")
    path_of = _path_of(settings)
    events = sorted((a for a in [*generator.articles, *articles]
                     if getattr(a, "event", None) is not None and a.event.finishes > now),
                    key=lambda a: (a.event.start, a.slug))
    data = {
        "version": HOME_DATA_VERSION,
        "city": settings["AVF_CITY"]["slug"],
        "members_url": f"{members_root}/",
        "posts": [{"title": a.title, "date": a.date.isoformat(), "url": path_of(a),
                   "summary": a.metadata.get("summary") or ""}
                  for a in sorted(articles, key=lambda a: (a.date, a.slug), reverse=True)],
        "pages": [{"title": p.title, "url": path_of(p)}
                  for p in sorted(pages, key=lambda p: (getattr(p, "order", 1000),
                                                        p.title.lower()))],  # as the menu
        "events": [{"title": a.title, "start": a.event.start.isoformat(),
                    "end": a.event.end.isoformat() if a.event.end else None,
                    "all_day": a.event.all_day, "finishes": a.event.finishes.isoformat(),
                    "place": a.event.place or "", "url": path_of(a),
                    "visibility": "members" if is_members_only(a) else "public"}
                   for a in events],
    }
    _write_json(settings, MEMBERS_HOME_DATA, data)


def write_events_data(generator: Any, articles: list[Any]) -> None:
    """OUT/members/<city>/events.json: every event post with `registration: true`, public
    or member-only, past ones included (by start), with what the service's registration
    pages need; the same content gives the same bytes, as home.json."""
    settings = generator.settings
    path_of = _path_of(settings)
    events = sorted((a for a in [*generator.articles, *articles]
                     if getattr(a, "event", None) is not None and a.event.registration),
                    key=lambda a: (a.event.start, a.slug))
    data = {
        "version": EVENTS_DATA_VERSION,
        "city": settings["AVF_CITY"]["slug"],
        "events": [{"slug": a.slug, "title": a.title, "start": a.event.start.isoformat(),
                    "end": a.event.end.isoformat() if a.event.end else None,
                    "all_day": a.event.all_day, "place": a.event.place or "",
                    "capacity": a.event.capacity, "url": path_of(a),
                    "visibility": "members" if is_members_only(a) else "public"}
                   for a in events],
    }
    _write_json(settings, MEMBERS_EVENTS_DATA, data)


def _path_of(settings: dict[str, Any]) -> Any:
    """A content's URL as a path on the network's host, where the service shows it: a
    public page by its sub-path (`/lyon/…`), even when the city has a domain of its own."""
    network_root = urlsplit(settings["SITE_BASE_URL"]).path.rstrip("/")
    public_root = f"{network_root}/{settings['AVF_CITY']['slug']}"

    def path_of(content: Any) -> str:
        if is_members_only(content):
            return urlsplit(content.url).path  # already under AVF_MEMBERS_URL
        return f"{public_root}/{content.url}"

    return path_of


def _write_json(settings: dict[str, Any], name: str, data: dict[str, Any]) -> None:
    output = Path(settings["AVF_MEMBERS_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    (output / name).write_text(
        json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n",
        encoding="utf-8")


def write_members_pages(generator: Any, writer: Any) -> None:
    members_writer = _members_writer(generator)
    for page in getattr(generator, "avf_members_pages", []):
        members_writer.write_file(
            page.save_as, generator.get_template(page.template), generator.context,
            page=page, url=page.url, members_area=True,
        )


def _members_writer(generator: Any) -> Writer:
    output = Path(generator.settings["AVF_MEMBERS_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    return Writer(str(output), settings=generator.settings)


def register() -> None:
    signals.article_generator_pretaxonomy.connect(split_articles)
    signals.page_generator_finalized.connect(split_pages)
    signals.page_writer_finalized.connect(write_members_pages)
    signals.article_writer_finalized.connect(write_members_articles)
