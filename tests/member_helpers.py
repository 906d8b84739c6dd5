"""Helpers for the tests of the members' administration and join requests: a really built
network of two cities with member-only pages, a service over it, forms posted the way a
browser does, and the mails the real SMTP server received."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

from auth_helpers import SAME_SITE, browser, csrf_token, engine_of
from conftest import (
    CITY_YAML,
    SmtpCapture,
    build,
    post,
    service_settings,
    write,
    write_city,
)
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service import create_app

MEMBERS_POST = "/membres/lyon/actualites/compte-rendu-de-l-assemblee.html"
SECRET = "Le budget de la sortie à Annecy"
LYON_WELCOME = "accueil@avf-lyon.example.org"
LYON_CARD = (CITY_YAML.format(slug="lyon", title="Lyon")
             + 'opening_hours:\n  - "mardi 14 h – 17 h"\n')


def build_two_cities(root: Path) -> tuple[Path, Path]:
    """Content and output of a network of Lyon (a member-only post) and Paris."""
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café d'accueil"),
        "posts/2026-10-02-compte-rendu-de-l-assemblee.md": post(
            "Compte rendu de l'assemblée", extra="visibility: members",
            body=f"{SECRET} est voté."),
    }, card=LYON_CARD)
    write_city(content, "paris", {"posts/2026-10-03-bureau.md": post("Réunion du bureau")})
    result = build(content, root / "output")
    assert result.ok
    return content, root / "output"


@contextmanager
def service(tmp_path: Path, built: tuple[Path, Path], smtp: SmtpCapture) -> Iterator[Starlette]:
    """The service over the built network, its workers off (tests send mails themselves)."""
    content, output = built
    settings = service_settings(tmp_path, content, smtp, run_workers=False)
    application = create_app(replace(settings, output_dir=output))
    with browser(application):  # runs the lifespan: the database is migrated
        yield application


def submit(client: TestClient, page: str, data: dict[str, str] | None = None,
           action: str | None = None, files: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    """Open `page` (for its form token), then post `data` to `action` (default: the page)
    from this site, as its form would."""
    token = csrf_token(client, page)
    return client.post(action or page, headers=SAME_SITE,
                       data={**(data or {}), "csrf_token": token}, files=files)  # type: ignore[arg-type]


def deliver(app: Starlette, smtp: SmtpCapture) -> list[EmailMessage]:
    """Send what the outbox holds to the real SMTP server; every mail it has received."""
    app.state.runtime.mail.send_due()
    return smtp.messages


def mails_to(smtp: SmtpCapture, address: str) -> list[EmailMessage]:
    return [message for message in smtp.messages if message["To"] == address]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def rows(app: Starlette, table) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    with engine_of(app).connect() as connection:
        return [dict(row) for row in connection.execute(select(table)).mappings()]
