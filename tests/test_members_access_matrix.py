"""The members' area, person by person and URL by URL: each gets exactly what it should.

One real build of two cities (lyon, paris) with member-only posts and pages; the service
under uvicorn; requests sent byte for byte over a socket (an HTTP client library would
tidy `..` away before sending). People: nobody signed in, a member of Lyon, a member of
Paris, a suspended member of Lyon, the admin of Lyon, the webmaster. Each cell asserts the
exact status (200, 303 to the sign-in form, 308, 403, 404, 400), for GET and HEAD, and that
no member content appears in any refusal.

The table is data: add a row for each new members' URL.
"""

from __future__ import annotations

import html
import http.client
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import quote, unquote

import pytest
from auth_helpers import add_person, browser, engine_of, sign_in
from conftest import build, post, service_settings, serving, write, write_city
from sqlalchemy import update
from starlette.applications import Starlette

from avf.service import create_app
from avf.service.accounts import person_id_for
from avf.store.schema import roles

LYON_SECRET = "Le budget de la sortie à Annecy"
PARIS_SECRET = "Les comptes du bureau parisien"
# Words of the member-only content that must never appear in a refusal.
MEMBER_WORDS = (LYON_SECRET, PARIS_SECRET, "Compte rendu de l'assemblée",
                "Règlement intérieur", "Réunion du bureau parisien", "Article premier")

PEOPLE = {  # who → (email, role, city); None: nobody signed in
    "anonymous": None,
    "member_lyon": ("adherente@example.org", "member", "lyon"),
    "member_paris": ("parisien@example.org", "member", "paris"),
    "suspended_lyon": ("suspendu@example.org", "member", "lyon"),
    "admin_lyon": ("responsable@example.org", "admin", "lyon"),
    "webmaster": ("web@example.org", "webmaster", ""),
}
LYON = frozenset({"member_lyon", "admin_lyon", "webmaster"})  # may read Lyon's area
PARIS = frozenset({"member_paris", "webmaster"})
LYON_ADMINS = frozenset({"admin_lyon", "webmaster"})
NOBODY = frozenset()

LYON_POST = "/membres/lyon/actualites/assemblee.html"
PARIS_POST = "/membres/paris/actualites/bureau.html"


@dataclass(frozen=True)
class Row:
    """A URL and what it is.

    kind: `page` (readers get 200), `missing` (readers get 404), `folder` (readers get a
    308 to `location`), `malformed` (404 for everyone, signed in or not: the URL names no
    file of anyone's), `bad` (400 for everyone), `redirect` (308 to `location` for
    everyone), `public_404` (not the members' area: the public 404), `open` (200 for
    everyone: the visitors' join-request form).
    """

    path: str
    kind: str
    readers: frozenset[str] = LYON
    shows: str | None = None  # text a reader's 200 must contain
    location: str | None = None


