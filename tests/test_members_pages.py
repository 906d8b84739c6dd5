"""Member-only pages of a really built network, served by the service: to the city's
members (and its volunteers, and the webmaster), never to anyone else."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from auth_helpers import add_person, browser, engine_of, sign_in
from conftest import SmtpCapture, build, post, service_settings, write, write_city
from starlette.applications import Starlette

from avf.service import create_app
from avf.service.accounts import person_id_for, revoke_role
from avf.service.members import member_file

MEMBERS_POST = "/membres/lyon/actualites/compte-rendu-de-l-assemblee.html"
SECRET = "Le budget de la sortie à Annecy"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Content and output of a network of two cities, each with a member-only post."""
    root = tmp_path_factory.mktemp("members")
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café d'accueil"),
        "posts/2026-10-02-compte-rendu-de-l-assemblee.md": post(
            "Compte rendu de l'assemblée", extra="visibility: members",
            body=f"{SECRET} est voté."),
        "pages/reglement.md": '---\ntitle: "Règlement intérieur"\nvisibility: members\n---\n\n'
                              "Article premier.\n",
    })
    write_city(content, "paris", {
        "posts/2026-10-03-bureau.md": post("Réunion du bureau", extra="visibility: members"),
    })
    result = build(content, root / "output")
    assert result.ok
    return content, root / "output"


@pytest.fixture
def app(tmp_path: Path, built: tuple[Path, Path], smtp_server: SmtpCapture,
        ) -> Iterator[Starlette]:
    content, output = built
    settings = service_settings(tmp_path, content, smtp_server, run_workers=False)
    application = create_app(replace(settings, output_dir=output))  # the build's output
    with browser(application):
        add_person(application, "adherente@example.org", ("member", "lyon"))
        add_person(application, "parisien@example.org", ("member", "paris"))
        add_person(application, "responsable@example.org", ("admin", "lyon"))
        add_person(application, "web@example.org", ("webmaster", ""))
        yield application


def test_the_build_kept_the_post_out_of_the_public_site(built: tuple[Path, Path]) -> None:
    _, output = built
    public = [path for path in (output / "public" / "lyon").rglob("*.html")
              if SECRET in path.read_text(encoding="utf-8")]
    assert public == []
    assert SECRET in (output / "members" / "lyon" / "actualites" /
                      "compte-rendu-de-l-assemblee.html").read_text(encoding="utf-8")


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(app: Starlette) -> None:
    client = browser(app)
    response = client.get(MEMBERS_POST)
    assert response.status_code == 303
    assert response.headers["location"] == f"/compte/connexion?suivant={MEMBERS_POST}"
    assert SECRET not in response.text
    assert client.get(MEMBERS_POST.replace("/membres/", "/")).status_code == 404  # not public
    assert sign_in(client, app, "adherente@example.org", MEMBERS_POST) == MEMBERS_POST
    assert SECRET in client.get(MEMBERS_POST).text


def test_a_member_of_another_city_is_refused(app: Starlette) -> None:
    client = browser(app)
    sign_in(client, app, "parisien@example.org")
    for path in (MEMBERS_POST, "/membres/lyon/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Cette page est réservée (adhérent·e de « lyon »)" in response.text
        assert "Connecté·e" in response.text and "Me déconnecter" in response.text
        assert SECRET not in response.text
    assert client.get("/membres/paris/").status_code == 200  # their own city


@pytest.mark.parametrize("email", ["adherente@example.org", "responsable@example.org",
                                   "web@example.org"])
def test_the_city_s_members_volunteers_and_the_webmaster_read_it(app: Starlette,
                                                                  email: str) -> None:
    client = browser(app)
    sign_in(client, app, email)
    page = client.get(MEMBERS_POST)
    assert page.status_code == 200
    assert SECRET in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["content-type"].startswith("text/html")
    home = client.get("/membres/lyon/")  # the members' home (members_home.py)
    assert home.status_code == 200 and home.headers["cache-control"] == "private, no-store"
    assert f'href="{MEMBERS_POST}"' in home.text
    index = client.get("/membres/lyon/index.html")  # the build's own list
    assert index.status_code == 200 and index.headers["cache-control"] == "private, no-store"
    assert f'href="http://avf.test{MEMBERS_POST}"' in index.text


def test_the_service_s_own_members_pages_sit_beside_the_built_ones(app: Starlette) -> None:
    """The directory and the relay (directory_pages, relay_pages) come before this
    module's catch-all: their paths are the service's, the rest still the build's."""
    client = browser(app)
    sign_in(client, app, "adherente@example.org")
    directory = client.get("/membres/lyon/annuaire/")
    assert directory.status_code == 200 and "Annuaire des membres" in directory.text
    assert client.get("/membres/lyon/messages/envoye").status_code == 200
    assert client.get("/membres/lyon/bloquer/999").status_code == 404
    assert SECRET in client.get(MEMBERS_POST).text
    assert client.get("/membres/lyon/annuaire/inconnu.html").status_code == 404


def test_folders_missing_files_and_paths_that_leave_the_area(app: Starlette) -> None:
    client = browser(app)
    sign_in(client, app, "adherente@example.org")
    assert client.get("/membres/lyon").headers["location"] == "/membres/lyon/"
    assert client.get("/membres/lyon/reglement").headers["location"] == \
        "/membres/lyon/reglement/"
    assert "Article premier." in client.get("/membres/lyon/reglement/").text
    assert client.get("/membres/lyon/actualites/").status_code == 404  # no index there
    assert client.get("/membres/lyon/actualites/rien.html").status_code == 404
    for sneaky in ("/membres/lyon/%2e%2e/paris/index.html",
                   "/membres/lyon/..%2fparis/index.html",
                   "/membres/lyon/.%2e/.%2e/public/lyon/index.html",
                   "/membres/lyon/%2e%2e/%2e%2e/.releases/"):
        response = client.get(sneaky)
        assert response.status_code == 404, sneaky
        assert "Réunion du bureau" not in response.text


def test_a_revoked_membership_is_gone_on_the_next_request(app: Starlette) -> None:
    client = browser(app)
    sign_in(client, app, "adherente@example.org")
    assert client.get(MEMBERS_POST).status_code == 200
    with engine_of(app).begin() as connection:
        person = person_id_for(connection, "adherente@example.org")
        assert person is not None and revoke_role(connection, person, "member", "lyon")
    assert client.get(MEMBERS_POST).status_code == 403


def test_only_files_inside_the_city_s_release_are_served(tmp_path: Path) -> None:
    """The layout of build/publish.py: OUT/members/<city> is a link to a release."""
    release = tmp_path / ".releases" / "lyon" / "1" / "members"
    write(release / "index.html", "index")
    write(release / "actualites" / "ag.html", "ag")
    write(release / ".cachee.html", "cachée")
    write(tmp_path / "ailleurs.html", "hors de l'espace")
    os.symlink(tmp_path / "ailleurs.html", release / "lien.html")
    members = tmp_path / "members"
    members.mkdir()
    os.symlink(os.path.relpath(release, members), members / "lyon")

    assert member_file(members, "lyon", "") == (release / "index.html").resolve()
    assert member_file(members, "lyon", "actualites/ag.html") == \
        (release / "actualites" / "ag.html").resolve()
    for refused in (".cachee.html", "lien.html", "../../../../ailleurs.html",
                    "actualites/../../1/members/index.html", "actualites"):
        assert member_file(members, "lyon", refused) is None, refused
    assert member_file(members, "paris", "index.html") is None
