"""« Je déménage »: a member of Lyon moves to Paris. Real app (TestClient), real SQLite,
the real mail worker and SMTP server (aiosmtpd): the welcome team of Paris is told, the
member's address only if they agreed; the member joins Paris in one click from the mail;
Lyon keeps them as a former member."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from auth_helpers import (
    SAME_SITE,
    add_person,
    browser,
    csrf_token,
    engine_of,
    link_in_mail,
    sign_in,
    use_link,
)
from conftest import SmtpCapture, service_settings, write_city
from sqlalchemy import insert, select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service import create_app
from avf.service.accounts import grant_role, load_person, person_id_for
from avf.service.membership import remove
from avf.service.moving import PER_PERSON
from avf.store.schema import former_members, moves, outbox, roles

MEMBER = "odile.martin@example.org"
PARIS_TEAM = "accueil@avf-paris.example.org"
PARIS_CARD = """\
name: "AVF Paris"
city: "Paris"
slug: "paris"
postal_code: "75001"
department: "Paris"
department_code: "75"
region: "Île-de-France"
email: "accueil@avf-paris.example.org"
lat: 48.86
lon: 2.35
phone: "01 40 00 00 00"
opening_hours:
  - "mercredi 14 h – 17 h"
"""
MESSAGE = "Nous arrivons avec notre chien ; avez-vous des randonnées ?"


@pytest.fixture
def app(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Starlette]:
    content = tmp_path / "content"
    write_city(content, "lyon")
    write_city(content, "paris", card=PARIS_CARD)
    write_city(content, "evry")  # « AVF Evry »: sorted as people read, accents aside
    application = create_app(service_settings(tmp_path, content, smtp_server,
                                              run_workers=False))
    with browser(application):
        add_person(application, MEMBER, ("member", "lyon"), name="Odile Martin")
        yield application


def signed_in(app: Starlette, email: str = MEMBER) -> TestClient:
    client = browser(app)
    sign_in(client, app, email)
    return client


def ask_to_move(client: TestClient, **fields: str):  # type: ignore[no-untyped-def]
    data = {"depart": "lyon", "destination": "paris", "arrivee": "2027-09-15",
            "message": MESSAGE, **fields}
    data["csrf_token"] = csrf_token(client, "/compte/demenager")
    return client.post("/compte/demenager", headers=SAME_SITE, data=data)


def delivered(app: Starlette, smtp: SmtpCapture) -> dict[str, EmailMessage]:
    """Send the outbox through the real SMTP server; the messages by recipient."""
    app.state.runtime.mail.send_due()
    return {str(message["To"]): message for message in smtp.messages}


def text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def whole(message: EmailMessage) -> str:
    """Every part and header of a mail, as sent."""
    return message.as_string() + text(message) + \
        message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_the_form_offers_the_member_s_cities_and_every_city_of_the_network(
        app: Starlette) -> None:
    page = signed_in(app).get("/compte/demenager")
    assert page.status_code == 200
    body = html.unescape(page.text)
    assert body.count("<h1>") == 1
    assert '<option value="lyon" selected>AVF Lyon</option>' in body  # their only city
    destinations = re.findall(r'<option value="([a-z-]+)"',
                              body[body.index('name="destination"'):])
    assert destinations == ["evry", "lyon", "paris"]
    checkbox = re.search(r'<input type="checkbox" id="partager-adresse"[^>]*>', body)
    assert checkbox and "checked" not in checkbox.group(0)  # off by default
    assert '<label for="partager-adresse"' in body
    assert "l'équipe d'accueil de ma future ville peut voir mon adresse email" in body.lower()


def test_only_signed_in_members_may_move(app: Starlette) -> None:
    visitor = browser(app)
    response = visitor.get("/compte/demenager")
    assert response.status_code == 303
    assert response.headers["location"] == "/compte/connexion?suivant=/compte/demenager"
    add_person(app, "web@example.org", ("webmaster", ""))
    webmaster = signed_in(app, "web@example.org")
    refused = webmaster.get("/compte/demenager")
    assert refused.status_code == 403 and "adhérent d'aucune AVF" in html.unescape(refused.text)
    with engine_of(app).begin() as connection:  # a suspended membership counts for nothing
        connection.execute(update(roles).where(roles.c.city == "lyon")
                           .values(suspended_at=datetime.now(UTC)))
    assert signed_in(app).get("/compte/demenager").status_code == 403


def test_without_consent_the_team_learns_neither_name_nor_address(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    client = signed_in(app)
    response = ask_to_move(client)
    assert response.status_code == 303
    assert re.fullmatch(r"/compte/demenager/\d+/rejoindre\?envoye=1",
                        response.headers["location"])
    with engine_of(app).connect() as connection:
        move = connection.execute(select(moves)).mappings().one()
        queued = connection.execute(select(outbox).where(outbox.c.to_address == PARIS_TEAM)
                                    ).mappings().one()
    assert (move["from_city"], move["to_city"], move["share_address"]) == \
        ("lyon", "paris", False)
    assert move["joined_at"] is None
    assert queued["reply_to"] is None

    mails = delivered(app, smtp_server)
    team = mails[PARIS_TEAM]
    assert team["Subject"] == "Un·e adhérent·e de l'association AVF Lyon arrive à Paris"
    body = text(team)
    assert "Arrivée prévue : 15 septembre 2027" in body
    assert MESSAGE in body
    assert "préféré ne pas transmettre son nom ni son adresse" in body
    for leak in (MEMBER, "odile", "Odile", "Martin"):
        assert leak not in whole(team), leak
    assert "Reply-To" not in team

    invitation = mails[MEMBER]
    assert invitation["Subject"] == "Rejoindre AVF Paris en un clic"
    assert "01 40 00 00 00 (mercredi 14 h – 17 h)" in text(invitation)
    assert "http://avf.test/contact/paris" in text(invitation)
    assert PARIS_TEAM not in whole(invitation)  # the team's address stays with the service
    assert MESSAGE not in whole(invitation)

    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "sans votre nom ni votre adresse" in html.unescape(page.text)


def test_with_consent_the_team_can_answer_the_member_directly(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    client = signed_in(app)
    assert ask_to_move(client, partager_adresse="oui", arrivee="", message="").status_code == 303
    team = delivered(app, smtp_server)[PARIS_TEAM]
    assert team["Reply-To"] == MEMBER
    body = text(team)
    assert f"Adresse email : {MEMBER}" in body and "Nom : Odile Martin" in body
    assert "Arrivée prévue" not in body and "Son message" not in body


def test_the_member_joins_in_one_click_from_the_mail_and_lyon_keeps_their_history(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    assert ask_to_move(signed_in(app)).status_code == 303
    link = link_in_mail(delivered(app, smtp_server)[MEMBER])

    elsewhere = browser(app)  # another device: the link signs in, then comes back
    arrived = use_link(elsewhere, link)
    assert arrived.status_code == 303
    join_page = arrived.headers["location"]
    assert re.fullmatch(r"/compte/demenager/\d+/rejoindre", join_page)
    page = elsewhere.get(join_page)
    assert "<h1>Rejoindre AVF Paris</h1>" in page.text
    assert 'class="button-big">Rejoindre AVF Paris</button>' in page.text
    assert elsewhere.get("/membres/paris/").status_code == 403  # not before the button

    joined = elsewhere.post(join_page, headers=SAME_SITE,
                            data={"csrf_token": csrf_token(elsewhere, join_page)})
    assert joined.status_code == 303 and joined.headers["location"] == "/membres/paris/"
    assert elsewhere.get("/membres/paris/").status_code == 200
    assert elsewhere.get("/membres/lyon/").status_code == 403
    with engine_of(app).connect() as connection:
        held = connection.execute(select(roles.c.city, roles.c.role)).all()
        former = connection.execute(select(former_members)).mappings().one()
        move = connection.execute(select(moves)).mappings().one()
    assert [tuple(row) for row in held] == [("paris", "member")]
    assert (former["city"], former["reason"], former["moved_to"]) == ("lyon", "moved", "paris")
    assert move["joined_at"] is not None

    # A second click changes nothing and leads to the new members' home.
    again = elsewhere.post(join_page, headers=SAME_SITE,
                           data={"csrf_token": csrf_token(elsewhere, join_page)})
    assert again.headers["location"] == "/membres/paris/"
    assert "Vous avez rejoint AVF Paris le" in html.unescape(elsewhere.get(join_page).text)
    with engine_of(app).connect() as connection:
        assert len(connection.execute(select(former_members)).all()) == 1


def test_a_move_is_its_member_s_only(app: Starlette) -> None:
    response = ask_to_move(signed_in(app))
    join_page = response.headers["location"].partition("?")[0]
    add_person(app, "voisin@example.org", ("member", "lyon"))
    neighbour = signed_in(app, "voisin@example.org")
    assert neighbour.get(join_page).status_code == 404
    refused = neighbour.post(join_page, headers=SAME_SITE,
                             data={"csrf_token": csrf_token(neighbour, "/compte/")})
    assert refused.status_code == 404
    assert neighbour.get("/compte/demenager/99999999999999999999/rejoindre").status_code == 404
    signed_out = browser(app)
    assert signed_out.get(join_page).headers["location"] == \
        f"/compte/connexion?suivant={join_page}"
    with engine_of(app).connect() as connection:
        assert connection.execute(select(moves.c.joined_at)).scalar() is None


def test_a_suspended_membership_cannot_move_by_itself(app: Starlette) -> None:
    client = signed_in(app)
    join_page = ask_to_move(client).headers["location"].partition("?")[0]
    with engine_of(app).begin() as connection:
        connection.execute(update(roles).where(roles.c.city == "lyon")
                           .values(suspended_at=datetime.now(UTC)))
    refused = client.post(join_page, headers=SAME_SITE,
                          data={"csrf_token": csrf_token(client, join_page)})
    assert refused.status_code == 403
    with engine_of(app).connect() as connection:
        assert connection.execute(select(roles.c.city)).scalars().all() == ["lyon"]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"destination": ""}, "destination", "Choisissez la ville où vous vous installez"),
    ({"destination": "atlantide"}, "destination", "Choisissez la ville où vous vous installez"),
    ({"destination": "lyon"}, "destination", "Choisissez une autre ville"),
    ({"depart": "paris"}, "depart", "Choisissez la ville que vous quittez"),
    ({"arrivee": "bientôt"}, "arrivee", "jour/mois/année"),
    ({"arrivee": "31/02/2027"}, "arrivee", "jour/mois/année"),
    ({"message": "x" * 2001}, "message", "compte 2001 caractères"),
])
def test_mistakes_are_shown_beside_their_field(app: Starlette, fields: dict[str, str],
                                               field: str, message: str) -> None:
    response = ask_to_move(signed_in(app), **fields)
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert 'role="alert"' in page and f'href="#contact-{field}"' in page
    assert message in page
    assert 'aria-invalid="true"' in page
    with engine_of(app).connect() as connection:
        assert connection.execute(select(moves)).all() == []
        assert connection.execute(select(outbox).where(
            outbox.c.kind != "login_link")).all() == []


def test_a_french_date_is_understood(app: Starlette, smtp_server: SmtpCapture) -> None:
    assert ask_to_move(signed_in(app), arrivee="1/3/2027").status_code == 303
    assert "Arrivée prévue : 1er mars 2027" in text(delivered(app, smtp_server)[PARIS_TEAM])


def test_forged_posts_and_signed_out_posts_are_refused(app: Starlette) -> None:
    client = signed_in(app)
    data = {"depart": "lyon", "destination": "paris",
            "csrf_token": csrf_token(client, "/compte/demenager")}
    assert client.post("/compte/demenager", data=data,
                       headers={"Origin": "https://ailleurs.example"}).status_code == 403
    assert client.post("/compte/demenager", headers=SAME_SITE,
                       data={**data, "csrf_token": "faux"}).status_code == 403
    visitor = browser(app)
    assert visitor.post("/compte/demenager", headers=SAME_SITE,
                        data={**data, "csrf_token": csrf_token(visitor)}).status_code == 401
    with engine_of(app).connect() as connection:
        assert connection.execute(select(moves)).all() == []


def test_a_member_cannot_write_to_the_whole_network(app: Starlette) -> None:
    client = signed_in(app)
    for _ in range(PER_PERSON.attempts):
        assert ask_to_move(client).status_code == 303
    refused = ask_to_move(client)
    assert refused.status_code == 429
    with engine_of(app).connect() as connection:
        assert len(connection.execute(select(moves)).all()) == PER_PERSON.attempts
    page = html.unescape(client.get("/compte/demenager").text)
    assert "Déjà signalé" in page and "rejoindre AVF Paris" in page


def test_a_removed_member_cannot_come_back_through_a_move(app: Starlette) -> None:
    """Removal is stronger than suspension: a move recorded before it carries nobody, and a
    city that removed someone is not joined again through a move from elsewhere."""
    client = signed_in(app)
    join_page = ask_to_move(client).headers["location"].partition("?")[0]
    member = person_id_for_email(app, MEMBER)
    with engine_of(app).begin() as connection:  # Lyon's admin removes Odile
        remove(connection, load_person(connection, add_admin(app, "lyon")), member, "lyon")
        assert connection.execute(select(moves.c.id)).first() is None  # dropped
    refused = client.post(join_page, headers=SAME_SITE,
                          data={"csrf_token": csrf_token(client, join_page)})
    assert refused.status_code == 404  # the move is gone

    # Removed by Paris, member of Lyon again: a move Lyon → Paris does not let her back.
    with engine_of(app).begin() as connection:
        grant_role(connection, member, "member", "lyon")
        connection.execute(insert(former_members).values(
            person_id=member, city="paris", left_at=datetime.now(UTC), reason="removed"))
    second = ask_to_move(client)
    assert second.status_code == 303, second.text[-600:]
    join_page = second.headers["location"].partition("?")[0]
    refused = client.post(join_page, headers=SAME_SITE,
                          data={"csrf_token": csrf_token(client, join_page)})
    assert refused.status_code == 403 and "réinscrire" in refused.text
    with engine_of(app).connect() as connection:
        assert connection.execute(select(roles.c.city).where(
            roles.c.person_id == member)).scalars().all() == ["lyon"]


def person_id_for_email(app: Starlette, email: str) -> int:
    with engine_of(app).connect() as connection:
        return int(person_id_for(connection, email))  # type: ignore[arg-type]


def add_admin(app: Starlette, city: str) -> int:
    return add_person(app, f"responsable-{city}@example.org", ("admin", city))
