"""What a discussion is about: a post of a city (as the last build published it) or a
group's topic. The service never reads the content folder for this: a post may be
commented once it is online, and only where it is online.

A member-only post is `OUT/members/<city>/actualites/<slug>.html`; a public post is
`OUT/public/<city>/actualites/<slug>.html`, and takes comments only when the city's card
says `comments_on_public_posts: true`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from avf.content.model import SLUG_PATTERN, City
from avf.service.groups import group_by_id, is_moderator, load_topic
from avf.service.people import Person

_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
HEAD_BYTES = 20_000  # the post's title is in its first bytes


@dataclass(frozen=True)
class PostRef:
    slug: str
    title: str
    url: str  # the post's page, from the site's root
    members_only: bool


@dataclass(frozen=True)
class ThreadRef:
    title: str
    url: str  # where the thread is read (the service's page), from the site's root


def find_post(output_dir: Path, city: City, slug: str) -> PostRef | None:
    """The built post `slug` of the city, if it takes comments; None otherwise."""
    if not SLUG_PATTERN.match(slug):
        return None
    member_file = _inside(output_dir / "members" / city.slug, f"actualites/{slug}.html")
    if member_file is not None:
        return PostRef(slug, _title(member_file, slug),
                       f"/membres/{city.slug}/actualites/{slug}.html", True)
    if not city.comments_on_public_posts:
        return None
    public_file = _inside(output_dir / "public" / city.slug, f"actualites/{slug}.html")
    if public_file is None:
        return None
    return PostRef(slug, _title(public_file, slug), f"/{city.slug}/actualites/{slug}.html",
                   False)


def thread_ref(connection: Connection, output_dir: Path, city: City,
               target: str) -> ThreadRef | None:
    """The title and page of a comment's thread (for mails and the moderation queue)."""
    kind, _, key = target.partition(":")
    if kind == "post":
        post = find_post(output_dir, city, key)
        if post is None:
            return None
        return ThreadRef(post.title, f"/membres/{city.slug}/commentaires/{post.slug}")
    if kind == "topic" and key.isdigit():
        topic = load_topic(connection, int(key))
        group = group_by_id(connection, topic.group_id) if topic else None
        if topic is None or group is None or group.city != city.slug:
            return None
        return ThreadRef(topic.title,
                         f"/membres/{city.slug}/groupes/{group.slug}/sujets/{topic.id}")
    return None


def _inside(area: Path, relative: str) -> Path | None:
    """The file, if it exists inside `area` once links are resolved."""
    try:
        root = area.resolve()
        target = (root / relative).resolve()
    except OSError:
        return None
    return target if target.is_relative_to(root) and target.is_file() else None


def _title(page: Path, slug: str) -> str:
    """The post's title, as its page's heading shows it (our own build wrote it)."""
    with page.open("rb") as stream:
        head = stream.read(HEAD_BYTES).decode("utf-8", "replace")
    found = _HEADING.search(head)
    if found is None:
        return slug
    return html.unescape(_TAGS.sub("", found.group(1))).strip() or slug


def topic_group_id(connection: Connection, target: str) -> int | None:
    """The group a "topic:<id>" thread belongs to; None for a post's thread."""
    kind, _, key = target.partition(":")
    if kind != "topic" or not key.isdigit():
        return None
    topic = load_topic(connection, int(key))
    return topic.group_id if topic else None


def may_moderate(connection: Connection, person: Person, city: str, target: str) -> bool:
    """A city's admins moderate everything in it; a group's moderators, their group's
    topics and replies only."""
    if person.can("admin", city):
        return True
    group_id = topic_group_id(connection, target)
    return group_id is not None and is_moderator(connection, group_id, person.id)
