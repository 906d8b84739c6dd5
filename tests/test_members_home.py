"""The members' home of a city (`/membres/<city>/`), from a real build: what the build
writes for it (`OUT/members/<city>/home.json`), and the page each person gets."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from auth_helpers import add_person, browser, sign_in
from conftest import SmtpCapture, build, post, service_settings, write, write_city
from starlette.applications import Starlette

from avf.service import create_app
from avf.service.home_data import HomeData

ASSEMBLY = "/membres/lyon/actualites/assemblee.html"
SECRET = "Le budget de la sortie à Annecy"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("home")
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café d'accueil", date="2026-10-01"),
        "posts/2026-10-02-assemblee.md": post(
            "Compte rendu de l'assemblée", date="2026-10-02", body=f"{SECRET} est voté.",
            extra='visibility: members\nsummary: "Les décisions de l\'assemblée."'),
        "posts/2026-10-03-bureau.md": post("Réunion du bureau", date="2026-10-03",
                                           extra="visibility: members"),
        "posts/2026-10-04-pique-nique.md": post(
            "Pique-nique des adhérents", date="2026-10-04", extra="""
                visibility: members
                event:
                  start: 2099-06-12
                  place: "Parc de la Tête d'Or"
            """),
        "posts/2026-10-05-visite.md": post("Visite du Vieux-Lyon", date="2026-10-05", extra="""
                event:
                  start: 2099-05-09T14:00:00+02:00
                  end: 2099-05-09T17:00:00+02:00
                  place: "Place Saint-Jean"
            """),
        "posts/2026-10-06-passee.md": post("Soirée déjà passée", date="2026-10-06", extra="""
                event:
                  start: 2026-10-20T19:00:00+02:00
            """),
        "pages/reglement.md": '---\ntitle: "Règlement intérieur"\nvisibility: members\n---\n\n'
                              "Article premier.\n",
    })
    write_city(content, "paris", {
        "posts/2026-10-03-bureau.md": post("Bureau de Paris", extra="visibility: members"),
    })
    write_city(content, "dijon")  # in the content, never built
    result = build(content, root / "output", cities=("lyon", "paris"))
    assert result.ok
    return content, root / "output"


@pytest.fixture
def app(tmp_path: Path, built: tuple[Path, Path], smtp_server: SmtpCapture,
        ) -> Iterator[Starlette]:
    content, output = built
    settings = service_settings(tmp_path, content, smtp_server, run_workers=False)
    application = create_app(replace(settings, output_dir=output))
    with browser(application):
        add_person(application, "adherente@example.org", ("member", "lyon"), name="Odile")
        add_person(application, "responsable@example.org", ("admin", "lyon"))
        add_person(application, "parisien@example.org", ("member", "paris"))
        add_person(application, "web@example.org", ("webmaster", ""))
        add_person(application, "dijonnais@example.org", ("member", "dijon"))
        yield application


def test_the_build_writes_the_home_data_under_the_members_area_only(
        built: tuple[Path, Path]) -> None:
    _, output = built
    data = json.loads((output / "members" / "lyon" / "home.json").read_text("utf-8"))
    assert data["members_url"] == "/membres/lyon/"
    assert data["posts"] == [  # newest first
        {"title": "Pique-nique des adhérents", "date": "2026-10-04T00:00:00+02:00",
         "summary": "", "url": "/membres/lyon/actualites/pique-nique.html"},
        {"title": "Réunion du bureau", "date": "2026-10-03T00:00:00+02:00", "summary": "",
         "url": "/membres/lyon/actualites/bureau.html"},
        {"title": "Compte rendu de l'assemblée", "date": "2026-10-02T00:00:00+02:00",
         "summary": "Les décisions de l'assemblée.", "url": ASSEMBLY},
    ]
    assert data["pages"] == [{"title": "Règlement intérieur", "url": "/membres/lyon/reglement/"}]
    # Events not over when the city was built, public and member-only, by start.
    assert [(event["title"], event["visibility"], event["url"]) for event in data["events"]] == [
        ("Visite du Vieux-Lyon", "public", "/lyon/actualites/visite.html"),
        ("Pique-nique des adhérents", "members", "/membres/lyon/actualites/pique-nique.html")]
    assert data["events"][0]["place"] == "Place Saint-Jean"
    assert data["events"][1]["all_day"] is True
    assert SECRET not in json.dumps(data)  # titles and summaries, never the text
    # Member-only titles stay out of the public half, home data included.
    assert not list((output / "public").rglob("home.json"))
    for path in (output / "public" / "lyon").rglob("*"):
        if path.is_file():
            assert b"Pique-nique des adh" not in path.read_bytes(), path


def test_a_member_s_home_lists_posts_events_pages_and_ways_on(app: Starlette) -> None:
    client = browser(app)
    sign_in(client, app, "adherente@example.org")
    response = client.get("/membres/lyon/")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-robots-tag"] == "noindex"
    page = html.unescape(response.text)
    assert page.count("<h1>") == 1 and "<h1>Espace adhérents — AVF Lyon</h1>" in page
    assert "Bonjour Odile" in page
    assert f'<a href="{ASSEMBLY}">Compte rendu de l\'assemblée</a>' in page
    assert '<time datetime="2026-10-02T00:00:00+02:00">2 octobre 2026</time>' in page
    assert "Les décisions de l'assemblée." in page
    assert page.index("Pique-nique des adhérents") < page.index("Réunion du bureau") \
        < page.index("Compte rendu de l'assemblée")
    assert "Visite du Vieux-Lyon" in page and "samedi 9 mai 2099, de 14 h à 17 h" in page
    assert "Place Saint-Jean" in page
    assert "vendredi 12 juin 2099 (toute la journée)" in page
    assert "(réservé aux adhérents)" in page
    assert "Soirée déjà passée" not in page
    assert '<a href="/membres/lyon/reglement/">Règlement intérieur</a>' in page
    assert 'href="/membres/lyon/annuaire/"' in page and 'href="/compte/demenager"' in page
    assert "/gestion/" not in page  # for the city's admins only
    assert "AVF Lyon" in page and 'href="/lyon/"' in page  # the city's header
    assert "accueil@avf-lyon.example.org" not in page
    assert SECRET not in page


def test_an_admin_also_gets_the_way_to_the_management_pages(app: Starlette) -> None:
    client = browser(app)
    sign_in(client, app, "responsable@example.org")
    page = html.unescape(client.get("/membres/lyon/").text)
    assert '<a href="/membres/lyon/gestion/">Gérer les adhérents</a>' in page


def test_the_webmaster_reads_any_home_without_moving_or_managing_ways(app: Starlette) -> None:
    client = browser(app)
    sign_in(client, app, "web@example.org")
    page = client.get("/membres/paris/")
    assert page.status_code == 200 and "Bureau de Paris" in page.text
    assert "/compte/demenager" not in page.text  # a member of no city moves nowhere
    assert 'href="/membres/paris/gestion/"' in page.text  # the webmaster may do anything
    assert client.get("/membres/nulle-part/").status_code == 404  # no such city


def test_a_city_not_built_yet_says_so(app: Starlette) -> None:
    client = browser(app)
    sign_in(client, app, "dijonnais@example.org")
    response = client.get("/membres/dijon/")
    assert response.status_code == 200
    assert "apparaîtront ici après la prochaine mise en ligne" in html.unescape(response.text)


def test_others_get_no_home(app: Starlette) -> None:
    client = browser(app)
    response = client.get("/membres/lyon/")
    assert response.status_code == 303
    assert response.headers["location"] == "/compte/connexion?suivant=/membres/lyon/"
    sign_in(client, app, "parisien@example.org")
    refused = client.get("/membres/lyon/")
    assert refused.status_code == 403 and "Pique-nique" not in refused.text
    assert client.head("/membres/lyon/").status_code == 403


def test_the_home_data_is_read_again_only_when_it_changes(tmp_path: Path) -> None:
    release = tmp_path / ".releases" / "lyon" / "1" / "members"
    data = {"version": 1, "city": "lyon", "members_url": "/membres/lyon/", "pages": [],
            "posts": [{"title": "Bureau", "date": "2026-10-03T00:00:00+02:00", "summary": "",
                       "url": "/membres/lyon/actualites/bureau.html"}],
            "events": [{"title": "Soirée", "start": "2026-12-01T19:00:00+01:00",
                        "end": "2026-12-01T22:00:00+01:00", "all_day": False,
                        "finishes": "2026-12-01T22:00:00+01:00", "place": "",
                        "url": "/lyon/actualites/soiree.html", "visibility": "public"}]}
    write(release / "home.json", json.dumps(data))
    members = tmp_path / "members"
    members.mkdir()
    os.symlink(os.path.relpath(release, members), members / "lyon")
    homes = HomeData(members)

    first = homes.get("lyon")
    assert first is not None and first.posts[0].title == "Bureau"
    assert homes.get("lyon") is first  # unchanged: not parsed again
    # An event over since the build is no longer "next", even before the city is rebuilt.
    assert [e.title for e in first.upcoming(datetime(2026, 12, 1, 20, 0, tzinfo=UTC))] == \
        ["Soirée"]
    assert first.upcoming(datetime(2026, 12, 1, 22, 0, tzinfo=UTC)) == []

    # A new release (the link swapped) is read at once.
    newer = tmp_path / ".releases" / "lyon" / "2" / "members"
    write(newer / "home.json", json.dumps({**data, "posts": []}))
    os.symlink(os.path.relpath(newer, members), members / "swap")
    os.replace(members / "swap", members / "lyon")
    assert homes.get("lyon").posts == ()  # type: ignore[union-attr]

    (newer / "home.json").write_text("{abîmé", encoding="utf-8")
    assert homes.get("lyon") is None  # unreadable: the page says it is not built yet
    assert homes.get("paris") is None
