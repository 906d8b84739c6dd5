"""What comments on posts and the topics of groups share: their Markdown, made safe; their
length limits; the moderation decision (shown at once, held, or refused); who is trusted
or banned in a city; and the anti-spam checks (honeypot, rate limits).

The Markdown subset is rendered by pyromark, then nh3 keeps a strict allow-list: paragraphs,
line breaks, bold, italics, code, quotes and lists, and links to http(s) or mailto only,
each with `rel="nofollow ugc noopener"`. Anything else a member types as HTML is dropped
(scripts and styles with their content). The HTML is made once, when the text is saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import nh3
import pyromark
from sqlalchemy import Connection, delete, exists, insert, select, update

from avf.service.ratelimit import Limit
from avf.store.schema import city_bans, trusted_commenters

BODY_MAX = 4000  # characters of a comment or a topic
TITLE_MAX = 150  # characters of a topic's title
LINKS_WHEN_NEW = 1  # links an untrusted member may put in one text before it is held
EDIT_WINDOW = timedelta(minutes=15)  # the author may edit or delete for so long
HONEYPOT = "site_web"  # a field people never see; robots fill it in
PER_MEMBER = Limit("discussion-member", attempts=10, window=timedelta(hours=1))
PER_IP = Limit("discussion-ip", attempts=30, window=timedelta(hours=1))

FIRST = "premier message de ce membre"
TOO_MANY_LINKS = "plus de {max} lien(s) dans le message d'un nouveau membre ({count})"
BANNED = ("Les responsables de votre AVF ont suspendu votre droit d'écrire dans l'espace "
          "adhérents. Si c'est une erreur, adressez-vous à eux.")
EMPTY = "Écrivez votre message."
TOO_LONG = "Votre message est trop long : {max} caractères au plus (il en compte {count})."

_ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
_SCHEMES = ("http://", "https://", "mailto:")
_MARKDOWN = pyromark.Markdown(options=pyromark.Options.ENABLE_STRIKETHROUGH)
_LINK = re.compile(r"https?://|mailto:|www\.", re.IGNORECASE)
_BARE_URL = re.compile(r"(?<![\w/\"'=])(https?://[^\s<>\"]*[^\s<>\".,;:!?)»])")
_TAG = re.compile(r"(<[^>]*>)")


class DiscussionRefused(Exception):
    """A text that may not be saved at all; `str(error)` says why, in French."""


@dataclass(frozen=True)
class Decision:
    status: str  # visible | pending
    held_reason: str | None


def render_text(body: str) -> str:
    """The safe HTML of a member's Markdown (the allow-list of the module's docstring)."""
    html = _link_bare_urls(_MARKDOWN.html(body))
    return nh3.clean(html, tags=_ALLOWED_TAGS, clean_content_tags={"script", "style"},
                     attributes={"a": {"href"}}, url_schemes={"http", "https", "mailto"},
                     attribute_filter=_absolute_links_only, strip_comments=True,
                     link_rel="nofollow ugc noopener")


def _absolute_links_only(tag: str, attribute: str, value: str) -> str | None:
    """A link's address must be a full http(s) or mailto address (no relative address,
    which would point into the members' area from a member's text)."""
    if tag == "a" and attribute == "href":
        return value if value.strip().lower().startswith(_SCHEMES) else None
    return value


def _link_bare_urls(html: str) -> str:
    """`https://…` written as plain text becomes a link (outside links and code)."""
    if "http" not in html:
        return html
    parts = _TAG.split(html)
    depth = 0
    for index, part in enumerate(parts):
        if index % 2:
            lowered = part.lower()
            if lowered.startswith(("<a ", "<a>", "<code", "<pre")):
                depth += 1
            elif lowered.startswith(("</a", "</code", "</pre")):
                depth = max(0, depth - 1)
        elif depth == 0 and "http" in part:
            parts[index] = _BARE_URL.sub(r'<a href="\1">\1</a>', part)
    return "".join(parts)


def text_error(body: str, maximum: int = BODY_MAX) -> str | None:
    """Why a typed text cannot be kept as it is (French), or None."""
    if not body.strip():
        return EMPTY
    if len(body) > maximum:
        return TOO_LONG.format(max=maximum, count=len(body))
    return None


def count_links(body: str) -> int:
    return len(_LINK.findall(body))


def decide(connection: Connection, city: str, person_id: int, texts: list[str],
           staff: bool = False) -> Decision:
    """Shown at once, or held with the reason the moderation queue shows; DiscussionRefused
    for a member banned in the city. A trusted member, or the city's staff (its admins,
    the webmaster: they moderate anyway), is never held."""
    if is_banned(connection, city, person_id):
        raise DiscussionRefused(BANNED)
    if staff or is_trusted(connection, city, person_id):
        return Decision("visible", None)
    links = sum(count_links(text) for text in texts)
    if links > LINKS_WHEN_NEW:
        return Decision("pending", TOO_MANY_LINKS.format(max=LINKS_WHEN_NEW, count=links))
    return Decision("pending", FIRST)


def editable(created_at: datetime, now: datetime) -> bool:
    """Whether its author may still change or delete a text written at `created_at`."""
    return now - created_at <= EDIT_WINDOW


# --- Trust and bans -----------------------------------------------------------------------

def is_trusted(connection: Connection, city: str, person_id: int) -> bool:
    return bool(connection.execute(select(exists().where(
        trusted_commenters.c.city == city, trusted_commenters.c.person_id == person_id,
        trusted_commenters.c.revoked_at.is_(None)))).scalar())


def trust(connection: Connection, city: str, person_id: int | None,
          now: datetime | None = None) -> None:
    """The member's next texts in the city are shown at once (their first was approved)."""
    if person_id is None:
        return
    moment = now or datetime.now(UTC)
    changed = connection.execute(update(trusted_commenters).where(
        trusted_commenters.c.city == city, trusted_commenters.c.person_id == person_id,
    ).values(trusted_at=moment, revoked_at=None)).rowcount
    if not changed:
        connection.execute(insert(trusted_commenters).values(
            city=city, person_id=person_id, trusted_at=moment))


