"""The editor's permissions, person by person and URL by URL, checked on the server; then
path attacks sent byte for byte over a socket (an HTTP client library would tidy `..`
away): `..`, encoded dots and slashes, absolute paths, symbolic links planted in the
checkout, `.git/config`, another city's file — each a 404, nothing read, nothing written.

The tables are data: add a row for each new editor URL.
"""

from __future__ import annotations

import html
import http.client
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from conftest import serving
from content_repo import git
from editor_helpers import PEOPLE, Editor, editor_service

SECRET = "Secret de Gap"  # the words of gap's post, never shown to Lyon's people
WHO = ["anonymous", "member", "reporter_gap", "reporter", "admin", "webmaster"]
LYON_WRITERS = frozenset({"reporter", "admin", "webmaster"})
LYON_ADMINS = frozenset({"admin", "webmaster"})
GAP_WRITERS = frozenset({"reporter_gap", "webmaster"})
WEBMASTER = frozenset({"webmaster"})


@dataclass(frozen=True)
class Row:
    """A URL, who may open it (200), and what it is otherwise: `page` (403 for a signed-in
    person who may not, the sign-in form for nobody) or `missing` (404 for those who may)."""

    path: str
    allowed: frozenset[str]
    kind: str = "page"


MATRIX = [
    Row("/editeur/lyon/", LYON_WRITERS),
    Row("/editeur/lyon/nouveau", LYON_WRITERS),
    Row("/editeur/lyon/nouveau?type=page", LYON_ADMINS),
    Row("/editeur/lyon/texte/posts/2026-01-10-bienvenue.md", LYON_WRITERS),
    Row("/editeur/lyon/texte/pages/adherer.md", LYON_WRITERS),  # read-only for a reporter
    Row("/editeur/lyon/supprimer/posts/2026-01-10-bienvenue.md", LYON_ADMINS),
    Row("/editeur/lyon/texte/posts/rien.md", LYON_WRITERS, "missing"),
    Row("/editeur/lyon/suivi/999", LYON_WRITERS, "missing"),
    Row("/editeur/gap/", GAP_WRITERS),
    Row("/editeur/gap/texte/posts/2026-01-10-secret.md", GAP_WRITERS),
    Row("/editeur/_network/", WEBMASTER),
    Row("/editeur/_network/nouveau?type=page", WEBMASTER),
    Row("/editeur/_network/texte/pages/a-propos.md", WEBMASTER),
]

# Paths that name nothing an editor may touch: 404 for the people who may write in Lyon.
ATTACKS = [
    "/editeur/lyon/texte/../gap/posts/2026-01-10-secret.md",
    "/editeur/lyon/texte/posts/../../gap/posts/2026-01-10-secret.md",
    "/editeur/lyon/texte/posts/%2e%2e/%2e%2e/gap/posts/2026-01-10-secret.md",
    "/editeur/lyon/texte/%2E%2E/gap/posts/2026-01-10-secret.md",
    "/editeur/lyon/texte/posts%2f..%2f..%2fgap%2fposts%2f2026-01-10-secret.md",
    "/editeur/lyon/texte/posts%5c..%5c..%5cgap%5cposts%5c2026-01-10-secret.md",
    "/editeur/lyon/texte//etc/passwd",
    "/editeur/lyon/texte/%2fetc%2fpasswd",
    "/editeur/lyon/texte/.git/config",
    "/editeur/lyon/texte/..%2f..%2f.git%2fconfig",
    "/editeur/lyon/texte/posts/lien.md",  # a link planted to gap's post
    "/editeur/lyon/texte/posts/ailleurs/2026-01-10-secret.md",  # a linked folder
    "/editeur/lyon/texte/pages/passwd.md",  # a link to /etc/passwd
    "/editeur/lyon/texte/city.yaml",  # not a text (the card has its own form)
    "/editeur/lyon/texte/posts/2026-01-10-bienvenue.md%00.md",
    "/editeur/%2e%2e/texte/gap/posts/2026-01-10-secret.md",
    "/editeur/lyon%2f..%2fgap/texte/posts/2026-01-10-secret.md",
    "/editeur/LYON/texte/posts/2026-01-10-bienvenue.md",
    "/editeur/lyon/supprimer/../gap/posts/2026-01-10-secret.md",
    "/editeur/lyon/supprimer/posts/lien.md",
]
NEVER_SHOWN = (SECRET, "root:x:0:0", "[core]", "repositoryformatversion")


