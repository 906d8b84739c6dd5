"""Members write to each other through the service: a real SMTP server receives each
relayed mail, which never holds the other person's address; the recipient replies
through the relay or blocks the sender; every message is kept for the admins; senders are
rate-limited; nothing crosses from one city to another."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE, engine_of
from conftest import SmtpCapture
from members_helpers import addresses_in, deliver, member, members_service, signed_in, submit
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service.member_roster import relay_log
from avf.service.ratelimit import RateLimiter
from avf.service.relay import NOT_DELIVERABLE, PER_DAY
from avf.store.schema import member_messages, roles

ALICE = "alice.durand@example.org"
BERNARD = "bernard@example.net"
PARIS = "paul@example.com"
REPLY_LINK = re.compile(r"http://avf\.test(/membres/lyon/messages/(\d+)/repondre)")
BLOCK_LINK = re.compile(r"http://avf\.test(/membres/lyon/bloquer/(\d+))")


@pytest.fixture
def app(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Starlette]:
    with members_service(tmp_path, smtp_server) as application:
        member(application, ALICE, name="Alice Durand")  # writes, is not listed herself
        member(application, BERNARD, name="Bernard Petit", listed=True)
        member(application, PARIS, city="paris", name="Paul Parisien", listed=True)
        yield application


@pytest.fixture
def alice(app: Starlette) -> TestClient:
    return signed_in(app, ALICE, ip="203.0.113.1")


@pytest.fixture
def bernard(app: Starlette) -> TestClient:
    return signed_in(app, BERNARD, ip="203.0.113.2")


def person(app: Starlette, email: str) -> int:
    from avf.service.accounts import person_id_for

    with engine_of(app).connect() as connection:
        found = person_id_for(connection, email)
    assert found is not None
    return found


def write_to(client: TestClient, recipient_id: int, text: str, city: str = "lyon"):  # type: ignore[no-untyped-def]
    page = f"/membres/{city}/annuaire/{recipient_id}/ecrire"
    return submit(client, page, {"message": text})


def messages(app: Starlette) -> list[dict[str, object]]:
    with engine_of(app).connect() as connection:
        return [dict(row) for row in connection.execute(
            select(member_messages).order_by(member_messages.c.id)).mappings()]


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def html_of(mail: EmailMessage) -> str:
    return mail.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_a_message_goes_there_and_back_without_an_address_then_the_sender_is_blocked(
        app: Starlette, alice: TestClient, bernard: TestClient,
        smtp_server: SmtpCapture) -> None:
    alice_id, bernard_id = person(app, ALICE), person(app, BERNARD)

    # Alice writes from Bernard's card.
    form = alice.get(f"/membres/lyon/annuaire/{bernard_id}/ecrire")
    assert form.status_code == 200
    assert "<h1>Écrire à Bernard Petit</h1>" in html.unescape(form.text)
    assert addresses_in(form.text) == set()
    sent = write_to(alice, bernard_id, "Bonjour Bernard,\nOn marche ensemble samedi ?")
    assert sent.status_code == 303
    assert sent.headers["location"] == "/membres/lyon/messages/envoye"
    assert "Votre message est parti" in alice.get(sent.headers["location"]).text

    [mail] = deliver(app, smtp_server, 1)
    raw = mail.as_string()
    assert mail["To"] == BERNARD
    assert mail["Reply-To"] is None
    # Her name, never her address, in any header or part (encoded or not).
    assert ALICE not in raw.lower() and "example.org" not in raw.lower()
    assert "Reply-To" not in raw
    assert mail["Subject"] == "Message de Alice Durand (AVF Lyon)"
    text = text_of(mail)
    assert "Alice Durand, membre de l'AVF Lyon, vous écrit :" in text
    assert "Bonjour Bernard,\nOn marche ensemble samedi ?" in text
    assert "Pour répondre, utilisez le lien ci-dessous : votre adresse reste cachée." in text
    reply_path, first_id = REPLY_LINK.search(text).groups()  # type: ignore[union-attr]
    block_path, blocked_id = BLOCK_LINK.search(text).groups()  # type: ignore[union-attr]
    assert int(blocked_id) == alice_id
    page = html_of(mail)
    assert f'href="http://avf.test{reply_path}"' in page and ">Répondre</a>" in page
    assert f'href="http://avf.test{block_path}">Bloquer cette personne</a>' in page

    # Alice cannot answer her own message; Bernard answers through the link.
    assert alice.get(reply_path).status_code == 404
    reply_form = bernard.get(reply_path)
    assert reply_form.status_code == 200
    shown = html.unescape(reply_form.text)
    assert "<h1>Répondre à Alice Durand</h1>" in shown and "On marche ensemble samedi ?" in shown
    assert addresses_in(reply_form.text) == set()
    assert submit(bernard, reply_path, {"message": "Avec plaisir !"}).status_code == 303
    [_, answer] = deliver(app, smtp_server, 2)
    assert answer["To"] == ALICE and answer["Reply-To"] is None
    assert BERNARD not in answer.as_string() and "example.net" not in answer.as_string()
    assert answer["Subject"] == "Réponse de Bernard Petit (AVF Lyon)"
    assert "Bernard Petit, membre de l'AVF Lyon, vous écrit en réponse à votre message :" \
        in text_of(answer)

    # Bernard blocks Alice from the first mail's link.
    confirm = bernard.get(block_path)
    assert confirm.status_code == 200
    assert "<h1>Bloquer Alice Durand ?</h1>" in html.unescape(confirm.text)
    assert addresses_in(confirm.text) == set()
    done = submit(bernard, block_path, {})
    assert done.status_code == 200 and "ne peut plus vous écrire" in html.unescape(done.text)

    # Alice can write to him no more, nor reply: the same words as for anyone unreachable.
    refused = alice.get(f"/membres/lyon/annuaire/{bernard_id}/ecrire")
    assert refused.status_code == 403 and NOT_DELIVERABLE in html.unescape(refused.text)
    again = write_to(alice, bernard_id, "Pourquoi ?")
    assert again.status_code == 403
    page = html.unescape(again.text)
    assert NOT_DELIVERABLE in page and "bloqu" not in page.split("<h1>")[1]
    assert "Pourquoi ?</textarea>" in page  # her text, to keep
    answer_reply_path = REPLY_LINK.search(text_of(answer)).group(1)  # type: ignore[union-attr]
    refused_reply = submit(alice, answer_reply_path, {"message": "Et pourtant…"})
    assert refused_reply.status_code == 403
    assert NOT_DELIVERABLE in html.unescape(refused_reply.text)

    # The log: both relayed messages, nothing of the refused ones.
    rows = messages(app)
    assert [(r["city"], r["sender_id"], r["recipient_id"], r["in_reply_to"], r["body"])
            for r in rows] == [
        ("lyon", alice_id, bernard_id, None, "Bonjour Bernard,\nOn marche ensemble samedi ?"),
        ("lyon", bernard_id, alice_id, int(first_id), "Avec plaisir !")]
    with engine_of(app).connect() as connection:
        log = relay_log(connection, "lyon")
    assert [(line.sender, line.recipient) for line in log] == [
        ("Bernard Petit", "Alice Durand"), ("Alice Durand", "Bernard Petit")]
    assert app.state.runtime.mail.send_due() == 0  # the refused messages queued nothing

    # Unblocked from his profile, she may write again.
    profile = html.unescape(bernard.get("/compte/profil").text)
    assert "Alice Durand</strong>, bloquée le" in profile
    unblocked = submit(bernard, "/compte/profil", {"personne": str(alice_id)},
                       action="/compte/profil/debloquer")
    assert unblocked.headers["location"] == "/compte/profil?debloque"
    assert write_to(alice, bernard_id, "Merci !").status_code == 303


def test_the_mail_says_why_it_came_and_how_to_leave_the_directory(
        app: Starlette, alice: TestClient, smtp_server: SmtpCapture) -> None:
    write_to(alice, person(app, BERNARD), "Bonjour !")
    [mail] = deliver(app, smtp_server, 1)
    text = text_of(mail)
    assert "vous apparaissez dans l'annuaire de l'AVF Lyon" in text
    assert "http://avf.test/compte/profil" in text
    assert "Ne répondez pas à cet email" in text


def test_the_sender_is_rate_limited(app: Starlette, alice: TestClient) -> None:
    bernard_id = person(app, BERNARD)
    for number in range(10):
        assert write_to(alice, bernard_id, f"Message {number}").status_code == 303
    refused = write_to(alice, bernard_id, "Le onzième")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    page = html.unescape(refused.text)
    assert "Vous avez envoyé beaucoup de messages" in page and "Le onzième</textarea>" in page
    assert len(messages(app)) == 10


def test_thirty_messages_a_day_at_most(app: Starlette, alice: TestClient) -> None:
    runtime = app.state.runtime
    limiter = RateLimiter(runtime.engine, runtime.settings.secret_key)
    earlier = datetime.now(UTC) - timedelta(hours=5)
    for _ in range(30):
        limiter.allow(PER_DAY, f"person:{person(app, ALICE)}", now=earlier)
    assert write_to(alice, person(app, BERNARD), "Encore un").status_code == 429
    assert messages(app) == []


def test_mistakes_in_the_message_are_said_in_french(app: Starlette, alice: TestClient) -> None:
    bernard_id = person(app, BERNARD)
    empty = write_to(alice, bernard_id, "   \n ")
    assert empty.status_code == 400 and "Écrivez votre message." in html.unescape(empty.text)
    long = write_to(alice, bernard_id, "é" * 3001)
    assert long.status_code == 400
    page = html.unescape(long.text)
    assert "Votre message est trop long : 3\u00a0000 caractères au plus (il en compte " \
           "3\u00a0001)" in page
    assert 'aria-invalid="true"' in page and "é" * 3001 in page
    assert messages(app) == []


def test_a_sender_without_a_name_is_asked_for_one(app: Starlette) -> None:
    member(app, "sans-nom@example.org")
    client = signed_in(app, "sans-nom@example.org", ip="203.0.113.3")
    page = client.get(f"/membres/lyon/annuaire/{person(app, BERNARD)}/ecrire")
    assert "indiquez votre nom dans" in html.unescape(page.text)
    assert 'name="message"' not in page.text
    assert write_to(client, person(app, BERNARD), "Coucou").status_code == 400
    assert messages(app) == []


def test_only_listed_active_members_of_the_city_can_be_written_to(
        app: Starlette, alice: TestClient) -> None:
    member(app, "discret@example.org", name="Denise Discrète")  # not in the directory
    assert alice.get(f"/membres/lyon/annuaire/{person(app, 'discret@example.org')}/ecrire"
                     ).status_code == 404
    # Paul is listed in Paris, not in Lyon: Alice cannot reach him through Lyon.
    assert write_to(alice, person(app, PARIS), "Bonjour Paul").status_code == 404
    assert alice.get(f"/membres/paris/annuaire/{person(app, PARIS)}/ecrire").status_code == 403
    # Oneself.
    member(app, ALICE, name="Alice Durand", listed=True)
    to_herself = alice.get(f"/membres/lyon/annuaire/{person(app, ALICE)}/ecrire")
    assert to_herself.status_code == 403 and "vous-même" in html.unescape(to_herself.text)
    # A suspended member is listed no more.
    with engine_of(app).begin() as connection:
        connection.execute(update(roles).where(roles.c.person_id == person(app, BERNARD))
                           .values(suspended_at=datetime.now(UTC)))
    assert write_to(alice, person(app, BERNARD), "Bonjour").status_code == 404
    assert messages(app) == []


def test_a_paris_member_cannot_write_to_lyon(app: Starlette) -> None:
    paul = signed_in(app, PARIS, ip="203.0.113.4")
    page = f"/membres/lyon/annuaire/{person(app, BERNARD)}/ecrire"
    assert paul.get(page).status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', paul.get("/compte/profil").text)
    assert token
    assert paul.post(page, headers=SAME_SITE, data={"message": "Bonjour Lyon",
                                                    "csrf_token": token[1]}).status_code == 403
    assert messages(app) == []


def test_a_suspended_sender_cannot_write(app: Starlette, alice: TestClient) -> None:
    with engine_of(app).begin() as connection:
        connection.execute(update(roles).where(roles.c.person_id == person(app, ALICE))
                           .values(suspended_at=datetime.now(UTC)))
    assert alice.get(f"/membres/lyon/annuaire/{person(app, BERNARD)}/ecrire").status_code == 403


def test_the_forms_are_protected_against_forgery(app: Starlette, alice: TestClient) -> None:
    page = f"/membres/lyon/annuaire/{person(app, BERNARD)}/ecrire"
    token = re.search(r'name="csrf_token" value="([^"]+)"', alice.get(page).text)
    assert token
    assert alice.post(page, headers=SAME_SITE, data={"message": "x"}).status_code == 403
    assert alice.post(page, headers={"Origin": "https://evil.example"},
                      data={"message": "x", "csrf_token": token[1]}).status_code == 403
    assert messages(app) == []


def test_only_someone_who_wrote_to_you_can_be_blocked_from_a_link(
        app: Starlette, alice: TestClient, bernard: TestClient) -> None:
    # Nobody wrote to Bernard yet: the page tells nothing of the person named.
    refused = bernard.get(f"/membres/lyon/bloquer/{person(app, ALICE)}")
    assert refused.status_code == 404 and "Alice" not in refused.text
    write_to(alice, person(app, BERNARD), "Bonjour")
    assert bernard.get(f"/membres/lyon/bloquer/{person(app, ALICE)}").status_code == 200
    assert alice.get(f"/membres/lyon/bloquer/{person(app, BERNARD)}").status_code == 404


def test_the_webmaster_may_write_and_be_answered(app: Starlette, bernard: TestClient,
                                                 smtp_server: SmtpCapture) -> None:
    member(app, "web@example.org", city="", name="Wanda Web", role="webmaster")
    webmaster = signed_in(app, "web@example.org", ip="203.0.113.5")
    assert write_to(webmaster, person(app, BERNARD), "Bonjour de la part du réseau"
                    ).status_code == 303
    [mail] = deliver(app, smtp_server, 1)
    reply_path = REPLY_LINK.search(text_of(mail)).group(1)  # type: ignore[union-attr]
    assert submit(bernard, reply_path, {"message": "Merci !"}).status_code == 303
