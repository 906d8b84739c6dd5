"""Helpers for the tests of the members' directory, relay and profile: a service with two
cities (Lyon, Paris), people in them, and their forms filled in as a browser does."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

from auth_helpers import CSRF_FIELD, SAME_SITE, add_person, browser, engine_of, sign_in
from conftest import SmtpCapture, service_settings, write, write_city
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service import create_app
from avf.service.profiles import ProfileEdit, save_profile

# Any email address, however written (a page must show none of other people's).
ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40|&#64;|&#x40;)[A-Za-z0-9-]+\.[A-Za-z0-9.-]+")


@contextmanager
def members_service(tmp_path: Path, smtp: SmtpCapture) -> Iterator[Starlette]:
    """The service for a network of Lyon and Paris, its workers stopped (tests send the
    outbox by hand with `deliver`)."""
    content = tmp_path / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon")
    write_city(content, "paris")
    app = create_app(service_settings(tmp_path, content, smtp, run_workers=False))
    with browser(app):  # the lifespan: migrations
        yield app


def member(app: Starlette, email: str, city: str = "lyon", name: str = "",
           listed: bool = False, role: str = "member", about: str = "",
           interests: str = "", languages: str = "") -> int:
    """A person holding `role` in `city`, with a profile (listed in the directory if
    `listed`)."""
    person_id = add_person(app, email, (role, city), name=name)
    with engine_of(app).begin() as connection:
        save_profile(connection, person_id, ProfileEdit(
            display_name=name, about=about, interests=interests, languages=languages,
            phone="", in_directory=listed, news_by_email=False))
    return person_id


def signed_in(app: Starlette, email: str, ip: str = "203.0.113.7") -> TestClient:
    """A browser signed in as `email` through the real flow."""
    client = browser(app, ip=ip)
    sign_in(client, app, email)
    return client


def submit(client: TestClient, page: str, data: dict[str, str], action: str | None = None,
           files: dict[str, tuple[str, bytes, str]] | None = None):  # type: ignore[no-untyped-def]
    """Open `page`, take its form token, post `data` to `action` (default: the page)."""
    found = CSRF_FIELD.search(client.get(page).text)
    assert found, f"no form token on {page}"
    return client.post(action or page, headers=SAME_SITE,
                       data={**data, "csrf_token": found.group(1)}, files=files)


def deliver(app: Starlette, smtp: SmtpCapture, expected: int) -> list[EmailMessage]:
    """Send what the outbox holds over real SMTP; the mails received so far, but the
    sign-in links of the tests' own sign-ins."""
    app.state.runtime.mail.send_due()
    deadline = time.monotonic() + 10
    while True:
        received = [mail for mail in smtp.messages
                    if mail["Subject"] != "Votre lien de connexion au site AVF"]
        if len(received) >= expected or time.monotonic() > deadline:
            return received
        time.sleep(0.02)


def addresses_in(text: str) -> set[str]:
    return set(ADDRESS.findall(text))
