"""A member's rights over their data (RGPD): download all of it as JSON (and nothing of
anyone else's), and delete the account — they can no longer sign in, their profile and
photo are gone, the messages they exchanged stay in the log, signed "ancien membre"."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE, ask_for_link, browser, engine_of, send_pending_links
from conftest import SmtpCapture
from members_helpers import addresses_in, deliver, member, members_service, signed_in, submit
from PIL import Image
from sqlalchemy import func, insert, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service.member_names import FORMER_MEMBER, display_name_or_former
from avf.service.member_roster import relay_log
from avf.store.schema import (
    contact_messages,
    former_members,
    join_requests,
    login_tokens,
    member_blocks,
    member_messages,
    moves,
    outbox,
    people,
    profiles,
    roles,
    sessions,
)

ELISE = "elise@example.org"
BERNARD = "bernard@example.net"
TROLL = "troll@example.com"
NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Starlette]:
    with members_service(tmp_path, smtp_server) as application:
        member(application, ELISE, name="Élise Martin", listed=True, about="Nantaise.")
        member(application, BERNARD, name="Bernard Petit", listed=True)
        member(application, TROLL, name="Théo Troll")
        yield application


@pytest.fixture
def elise(app: Starlette) -> TestClient:
    """Élise with a photo, a message sent, a reply received, a sender blocked, a join
    request, a move and a former membership."""
    client = signed_in(app, ELISE, ip="203.0.113.1")
    bernard = signed_in(app, BERNARD, ip="203.0.113.2")
    troll = signed_in(app, TROLL, ip="203.0.113.3")
    photo = io.BytesIO()
    Image.new("RGB", (40, 40), "blue").save(photo, "JPEG")
    submit(client, "/compte/profil", {}, action="/compte/profil/photo",
           files={"photo": ("moi.jpg", photo.getvalue(), "image/jpeg")})
    submit(client, "/compte/profil", {"nom": "Élise Martin", "a_propos": "Nantaise.",
                                      "telephone": "06 12 34 56 78", "annuaire": "oui",
                                      "nouvelles": "oui"})
    submit(client, f"/membres/lyon/annuaire/{person(app, BERNARD)}/ecrire",
           {"message": "Bonjour Bernard, je suis Élise."})
    first = messages(app)[-1]["id"]
    submit(bernard, f"/membres/lyon/messages/{first}/repondre",
           {"message": "Bienvenue Élise !"})
    submit(troll, f"/membres/lyon/annuaire/{person(app, ELISE)}/ecrire",
           {"message": "Message désagréable."})
    submit(client, f"/membres/lyon/bloquer/{person(app, TROLL)}", {})
    with engine_of(app).begin() as connection:
        for email, name in ((ELISE, "Élise Martin"), (TROLL, "Théo Troll")):
            connection.execute(insert(join_requests).values(
                city="lyon", name=name, email=email, phone="06 00 00 00 00",
                message="Je voudrais adhérer.", created_at=NOW))
        connection.execute(insert(contact_messages).values(
            city="lyon", name="Élise Martin", email=ELISE, message="Nous arrivons en mai.",
            created_at=NOW))
        connection.execute(insert(moves).values(
            person_id=person(app, ELISE), from_city="nantes", to_city="lyon", created_at=NOW))
        connection.execute(insert(former_members).values(
            person_id=person(app, ELISE), city="nantes", left_at=NOW, reason="moved",
            moved_to="lyon"))
    return client


def person(app: Starlette, email: str) -> int:
    from avf.service.accounts import person_id_for

    with engine_of(app).connect() as connection:
        found = person_id_for(connection, email)
    assert found is not None
    return found


def messages(app: Starlette) -> list[dict[str, object]]:
    with engine_of(app).connect() as connection:
        return [dict(row) for row in connection.execute(
            select(member_messages).order_by(member_messages.c.id)).mappings()]


def count(app: Starlette, table, condition) -> int:  # type: ignore[no-untyped-def]
    with engine_of(app).connect() as connection:
        return int(connection.execute(
            select(func.count()).select_from(table).where(condition)).scalar_one())


def photos(app: Starlette) -> list[Path]:
    return sorted((app.state.runtime.settings.data_dir / "photos").glob("*.jpg"))


# --- Download ------------------------------------------------------------------------

def test_the_download_holds_all_of_the_member_s_data(app: Starlette,
                                                     elise: TestClient) -> None:
    response = elise.get("/compte/donnees.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == \
        'attachment; filename="mes-donnees-avf.json"'
    assert response.headers["cache-control"] == "private, no-store"
    data = json.loads(response.text)
    assert data["format"] == "avf-donnees-membre/1"
    assert data["person"]["email"] == ELISE
    assert data["person"]["display_name"] == "Élise Martin"
    assert [(r["city"], r["role"]) for r in data["roles"]] == [("lyon", "member")]
    profile = data["profile"]
    assert (profile["about"], profile["phone"], profile["in_directory"],
            profile["news_by_email"]) == ("Nantaise.", "06 12 34 56 78", True, True)
    assert profile["directory_consent_at"] and profile["news_consent_at"]
    assert data["photo_jpeg_base64"] and profile["photo"].endswith(".jpg")
    assert [(m["to"], m["body"]) for m in data["messages_sent"]] == [
        ("Bernard Petit", "Bonjour Bernard, je suis Élise.")]
    assert [(m["from"], m["body"]) for m in data["messages_received"]] == [
        ("Bernard Petit", "Bienvenue Élise !"), ("Théo Troll", "Message désagréable.")]
    assert [b["name"] for b in data["blocked_people"]] == ["Théo Troll"]
    assert [(r["email"], r["message"]) for r in data["join_requests"]] == [
        (ELISE, "Je voudrais adhérer.")]
    assert [r["message"] for r in data["contact_messages"]] == ["Nous arrivons en mai."]
    assert [(m["from_city"], m["to_city"]) for m in data["moves"]] == [("nantes", "lyon")]
    assert [(f["city"], f["reason"]) for f in data["former_memberships"]] == [
        ("nantes", "moved")]
    assert data["sign_in_links"] and all(set(link) == {"created_at", "expires_at", "used_at"}
                                         for link in data["sign_in_links"])
    assert data["sessions"] and all(set(s) == {"created_at", "expires_at", "revoked_at"}
                                    for s in data["sessions"])


def test_the_download_holds_no_one_else_s_address_and_no_secret(app: Starlette,
                                                                elise: TestClient) -> None:
    text = elise.get("/compte/donnees.json").text
    assert addresses_in(text) == {ELISE}
    assert re.search(r"\b[0-9a-f]{64}\b", text) is None  # no token or session hash
    assert "token_hash" not in text and "id_hash" not in text


def test_the_download_is_for_the_signed_in_person_only(app: Starlette) -> None:
    response = browser(app).get("/compte/donnees.json")
    assert response.status_code == 303
    assert response.headers["location"] == "/compte/connexion?suivant=/compte/donnees.json"


# --- Deletion --------------------------------------------------------------------------

def test_the_page_explains_what_deleting_does(elise: TestClient) -> None:
    page = html.unescape(elise.get("/compte/supprimer").text)
    assert "<h1>Supprimer mon compte</h1>" in page
    assert "signés « ancien membre »" in page
    assert "vous ne pourrez plus vous connecter" in page
    assert 'href="/compte/donnees.json"' in page
    assert 'name="confirmer" value="oui"' in page


def test_nothing_is_deleted_without_the_box_ticked(app: Starlette, elise: TestClient) -> None:
    response = submit(elise, "/compte/supprimer", {})
    assert response.status_code == 400
    assert "Cochez la case" in html.unescape(response.text) and 'role="alert"' in response.text
    assert count(app, people, people.c.email == ELISE) == 1
    assert elise.post("/compte/supprimer", headers=SAME_SITE,
                      data={"confirmer": "oui"}).status_code == 403  # no token
    assert count(app, people, people.c.email == ELISE) == 1


def test_deleting_the_account(app: Starlette, elise: TestClient,
                              smtp_server: SmtpCapture) -> None:
    elise_id = person(app, ELISE)
    [photo] = photos(app)
    assert len(deliver(app, smtp_server, 3)) == 3  # her message, Bernard's reply, the troll's
    assert count(app, outbox, outbox.c.to_address == ELISE) > 0
    response = submit(elise, "/compte/supprimer", {"confirmer": "oui"})
    assert response.status_code == 200
    assert "<h1>Votre compte est supprimé</h1>" in html.unescape(response.text)
    cleared = response.headers["set-cookie"]
    assert cleared.startswith('avf_session=""') and "Max-Age=0" in cleared

    # Gone: the person and all that was hers alone.
    for table, column in ((people, people.c.id), (roles, roles.c.person_id),
                          (profiles, profiles.c.person_id), (sessions, sessions.c.person_id),
                          (login_tokens, login_tokens.c.person_id),
                          (member_blocks, member_blocks.c.blocker_id),
                          (moves, moves.c.person_id),
                          (former_members, former_members.c.person_id)):
        assert count(app, table, column == elise_id) == 0, table.name
    assert count(app, join_requests, join_requests.c.email == ELISE) == 0
    assert count(app, join_requests, join_requests.c.email == TROLL) == 1  # not hers
    assert count(app, contact_messages, contact_messages.c.email == ELISE) == 0
    assert not photo.exists()

    # The messages stay, her side anonymised, shown as "ancien membre".
    rows = messages(app)
    assert [(r["sender_id"], r["recipient_id"]) for r in rows] == [
        (None, person(app, BERNARD)), (person(app, BERNARD), None),
        (person(app, TROLL), None)]
    assert rows[0]["body"] == "Bonjour Bernard, je suis Élise."
    with engine_of(app).connect() as connection:
        assert display_name_or_former(connection, elise_id) == FORMER_MEMBER
        log = relay_log(connection, "lyon")
    assert [(line.sender, line.recipient) for line in log] == [
        ("Théo Troll", FORMER_MEMBER), ("Bernard Petit", FORMER_MEMBER),
        (FORMER_MEMBER, "Bernard Petit")]

    # Signed out, and no sign-in link is sent to her address any more.
    assert elise.get("/compte/profil").status_code == 303
    assert ask_for_link(browser(app, ip="203.0.113.9"), ELISE).status_code == 200
    assert send_pending_links(app) == 0

    # Bernard can no longer answer her, and is told so; she left the directory.
    bernard = signed_in(app, BERNARD, ip="203.0.113.2")
    reply = f"/membres/lyon/messages/{rows[0]['id']}/repondre"
    assert "n'a plus de compte" in html.unescape(bernard.get(reply).text)
    assert submit(bernard, reply, {"message": "Vous êtes là ?"}).status_code == 410
    assert "Élise" not in bernard.get("/membres/lyon/annuaire/").text
    assert len(messages(app)) == 3
    # The mails that were addressed to her are not kept either.
    assert count(app, outbox, outbox.c.to_address == ELISE) == 0