MATRIX = [
    # The members' home (this branch) and the build's files.
    Row("/membres/lyon/", "page", shows="Compte rendu de l'assemblée"),
    Row("/membres/%6cyon/", "page", shows="Compte rendu de l'assemblée"),  # `l` escaped
    Row("/membres/lyon", "redirect", location="/membres/lyon/"),
    Row("/membres/lyon/index.html", "page", shows="Compte rendu de l'assemblée"),
    Row("/membres/lyon/home.json", "page", shows="Compte rendu de l'assemblée"),
    Row(LYON_POST, "page", shows=LYON_SECRET),
    Row("/membres/lyon/reglement/", "page", shows="Article premier"),
    Row("/membres/lyon/reglement/index.html", "page", shows="Article premier"),
    Row("/membres/lyon/reglement", "folder", location="/membres/lyon/reglement/"),
    Row("/membres/paris/", "page", readers=PARIS, shows="Réunion du bureau parisien"),
    Row(PARIS_POST, "page", readers=PARIS, shows=PARIS_SECRET),
    # Missing files: only a reader learns they are missing.
    Row("/membres/lyon/actualites/rien.html", "missing"),
    Row("/membres/lyon/actualites/", "missing"),  # a folder without index.html
    Row("/membres/lyon/actualites/assemblee.html.", "missing"),  # trailing dot
    Row("/membres/lyon/reglement./", "missing"),
    Row("/membres/lyon/ACTUALITES/assemblee.html", "missing"),  # case changed
    Row("/membres/lyon/Actualites/Assemblee.html", "missing"),
    Row("/membres/marseille/", "missing", readers=frozenset({"webmaster"})),
    # A link in Lyon's release to Paris's members' folder leads nowhere.
    Row("/membres/lyon/chez-paris/", "missing"),
    Row("/membres/lyon/chez-paris/index.html", "missing"),
    Row("/membres/lyon/chez-paris/actualites/bureau.html", "missing"),
    # Ugly paths: refused before anyone's session is looked at.
    Row("/membres/lyon/../paris/index.html", "malformed"),
    Row("/membres/lyon/../paris/", "malformed"),
    Row("/membres/paris/../lyon/actualites/assemblee.html", "malformed"),
    Row("/membres/lyon/%2e%2e/paris/index.html", "malformed"),
    Row("/membres/lyon/%2E%2E/paris/index.html", "malformed"),
    Row("/membres/lyon/.%2e/.%2e/public/lyon/index.html", "malformed"),
    Row("/membres/lyon/..%2fparis/index.html", "malformed"),
    Row("/membres/lyon/actualites%2fassemblee.html", "malformed"),
    Row("/membres/lyon/actualites%5cassemblee.html", "malformed"),
    Row("/membres/lyon/./actualites/assemblee.html", "malformed"),
    Row("/membres/lyon/.home.json", "malformed"),
    Row("/membres/lyon//actualites/assemblee.html", "malformed"),
    Row("/membres/lyon/actualites//assemblee.html", "malformed"),
    Row("/membres//lyon/", "malformed"),
    Row("/membres/LYON/", "malformed"),
    Row("/membres/Lyon/actualites/assemblee.html", "malformed"),
    Row("/membres/lyon./", "malformed"),
    Row("/membres/lyon%2factualites/assemblee.html", "malformed"),
    Row("/membres/lyon/%00.html", "bad"),
    # Not the members' area at all: the public sites never hold member files.
    Row("/Membres/lyon/", "public_404"),
    Row("/MEMBRES/lyon/actualites/assemblee.html", "public_404"),
    Row("/lyon/actualites/assemblee.html", "public_404"),
    Row("/members/lyon/actualites/assemblee.html", "public_404"),
    Row("/lyon/../membres/lyon/actualites/assemblee.html", "public_404"),
    # The service's members' pages: the directory, the city's management, joining.
    Row("/membres/lyon/annuaire/", "page"),
    Row("/membres/paris/annuaire/", "page", readers=PARIS),
    Row("/membres/lyon/gestion/", "page", readers=LYON_ADMINS),
    Row("/membres/lyon/gestion/inviter", "page", readers=LYON_ADMINS),
    Row("/membres/lyon/gestion/importer", "page", readers=LYON_ADMINS),
    Row("/membres/lyon/gestion/adherents.csv", "page", readers=LYON_ADMINS,
        shows="adherente@example.org"),
    Row("/membres/paris/gestion/", "page", readers=frozenset({"webmaster"})),
    Row("/membres/lyon/adhesion", "open"),
    # Event registration: the member's page, the organisers' lists (no reporter in this
    # table: tests/test_registrations.py has them).
    Row("/membres/lyon/inscriptions/sortie", "page", shows="Inscription : Sortie à Annecy"),
    Row("/membres/lyon/inscriptions/sortie/liste", "page", readers=LYON_ADMINS,
        shows="Inscrit·es : Sortie à Annecy"),
    Row("/membres/lyon/inscriptions/sortie/liste.csv", "page", readers=LYON_ADMINS,
        shows="Nom;Email;Statut;Depuis le"),
    Row("/membres/lyon/inscriptions/rien", "missing"),
    Row("/membres/lyon/inscriptions/rien/liste", "missing", readers=LYON_ADMINS),
    Row("/membres/lyon/inscriptions/cafe", "missing"),  # a post that takes no registration
    Row("/membres/paris/inscriptions/sortie", "missing", readers=PARIS),  # Lyon's event
    Row("/membres/lyon/inscriptions/%2e%2e/sortie", "malformed"),
    # Comments, groups and moderation.
    Row("/membres/lyon/commentaires/assemblee", "page", shows="Compte rendu de l'assemblée"),
    Row("/membres/lyon/commentaires/assemblee?fragment=1", "page", shows="Commentaires"),
    Row("/membres/paris/commentaires/bureau", "page", readers=PARIS,
        shows="Réunion du bureau parisien"),
    Row("/membres/lyon/commentaires/cafe", "missing"),  # public; Lyon did not allow it
    Row("/membres/lyon/commentaires/rien", "missing"),
    Row("/membres/lyon/commentaire/1/modifier", "missing"),
    Row("/membres/lyon/groupes/", "page", shows="Les groupes"),
    Row("/membres/lyon/groupes", "redirect", location="/membres/lyon/groupes/"),
    Row("/membres/lyon/groupes/inconnu/", "missing"),
    Row("/membres/lyon/groupes/inconnu/fil.atom", "missing"),
    Row("/membres/lyon/groupes/inconnu/sujets/1", "missing"),
    Row("/membres/LYON/groupes/", "malformed"),
    Row("/membres/lyon/moderation/", "page", readers=LYON_ADMINS, shows="Modération"),
    Row("/membres/lyon/moderation", "redirect", location="/membres/lyon/moderation/"),
    Row("/membres/paris/moderation/", "page", readers=frozenset({"webmaster"})),
]


