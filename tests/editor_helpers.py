"""A service on real content repositories for the editor's tests: a bare origin, the
service's checkout, people with roles, signed-in clients, and the edit form as a browser
sends it (every field of the page, then the person's changes)."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from auth_helpers import SAME_SITE, add_person, browser, sign_in
from conftest import SmtpCapture, post, service_settings
from content_repo import ContentRepos, content_repos
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service import create_app

_INPUT = re.compile(r"<input\b([^>]*)>", re.S)
_TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
_ATTR = re.compile(r'([a-z_-]+)(?:="([^"]*)")?')

PEOPLE = {  # who → (email, name, roles)
    "reporter": ("redactrice@example.org", "Hélène Dupont", [("reporter", "lyon")]),
    "reporter2": ("redacteur@example.org", "Marc Petit", [("reporter", "lyon")]),
    "admin": ("responsable@example.org", "Paul Martin", [("admin", "lyon")]),
    "member": ("adherente@example.org", "Anne Membre", [("member", "lyon")]),
    "reporter_gap": ("gap@example.org", "Gilles Gap", [("reporter", "gap")]),
    "webmaster": ("web@example.org", "Wendy Web", [("webmaster", "")]),
}


@dataclass
class Editor:
    app: Starlette
    repos: ContentRepos
    ids: dict[str, int]

    def client(self, who: str) -> TestClient:
        client = browser(self.app)
        if who != "anonymous":
            sign_in(client, self.app, PEOPLE[who][0])
        return client


@contextlib.contextmanager
def editor_service(tmp_path: Path, smtp: SmtpCapture | None = None,
                   files: dict[str, str] | None = None) -> Iterator[Editor]:
    """The service over a network of lyon (a post, a page) and gap (a post)."""
    lyon = {"posts/2026-01-10-bienvenue.md": post("Bienvenue à Lyon", "2026-01-10"),
            "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\nVenez nous voir.\n',
            **(files or {})}
    repos = content_repos(tmp_path / "git", {
        "lyon": lyon,
        "gap": {"posts/2026-01-10-secret.md": post("Secret de Gap", "2026-01-10")}})
    app = create_app(service_settings(tmp_path, repos.checkout, smtp, run_workers=False))
    with browser(app):  # runs the lifespan: the database is migrated
        ids = {who: add_person(app, email, *roles, name=name)
               for who, (email, name, roles) in PEOPLE.items()}
        yield Editor(app, repos, ids)


def form_fields(page: str, form_id: str = "avf-editor-form") -> dict[str, str]:
    """The fields a browser would send from the form (checked boxes and radio buttons only;
    no buttons)."""
    start = page.index(f'id="{form_id}"') if f'id="{form_id}"' in page else page.index("<form")
    end = page.index("</form>", start)
    part = page[start:end]
    fields: dict[str, str] = {}
    for attributes in _INPUT.findall(part):
        attrs = {name: html.unescape(value or "") for name, value in _ATTR.findall(attributes)}
        if "name" not in attrs or "disabled" in attrs:
            continue
        if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
            continue
        fields[attrs["name"]] = attrs.get("value", "")
    for attributes, text in _TEXTAREA.findall(part):
        attrs = {name: value or "" for name, value in _ATTR.findall(attributes)}
        if "name" in attrs:
            fields[attrs["name"]] = html.unescape(text)
    return fields


def submit(client: TestClient, url: str, action: str, page_url: str | None = None,
           **changes: str):  # type: ignore[no-untyped-def]
    """Open the form at `page_url` (default: `url`), change fields, press `action`."""
    page = client.get(page_url or url)
    assert page.status_code == 200, page.text
    fields = {**form_fields(page.text), **changes, "action": action}
    return client.post(url, data=fields, headers=SAME_SITE)