def revoke_trust(connection: Connection, city: str, person_id: int,
                 now: datetime | None = None) -> bool:
    """The member's texts wait for a moderator again."""
    return bool(connection.execute(update(trusted_commenters).where(
        trusted_commenters.c.city == city, trusted_commenters.c.person_id == person_id,
        trusted_commenters.c.revoked_at.is_(None),
    ).values(revoked_at=now or datetime.now(UTC))).rowcount)


def trusted_ids(connection: Connection, city: str) -> list[int]:
    return [int(row.person_id) for row in connection.execute(
        select(trusted_commenters.c.person_id).where(
            trusted_commenters.c.city == city, trusted_commenters.c.revoked_at.is_(None)))]


def is_banned(connection: Connection, city: str, person_id: int) -> bool:
    return bool(connection.execute(select(exists().where(
        city_bans.c.city == city, city_bans.c.person_id == person_id))).scalar())


def ban(connection: Connection, city: str, person_id: int, banned_by: int, reason: str,
        now: datetime | None = None) -> bool:
    """The person may no longer comment nor write in the city's groups; False if already."""
    if is_banned(connection, city, person_id):
        return False
    connection.execute(insert(city_bans).values(
        city=city, person_id=person_id, banned_by=banned_by, reason=reason,
        created_at=now or datetime.now(UTC)))
    return True


def unban(connection: Connection, city: str, person_id: int) -> bool:
    return bool(connection.execute(delete(city_bans).where(
        city_bans.c.city == city, city_bans.c.person_id == person_id)).rowcount)


def banned_rows(connection: Connection, city: str) -> list[tuple[int, str, datetime]]:
    """(person id, reason, since) of the city's bans, the latest first."""
    return [(int(row.person_id), row.reason, row.created_at) for row in connection.execute(
        select(city_bans).where(city_bans.c.city == city)
        .order_by(city_bans.c.created_at.desc()))]