def expected_status(row: Row, who: str) -> int:
    if row.kind in ("malformed", "public_404"):
        return 404
    if row.kind == "bad":
        return 400
    if row.kind == "redirect":
        return 308
    if row.kind == "open":
        return 200
    if who == "anonymous":
        return 303
    if who not in row.readers:
        return 403
    return {"page": 200, "missing": 404, "folder": 308}[row.kind]


@dataclass(frozen=True)
class Served:
    app: Starlette
    port: int
    cookies: dict[str, str]  # who → Cookie header ("" for nobody)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("matrix")
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café d'accueil"),
        "posts/2026-10-01-sortie.md": post("Sortie à Annecy", extra="""
            event:
              start: 2099-05-09T14:00:00+02:00
              registration: true
              capacity: 12
        """),
        "posts/2026-10-02-assemblee.md": post("Compte rendu de l'assemblée",
                                              extra="visibility: members",
                                              body=f"{LYON_SECRET} est voté."),
        "pages/reglement.md": '---\ntitle: "Règlement intérieur"\nvisibility: members\n---\n\n'
                              "Article premier.\n",
    })
    write_city(content, "paris", {
        "posts/2026-10-03-bureau.md": post("Réunion du bureau parisien",
                                           extra="visibility: members",
                                           body=f"{PARIS_SECRET}."),
    })
    output = root / "output"
    assert build(content, output).ok
    # A link someone slipped into Lyon's release, to Paris's members' folder.
    lyon_release = (output / "members" / "lyon").resolve()
    os.symlink((output / "members" / "paris").resolve(), lyon_release / "chez-paris")

    settings = service_settings(root, content, run_workers=False)
    app = create_app(replace(settings, output_dir=output))
    cookies = {"anonymous": ""}
    with browser(app):  # the real sign-in flow, once per person
        for who, person in PEOPLE.items():
            if person is None:
                continue
            email, role, city = person
            add_person(app, email, (role, city))
            client = browser(app)
            sign_in(client, app, email)
            cookies[who] = f"avf_session={client.cookies['avf_session']}"
        with engine_of(app).begin() as connection:
            suspended = person_id_for(connection, "suspendu@example.org")
            connection.execute(update(roles).where(roles.c.person_id == suspended)
                               .values(suspended_at=datetime.now(UTC)))
    with serving(app) as port:
        yield Served(app, port, cookies)


def request(port: int, method: str, path: str, cookie: str,
            ) -> tuple[int, dict[str, str], bytes]:
    """`method path` sent as is (no normalization), with the session cookie if any."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        if cookie:
            connection.putheader("Cookie", cookie)
        connection.endheaders()
        response = connection.getresponse()
        return (response.status, {name.lower(): value for name, value in response.getheaders()},
                response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("row", MATRIX, ids=[row.path for row in MATRIX])
def test_each_person_gets_exactly_what_they_should(served: Served, row: Row, who: str) -> None:
    wanted = expected_status(row, who)
    for method in ("GET", "HEAD"):
        status, headers, body = request(served.port, method, row.path, served.cookies[who])
        cell = (row.path, who, method)
        assert status == wanted, (*cell, status)
        if method == "HEAD":
            assert body == b"", cell
        text = html.unescape(body.decode("utf-8", "replace"))
        if status == 200:
            assert headers["cache-control"] == "private, no-store", cell
            if method == "GET" and row.shows:
                assert row.shows in text, cell
        else:
            for words in MEMBER_WORDS:
                assert words not in text, (*cell, words)
        if status == 303:  # back to the page asked for, once signed in
            assert headers["location"] == \
                f"/compte/connexion?suivant={quote(unquote(row.path))}", cell
        if status == 308:
            assert headers["location"] == row.location, cell
    if wanted == 200 and row.readers is LYON:
        page = html.unescape(request(served.port, "GET", row.path, served.cookies[who])[2]
                             .decode())
        assert PARIS_SECRET not in page and "Réunion du bureau parisien" not in page
