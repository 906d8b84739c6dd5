"""Who is asking: the signed-in person of each request, in `request.state.person`.

A middleware rather than a dependency each handler calls, so that every page — error
pages included — knows who is signed in, and no handler can forget to look. The person's
roles are read from the store on every request: a role taken away counts from the next
click. A visitor without a (validly signed) session cookie costs no query at all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from avf.service.accounts import load_person, note_seen
from avf.service.people import Person
from avf.service.sessions import COOKIE, SessionCookie, find_session


class PersonMiddleware:
    """Sets `request.state.person` (a Person, or None when signed out) and
    `request.state.session_id` (the open session's id, or None)."""

    def __init__(self, app: ASGIApp, engine: Engine, cookie: SessionCookie):
        self.app = app
        self.engine = engine
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session_id = self.cookie.session_id(Request(scope).cookies.get(COOKIE))
        person = None
        if session_id is not None:
            person = await run_in_threadpool(self.signed_in, session_id)
        state = scope.setdefault("state", {})
        state["person"] = person
        state["session_id"] = session_id if person is not None else None
        await self.app(scope, receive, send)

    def signed_in(self, session_id: str, now: datetime | None = None) -> Person | None:
        """The person of an open session, roles as they are now; noted as seen."""
        moment = now or datetime.now(UTC)
        with self.engine.begin() as connection:
            session = find_session(connection, session_id, moment)
            if session is None:
                return None
            note_seen(connection, session.person_id, session.last_seen_at, moment)
            return load_person(connection, session.person_id)
