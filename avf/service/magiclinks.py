"""Sign-in links (table `login_tokens`): a random token is emailed, only its SHA-256 is
kept; it works for LIFETIME, once.

Opening the link only shows a confirmation page: the token is spent by the POST of its
"Me connecter" button, so the mail scanners and link previews that fetch every URL of a
message never use it up.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, insert, select, update

from avf.store.schema import login_tokens

LIFETIME = timedelta(minutes=15)
INVITATION_LIFETIME = timedelta(days=7)  # an invitation to join a city, or to move
KEPT_AFTER_EXPIRY = timedelta(days=1)  # spent tokens stay this long, then are removed
MAX_NEXT_PATH = 500  # characters, the size of the column


@dataclass(frozen=True)
class RedeemedLink:
    person_id: int
    next_path: str


def issue_link_token(connection: Connection, person_id: int, next_path: str = "/",
                     now: datetime | None = None, lifetime: timedelta = LIFETIME) -> str:
    """A new single-use token for the person (to put in the emailed link). A sign-in link
    lives LIFETIME; an invitation (INVITATION_LIFETIME) longer, since it waits in a mailbox
    until its reader comes."""
    moment = now or datetime.now(UTC)
    connection.execute(delete(login_tokens).where(
        login_tokens.c.expires_at < moment - KEPT_AFTER_EXPIRY))
    token = secrets.token_urlsafe(32)
    connection.execute(insert(login_tokens).values(
        token_hash=_digest(token), person_id=person_id, next_path=local_path(next_path),
        created_at=moment, expires_at=moment + lifetime))
    return token


def link_is_usable(connection: Connection, token: str, now: datetime | None = None) -> bool:
    """Whether the token exists, is unused and unexpired (without spending it)."""
    moment = now or datetime.now(UTC)
    return connection.execute(select(login_tokens.c.person_id).where(
        login_tokens.c.token_hash == _digest(token), login_tokens.c.used_at.is_(None),
        login_tokens.c.expires_at > moment)).first() is not None


def redeem_link_token(connection: Connection, token: str,
                      now: datetime | None = None) -> RedeemedLink | None:
    """Spend the token: who it signs in and where they go next, or None if it is unknown,
    used or expired. Marked used by one conditional UPDATE, so two clicks racing each
    other cannot both succeed."""
    moment = now or datetime.now(UTC)
    digest = _digest(token)
    spent = connection.execute(update(login_tokens).where(
        login_tokens.c.token_hash == digest, login_tokens.c.used_at.is_(None),
        login_tokens.c.expires_at > moment).values(used_at=moment))
    if spent.rowcount != 1:
        return None
    row = connection.execute(select(login_tokens.c.person_id, login_tokens.c.next_path)
                             .where(login_tokens.c.token_hash == digest)).one()
    return RedeemedLink(person_id=int(row.person_id), next_path=local_path(row.next_path))


def local_path(candidate: str | None) -> str:
    """`candidate` if it is a path of this site ("/membres/lyon/"), else "/": a sign-in
    link must never send anyone to another site (`//evil.example`, `https://…`, `/\\evil`)."""
    if not candidate or len(candidate) > MAX_NEXT_PATH or not candidate.startswith("/") \
            or candidate.startswith("//") or "\\" in candidate \
            or any(ord(character) < 33 or ord(character) == 127 for character in candidate):
        return "/"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return "/"
    return candidate


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
