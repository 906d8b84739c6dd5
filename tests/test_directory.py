"""The city directory (`/membres/<city>/annuaire/`): who is listed (active members who
chose to be, nobody by default), who may read it (the city's members, its volunteers, the
webmaster), and that no page of it ever shows an address."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from auth_helpers import browser, engine_of
from conftest import SmtpCapture
from members_helpers import addresses_in, member, members_service, signed_in
from sqlalchemy import update
from starlette.applications import Starlette

from avf.service.photos import photos_dir, store_photo
from avf.service.profiles import set_photo
from avf.store.schema import roles

DIRECTORY = "/membres/lyon/annuaire/"


@pytest.fixture
def app(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Starlette]:
    with members_service(tmp_path, smtp_server) as application:
        member(application, "lecteur@example.org", name="Louis Lecteur")
        member(application, "elise@example.org", name="Élise Martin", listed=True,
               about="Arrivée de Nantes en 2025.", interests="randonnée, chorale",
               languages="français, anglais")
        member(application, "bruno@example.org", name="Bruno Aubert", listed=True)
        member(application, "discret@example.org", name="Denise Discrète")  # not opted in
        member(application, "parisien@example.org", city="paris", name="Paul Parisien",
               listed=True)
        yield application


def names_listed(page: str) -> list[str]:
    return [html.unescape(part.split("</h2>")[0]) for part in page.split('1.25rem">')[1:]]


def test_only_members_who_opted_in_are_listed_by_name(app: Starlette) -> None:
    response = signed_in(app, "lecteur@example.org").get(DIRECTORY)
    assert response.status_code == 200
    assert names_listed(response.text) == ["Bruno Aubert", "Élise Martin"]  # by name
    page = html.unescape(response.text)
    assert "Arrivée de Nantes en 2025." in page
    assert "<strong>Centres d'intérêt :</strong> randonnée, chorale" in page
    assert "<strong>Langues parlées :</strong> français, anglais" in page
    assert "Denise" not in page  # off by default
    assert "Paul Parisien" not in page  # another city's member
    assert "Louis Lecteur" not in page.split("<h1>")[1]  # the viewer did not opt in either
    assert "Vous n'apparaissez pas dans l'annuaire" in page
    assert response.headers["cache-control"] == "private, no-store"
    assert '<span class="brand-name">AVF Lyon</span>' in page  # drawn as the city's page


def test_no_address_of_anyone_appears_in_the_directory(app: Starlette) -> None:
    client = signed_in(app, "lecteur@example.org")
    response = client.get(DIRECTORY)
    assert addresses_in(response.text) == set()
    assert "example.org" not in response.text
    assert "example.org" not in str(response.headers)


def test_each_card_offers_to_write_except_one_s_own(app: Starlette) -> None:
    page = signed_in(app, "elise@example.org").get(DIRECTORY).text
    bruno = member_id(app, "bruno@example.org")
    elise = member_id(app, "elise@example.org")
    assert f'href="/membres/lyon/annuaire/{bruno}/ecrire"' in page
    assert f"/annuaire/{elise}/ecrire" not in page
    assert "Vous y apparaissez" in page


def test_a_suspended_member_is_not_listed(app: Starlette) -> None:
    with engine_of(app).begin() as connection:
        connection.execute(update(roles).where(
            roles.c.person_id == member_id(app, "bruno@example.org"))
            .values(suspended_at=datetime.now(UTC)))
    page = signed_in(app, "lecteur@example.org").get(DIRECTORY).text
    assert names_listed(page) == ["Élise Martin"]


def test_a_member_listed_without_a_name_is_not_shown(app: Starlette) -> None:
    member(app, "anonyme@example.org", name="", listed=True)
    page = signed_in(app, "lecteur@example.org").get(DIRECTORY).text
    assert names_listed(page) == ["Bruno Aubert", "Élise Martin"]


def test_the_city_s_admin_and_the_webmaster_may_read_it(app: Starlette) -> None:
    member(app, "responsable@example.org", name="Rose Responsable", role="admin")
    member(app, "web@example.org", city="", name="Wanda Web", role="webmaster")
    for email in ("responsable@example.org", "web@example.org"):
        response = signed_in(app, email).get(DIRECTORY)
        assert response.status_code == 200
        assert names_listed(response.text) == ["Bruno Aubert", "Élise Martin"]


def test_another_city_s_member_and_visitors_may_not(app: Starlette) -> None:
    parisian = signed_in(app, "parisien@example.org")
    refused = parisian.get(DIRECTORY)
    assert refused.status_code == 403
    assert "Élise" not in refused.text and "Bruno" not in refused.text
    assert parisian.get("/membres/paris/annuaire/").status_code == 200
    visitor = browser(app).get(DIRECTORY)
    assert visitor.status_code == 303
    assert visitor.headers["location"] == f"/compte/connexion?suivant={DIRECTORY}"


def test_the_directory_without_its_slash_and_an_unknown_city(app: Starlette) -> None:
    client = signed_in(app, "lecteur@example.org")
    response = client.get("/membres/lyon/annuaire")
    assert response.status_code == 308 and response.headers["location"] == DIRECTORY
    member(app, "web@example.org", city="", name="Wanda Web", role="webmaster")
    webmaster = signed_in(app, "web@example.org")
    assert webmaster.get("/membres/atlantide/annuaire/").status_code == 404


def test_photos_are_shown_to_the_city_s_members_only_while_their_owner_is_listed(
        app: Starlette) -> None:
    folder = photos_dir(app.state.runtime.settings.data_dir)
    name = store_photo(folder, b"\xff\xd8\xff\xe0 a JPEG")
    elise = member_id(app, "elise@example.org")
    with engine_of(app).begin() as connection:
        set_photo(connection, elise, name)
    path = f"/membres/lyon/annuaire/photos/{name}"
    reader = signed_in(app, "lecteur@example.org")
    assert f'src="{path}" alt="Photo de Élise Martin"' in html.unescape(reader.get(DIRECTORY).text)
    photo = reader.get(path)
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"].startswith("private")
    assert signed_in(app, "parisien@example.org", ip="203.0.113.8").get(path).status_code == 403
    assert browser(app).get(path).status_code == 303
    assert reader.get("/membres/lyon/annuaire/photos/../avf.sqlite3").status_code == 404
    assert reader.get("/membres/lyon/annuaire/photos/inconnue.jpg").status_code == 404
    member(app, "elise@example.org", name="Élise Martin", listed=False)  # she leaves it
    assert reader.get(path).status_code == 404


def member_id(app: Starlette, email: str) -> int:
    from avf.service.accounts import person_id_for

    with engine_of(app).connect() as connection:
        found = person_id_for(connection, email)
    assert found is not None
    return found