@dataclass(frozen=True)
class Served:
    editor: Editor
    port: int
    cookies: dict[str, str]  # who → Cookie header ("" for nobody)
    tokens: dict[str, str]  # who → their form token


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("editor-access")
    with editor_service(root) as editor:
        lyon, gap = editor.repos.checkout / "lyon", editor.repos.checkout / "gap"
        os.symlink(gap / "posts" / "2026-01-10-secret.md", lyon / "posts" / "lien.md")
        os.symlink(gap / "posts", lyon / "posts" / "ailleurs")
        os.symlink("/etc/passwd", lyon / "pages" / "passwd.md")
        cookies, tokens = {"anonymous": ""}, {"anonymous": ""}
        for who in PEOPLE:
            client = editor.client(who)
            page = client.get("/compte/").text
            tokens[who] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            cookies[who] = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        with serving(editor.app) as port:
            yield Served(editor, port, cookies, tokens)


def request(served: Served, method: str, path: str, who: str,
            form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """`method path` sent as is (no normalization), as `who`."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    body = urlencode(form).encode() if form is not None else None
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        if served.cookies[who]:
            connection.putheader("Cookie", served.cookies[who])
        if body is not None:
            connection.putheader("Origin", f"http://127.0.0.1:{served.port}")
            connection.putheader("Content-Type", "application/x-www-form-urlencoded")
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return (response.status, {name.lower(): value for name, value in response.getheaders()},
                html.unescape(response.read().decode("utf-8", "replace")))
    finally:
        connection.close()


def expected(row: Row, who: str) -> int:
    if who == "anonymous":
        return 303
    if who not in row.allowed:
        return 403
    return 404 if row.kind == "missing" else 200


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("row", MATRIX, ids=[row.path for row in MATRIX])
def test_each_person_gets_exactly_what_they_should(served: Served, row: Row, who: str) -> None:
    status, headers, text = request(served, "GET", row.path, who)
    assert status == expected(row, who), (row.path, who, status)
    if status == 303:
        assert headers["location"] == f"/compte/connexion?suivant={quote(row.path, safe='/')}"
    if status != 200 or "gap" not in row.path:
        assert SECRET not in text
    if status == 200:
        assert headers["cache-control"] == "private, no-store"


@pytest.mark.parametrize("who", WHO)
def test_the_list_of_cities(served: Served, who: str) -> None:
    status, headers, text = request(served, "GET", "/editeur/", who)
    wanted = {"anonymous": 303, "member": 403, "webmaster": 200}.get(who, 303)
    assert status == wanted
    if who in ("reporter", "admin"):
        assert headers["location"] == "/editeur/lyon/"
    if who == "member":
        assert "réservé aux rédacteur·rices" in text


@pytest.mark.parametrize("path", ATTACKS)
@pytest.mark.parametrize("who", ["admin", "webmaster"])
def test_paths_outside_the_citys_texts_are_404_and_nothing_is_read(
        served: Served, path: str, who: str) -> None:
    status, _, text = request(served, "GET", path, who)
    assert status == 404, (path, who, status)
    for words in NEVER_SHOWN:
        assert words not in text, (path, words)


def test_posting_to_those_paths_writes_nothing(served: Served) -> None:
    repos = served.editor.repos
    head, secret = repos.checkout_head(), (repos.checkout / "gap/posts/2026-01-10-secret.md")
    before = secret.read_text(encoding="utf-8")
    form = {"csrf_token": served.tokens["webmaster"], "action": "save", "base": "",
            "kind": "post", "title": "Piraté", "date": "2026-01-10", "body": "Piraté"}
    for path in ATTACKS:
        status, _, _ = request(served, "POST", path, "webmaster", form)
        # 405: a path that is no editor URL once decoded reaches the static sites (GET only)
        assert status in (404, 405), (path, status)
    assert repos.checkout_head() == head and secret.read_text(encoding="utf-8") == before
    assert "Piraté" not in Path("/etc/passwd").read_text(encoding="utf-8")
    untracked = git(repos.checkout, "status", "--porcelain").splitlines()
    assert sorted(untracked) == ["?? lyon/pages/passwd.md", "?? lyon/posts/ailleurs",
                                 "?? lyon/posts/lien.md"]  # only the planted links
    # The same request to a real text goes through: the 404s were the paths, not the form.
    status, headers, _ = request(served, "POST", "/editeur/lyon/nouveau", "webmaster", form)
    assert status == 303 and headers["location"].startswith("/editeur/lyon/texte/posts/")
    assert repos.checkout_head() != head
