"""Helpers for tests of the signed-in service: a browser-like client, people with roles,
and the real sign-in flow (form → outbox or SMTP → link → button)."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy import Engine, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service.accounts import find_or_create_person, grant_role
from avf.store.schema import outbox

SITE = "http://avf.test"
SAME_SITE = {"Origin": SITE}
LINK = re.compile(r"https?://avf\.test(/compte/lien/[A-Za-z0-9_-]+)")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser(app: Starlette, ip: str = "203.0.113.7", base_url: str = SITE) -> TestClient:
    """A client that keeps cookies, like a browser, from the address `ip`."""
    return TestClient(app, base_url=base_url, client=(ip, 50000), follow_redirects=False)


def engine_of(app: Starlette) -> Engine:
    return app.state.runtime.engine  # type: ignore[no-any-return]


def add_person(app: Starlette, email: str, *roles: tuple[str, str], name: str = "") -> int:
    """A person with `roles` ((role, city) pairs; city "" for the webmaster)."""
    with engine_of(app).begin() as connection:
        person_id, _ = find_or_create_person(connection, email, name)
        for role, city in roles:
            grant_role(connection, person_id, role, city)
    return person_id


def csrf_token(client: TestClient, page: str = "/compte/connexion") -> str:
    """The form token of a page (the client gets its CSRF cookie on the way)."""
    found = CSRF_FIELD.search(client.get(page).text)
    assert found, f"no csrf_token field on {page}"
    return found.group(1)


def ask_for_link(client: TestClient, email: str, next_path: str = "",
                 headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    return client.post("/compte/connexion", headers=SAME_SITE if headers is None else headers,
                       data={"email": email, "csrf_token": token, "suivant": next_path})


def send_pending_links(app: Starlette) -> int:
    """Do the link requests the app queued (its workers are off in most tests)."""
    return app.state.link_sender.send_pending()  # type: ignore[no-any-return]


def link_in_outbox(app: Starlette, email: str) -> str:
    """The path of the newest sign-in link queued for `email`."""
    send_pending_links(app)
    with engine_of(app).connect() as connection:
        body = connection.execute(
            select(outbox.c.body_text).where(outbox.c.to_address == email,
                                             outbox.c.kind == "login_link")
            .order_by(outbox.c.id.desc())).scalar()
    assert body, f"no sign-in mail queued for {email}"
    return link_in_text(body)


def link_in_mail(message: EmailMessage) -> str:
    """The sign-in link's path in a received mail (its text part), checked against the
    HTML part."""
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    path = link_in_text(text)
    assert f'href="{SITE}{path}"' in html
    return path


def link_in_text(text: str) -> str:
    found = LINK.search(text)
    assert found, "no sign-in link in the mail"
    return found.group(1)


def use_link(client: TestClient, path: str):  # type: ignore[no-untyped-def]
    """Open the emailed link, then press its "Me connecter" button."""
    page = client.get(path)
    found = CSRF_FIELD.search(page.text)
    token = found.group(1) if found else csrf_token(client)
    return client.post(path, headers=SAME_SITE, data={"csrf_token": token})


def sign_in(client: TestClient, app: Starlette, email: str, next_path: str = "") -> str:
    """Sign `client` in through the real flow (the mail read from the outbox); return the
    path it was sent to."""
    assert ask_for_link(client, email, next_path).status_code == 200
    response = use_link(client, link_in_outbox(app, email))
    assert response.status_code == 303, response.text
    return str(response.headers["location"])
