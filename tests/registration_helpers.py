"""Helpers for event registration tests (SQLite and PostgreSQL alike): a city whose build
has events taking registrations, and many members pressing "Je m'inscris" at once over
real HTTP."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
from auth_helpers import add_person, engine_of
from conftest import build, post, serving, write_city
from starlette.applications import Starlette
from starlette.responses import Response

from avf.service.registration_store import counts, standing
from avf.service.sessions import SessionCookie, open_session

OUTING = "/membres/lyon/inscriptions/sortie-annecy"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def build_events(root: Path) -> tuple[Path, Path]:
    """Lyon with: an outing of 5 places far ahead, a past evening, a member-only lunch
    with no limit, and an event without registration."""
    content = root / "content"
    write_city(content, "lyon", {
        "posts/2026-10-01-sortie-annecy.md": post("Sortie à Annecy", date="2026-10-01", extra="""
            event:
              start: 2099-05-09T14:00:00+02:00
              end: 2099-05-09T17:00:00+02:00
              place: "Gare de la Part-Dieu"
              registration: true
              capacity: 5
        """),
        "posts/2026-10-02-soiree-passee.md": post("Soirée passée", date="2026-10-02", extra="""
            event:
              start: 2026-10-20T19:00:00+02:00
              registration: true
              capacity: 30
        """),
        "posts/2026-10-03-dejeuner.md": post("Déjeuner des adhérents", date="2026-10-03",
                                             extra="""
            visibility: members
            event:
              start: 2099-06-12T12:00:00+02:00
              place: "Chez Paul"
              registration: true
        """),
        "posts/2026-10-04-conference.md": post("Conférence", date="2026-10-04", extra="""
            event:
              start: 2099-07-01T18:00:00+02:00
        """),
    })
    write_city(content, "paris")
    output = root / "output"
    assert build(content, output).ok
    return content, output


def signed_in_members(app: Starlette, count: int, city: str = "lyon", prefix: str = "membre",
                      ) -> list[tuple[int, str]]:
    """`count` members of `city`, each with an open session: (person id, cookie value).
    Sessions are opened directly (sessions.open_session, then the cookie the service would
    set), not through `count` sign-in mails: the sign-in flow has its own tests."""
    members = []
    for number in range(count):
        person_id = add_person(app, f"{prefix}{number:02d}@example.org", ("member", city),
                               name=f"{prefix.capitalize()} {number:02d}")
        members.append((person_id, session_cookie(app, person_id)))
    return members


def session_cookie(app: Starlette, person_id: int) -> str:
    """The value of the session cookie of a session opened for the person."""
    with engine_of(app).begin() as connection:
        session_id = open_session(connection, person_id)
    response = Response()
    SessionCookie(app.state.runtime.settings.secret_key, secure=False).set(response, session_id)
    return response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]


def press_at_once(app: Starlette, members: list[tuple[int, str]], path: str = OUTING,
                  ) -> list[int]:
    """Each member, in their own thread and HTTP client, opens the page, then all press
    "Je m'inscris" at the same moment (a barrier), over a real socket; the statuses."""
    barrier = threading.Barrier(len(members))

    def press(cookie: str, port: int) -> int:
        base = f"http://127.0.0.1:{port}"
        with httpx2.Client(base_url=base, cookies={"avf_session": cookie},
                           timeout=30) as client:
            page = client.get(path)
            assert page.status_code == 200, page.text
            token = CSRF_FIELD.search(page.text)
            assert token
            barrier.wait(timeout=30)
            return client.post(path, data={"csrf_token": token.group(1), "action": "inscrire"},
                               headers={"Origin": base}).status_code

    with serving(app) as port, ThreadPoolExecutor(len(members)) as pool:
        return list(pool.map(lambda member: press(member[1], port), members))


def check_no_overbooking(app: Starlette, members: list[tuple[int, str]], capacity: int,
                         ) -> None:
    """Exactly `capacity` registered, the others waiting with positions 1..n."""
    with engine_of(app).connect() as connection:
        registered, waiting = counts(connection, "lyon", "sortie-annecy")
        standings = [standing(connection, "lyon", "sortie-annecy", person_id)
                     for person_id, _ in members]
    assert (registered, waiting) == (capacity, len(members) - capacity)
    assert sum(1 for one in standings if one.status == "registered") == capacity
    assert sorted(one.position for one in standings if one.status == "waiting") == \
        list(range(1, len(members) - capacity + 1))
