"""Helpers for the tests of comments, groups and moderation: one real build of Lyon (a
member-only post, a public post; its card allows comments on public posts) and Paris (a
public post; its card does not), a service over it per test, people with names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from auth_helpers import CSRF_FIELD, SAME_SITE, add_person, browser, engine_of, sign_in
from conftest import CITY_YAML, SmtpCapture, build, post, service_settings, write, write_city
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service import create_app
from avf.service.profiles import ProfileEdit, save_profile

MEMBER_POST = "assemblee"
PUBLIC_POST = "cafe"
PARIS_POST = "bureau"
LYON_CARD = CITY_YAML.format(slug="lyon", title="Lyon") + "comments_on_public_posts: true\n"


def build_discussion(root: Path) -> tuple[Path, Path]:
    """Content and output of the network the module's docstring describes."""
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café d'accueil"),
        "posts/2026-10-02-assemblee.md": post("Compte rendu de l'assemblée",
                                              extra="visibility: members"),
    }, card=LYON_CARD)
    write_city(content, "paris", {"posts/2026-10-03-bureau.md": post("Réunion du bureau")})
    output = root / "output"
    assert build(content, output).ok
    return content, output


@contextmanager
def service(tmp_path: Path, built: tuple[Path, Path],
            smtp: SmtpCapture | None = None) -> Iterator[Starlette]:
    content, output = built
    app = create_app(replace(service_settings(tmp_path, content, smtp, run_workers=False),
                             output_dir=output))
    with browser(app):
        yield app


def person(app: Starlette, email: str, name: str, role: str = "member", city: str = "lyon",
           news: bool = False) -> int:
    person_id = add_person(app, email, (role, city), name=name)
    with engine_of(app).begin() as connection:
        save_profile(connection, person_id, ProfileEdit(
            display_name=name, about="", interests="", languages="", phone="",
            in_directory=False, news_by_email=news))
    return person_id


def signed_in(app: Starlette, email: str, ip: str = "203.0.113.7") -> TestClient:
    client = browser(app, ip=ip)
    sign_in(client, app, email)
    return client


def token(client: TestClient, page: str) -> str:
    found = CSRF_FIELD.search(client.get(page).text)
    assert found, f"no form token on {page}"
    return found.group(1)


def post_form(client: TestClient, page: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(action, headers=SAME_SITE, data={**data, "csrf_token": token(client, page)})


def comment(client: TestClient, text: str, slug: str = MEMBER_POST, city: str = "lyon",
            **extra: str):  # type: ignore[no-untyped-def]
    page = f"/membres/{city}/commentaires/{slug}"
    return post_form(client, page, page, {"message": text, **extra})


def comment_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="commentaire-(\d+)"', html)]
