"""A service over real git repositories for the tests of the editor's history, corbeille
and city card: Lyon and Gap (a card and a post each), people of each role, and commits by
named volunteers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from auth_helpers import SAME_SITE, add_person, browser, sign_in
from conftest import service_settings
from content_repo import ContentRepos, small_network
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.editor.checkout import Change, Checkout, volunteer_author
from avf.editor.paths import city_file
from avf.service import create_app

HELENE = volunteer_author(900, "Hélène Dupont", "avf.example")
PAUL = volunteer_author(901, "Paul Martin", "avf.example")
PEOPLE = {
    "admin": ("responsable@lyon.example", ("admin", "lyon"), "Anne Responsable"),
    "reporter": ("redactrice@lyon.example", ("reporter", "lyon"), "Rose Rédactrice"),
    "member": ("membre@lyon.example", ("member", "lyon"), "Marc Membre"),
    "gap": ("responsable@gap.example", ("admin", "gap"), "Gaston Gap"),
    "webmaster": ("webmaster@avf.example", ("webmaster", ""), "Wanda Webmaster"),
}
FORM_FIELD = re.compile(r'name="(csrf_token|base)" value="([^"]*)"')


@contextmanager
def editor_service(root: Path) -> Iterator[tuple[Starlette, ContentRepos]]:
    repos = small_network(root / "git", ("lyon", "gap"))
    app = create_app(service_settings(root, repos.checkout, run_workers=False))
    with browser(app):
        for email, role, name in PEOPLE.values():
            add_person(app, email, role, name=name)
        yield app, repos


def signed_in(app: Starlette, who: str) -> TestClient:
    client = browser(app)
    sign_in(client, app, PEOPLE[who][0])
    return client


def commit(repos: ContentRepos, city: str, rel: str, text: str | None,
           author=HELENE, message: str = "Enregistré") -> str:  # type: ignore[no-untyped-def]
    """One commit of the service's checkout by `author` (None deletes the file)."""
    file = city_file(repos.checkout, city, rel)
    saved = Checkout(repos.checkout).save([Change(file, text, None)], author, message)
    assert saved.commit
    return saved.commit


def form_fields(page: str) -> dict[str, str]:
    """The hidden csrf_token and base of a page's form."""
    return dict(FORM_FIELD.findall(page))


def post_form(client: TestClient, page_url: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Open `page_url`, then post `data` to `action` with its form's token (and base)."""
    hidden = form_fields(client.get(page_url).text)
    return client.post(action, headers=SAME_SITE, data={**hidden, **data})
