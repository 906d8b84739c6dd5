"""Sessions (table `sessions`): a random id in a signed cookie, only its SHA-256 in the
store, so neither a stolen database nor a forged cookie opens a session.

The signature (itsdangerous, keyed by the service's secret) lets a tampered or invented
cookie be ignored without a database query; the row is what makes a session valid: it
expires after LIFETIME and is revoked by signing out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import Connection, delete, insert, select, update
from starlette.responses import Response

from avf.store.schema import people, sessions

COOKIE = "avf_session"
LIFETIME = timedelta(days=30)
MAX_COOKIE = 200  # characters: a signed id is ~70; anything longer is not ours


@dataclass(frozen=True)
class OpenSession:
    person_id: int
    last_seen_at: datetime | None


class SessionCookie:
    """Writes, reads and clears the session cookie: HttpOnly, SameSite=Lax, Path=/, and
    Secure in production."""

    def __init__(self, secret: str, secure: bool):
        self._signer = Signer(secret, salt="avf-session", digest_method=hashlib.sha256)
        self.secure = secure

    def session_id(self, cookie: str | None) -> str | None:
        """The session id in a cookie we signed, or None (absent, tampered, invented)."""
        if not cookie or len(cookie) > MAX_COOKIE:
            return None
        try:
            return self._signer.unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    def set(self, response: Response, session_id: str) -> None:
        response.set_cookie(COOKIE, self._signer.sign(session_id).decode("ascii"),
                            max_age=int(LIFETIME.total_seconds()), path="/",
                            secure=self.secure, httponly=True, samesite="lax")

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", secure=self.secure, httponly=True,
                               samesite="lax")


def open_session(connection: Connection, person_id: int, now: datetime | None = None) -> str:
    """A new session for the person; return its id (for the cookie, never stored)."""
    moment = now or datetime.now(UTC)
    connection.execute(delete(sessions).where(sessions.c.expires_at < moment))
    session_id = secrets.token_urlsafe(32)
    connection.execute(insert(sessions).values(
        id_hash=_digest(session_id), person_id=person_id, created_at=moment,
        expires_at=moment + LIFETIME))
    return session_id


def find_session(connection: Connection, session_id: str,
                 now: datetime | None = None) -> OpenSession | None:
    """Whose session this is, if it is neither expired nor revoked."""
    moment = now or datetime.now(UTC)
    row = connection.execute(
        select(sessions.c.person_id, people.c.last_seen_at)
        .join(people, people.c.id == sessions.c.person_id)
        .where(sessions.c.id_hash == _digest(session_id), sessions.c.revoked_at.is_(None),
               sessions.c.expires_at > moment)).first()
    if row is None:
        return None
    return OpenSession(person_id=int(row.person_id), last_seen_at=row.last_seen_at)


def revoke_session(connection: Connection, session_id: str, now: datetime | None = None) -> bool:
    """End a session (signing out); False if it was not open."""
    return bool(connection.execute(
        update(sessions).where(sessions.c.id_hash == _digest(session_id),
                               sessions.c.revoked_at.is_(None))
        .values(revoked_at=now or datetime.now(UTC))).rowcount)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()
