"""Pré-accueil: a newcomer writes to a city before moving. Real HTTP (Starlette's
TestClient on the real app), a real SQLite database, a real SMTP server (aiosmtpd), the
real mail worker; the welcome team's address must never leave the service."""

from __future__ import annotations

import contextlib
import html
import logging
import re
import runpy
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import (
    CITY_YAML,
    PROJECT_ROOT,
    SmtpCapture,
    free_port,
    service_settings,
    write,
    write_city,
)
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from avf.service import create_app
from avf.service.cities import AGENDA_ICS_SAVE_AS, AGENDA_URL
from avf.service.contact_form import read_contact_form
from avf.service.contact_relay import relay_message
from avf.service.runtime import Runtime
from avf.store.schema import contact_messages, outbox, rate_hits

SITE = "http://avf.test"
SAME_ORIGIN = {"Origin": SITE}
WELCOME = "accueil@avf-lyon.example.org"
CARD = CITY_YAML.format(slug="lyon", title="Lyon") + (
    'opening_hours:\n  - "mardi 14 h – 17 h"\n  - "jeudi 9 h 30 – 12 h"\n')
NEWCOMER = {
    "nom": "Élise Martin",
    "email": "Elise.Martin@example.org",
    "telephone": "06 12 34 56 78",
    "arrivee": "janvier 2027",
    "message": "Bonjour, nous arrivons à Lyon en janvier avec deux enfants. "
               "Quelles activités proposez-vous ?",
}


@dataclass
class Service:
    client: TestClient
    runtime: Runtime
    smtp: SmtpCapture

    @property
    def engine(self) -> Engine:
        return self.runtime.engine


@pytest.fixture
def content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    write_city(content, "lyon", card=CARD)
    return content


@contextlib.contextmanager
def start(tmp_path: Path, content: Path, smtp: SmtpCapture,
          **overrides: object) -> Iterator[Service]:
    app = create_app(service_settings(tmp_path, content, smtp, **overrides))
    with TestClient(app, base_url=SITE) as client:
        yield Service(client, app.state.runtime, smtp)


@pytest.fixture
def service(tmp_path: Path, content: Path, smtp_server: SmtpCapture) -> Iterator[Service]:
    with start(tmp_path, content, smtp_server, run_workers=False) as running:
        yield running


def from_service_page(service: Service, city: str = "lyon", **changes: str):  # type: ignore[no-untyped-def]
    """Fill in the service's own form (token from the page, cookie kept) and send it."""
    page = service.client.get(f"/contact/{city}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the page carries a CSRF token"
    return service.client.post(f"/contact/{city}", headers=SAME_ORIGIN,
                               data={**NEWCOMER, **changes, "csrf_token": token[1]},
                               follow_redirects=False)


def from_city_site(client: TestClient, city: str = "lyon", headers: dict[str, str] | None = None,
                   **changes: str):  # type: ignore[no-untyped-def]
    """Post as a city's static page does: no token, no cookie, the site's Origin."""
    client.cookies.clear()
    return client.post(f"/contact/{city}", data={**NEWCOMER, **changes},
                       headers=SAME_ORIGIN if headers is None else headers,
                       follow_redirects=False)


def stored(engine: Engine, table) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(table)).mappings()]


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page as people read it (entities decoded), checked never to show the address."""
    assert WELCOME not in response.text and "avf-lyon.example.org" not in response.text
    assert "avf-lyon.example.org" not in str(response.headers)
    return html.unescape(response.text)


# --- The page -------------------------------------------------------------------------

def test_the_page_shows_the_form_beside_the_city_s_phone_address_and_hours(
        service: Service) -> None:
    response = service.client.get("/contact/lyon")
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Vous arrivez bientôt à Lyon ? Écrivez-nous</h1>" in page
    # The header and footer are the city's, as on its static site.
    assert '<span class="brand-name">AVF Lyon</span>' in page
    assert 'href="/lyon/agenda/"' in page and 'href="/membres/lyon/"' in page
    assert "1 place des Terreaux, 69001 Lyon" in page
    assert 'href="tel:0478000000"' in page
    assert "mardi 14 h – 17 h" in page and "jeudi 9 h 30 – 12 h" in page
    for name in ("nom", "email", "telephone", "arrivee"):
        assert f'name="{name}"' in page
    assert '<textarea id="contact-message" name="message"' in page
    assert 'type="email" id="contact-email"' in page
    assert "servent uniquement à vous répondre" in page
    assert re.search(r'name="csrf_token" value="[0-9a-f]{64}"', page)


def test_the_honeypot_is_hidden_from_everyone_and_says_so_to_screen_readers(
        service: Service) -> None:
    page = text_of(service.client.get("/contact/lyon"))
    trap = re.search(r'<div class="contact-trap" aria-hidden="true">(.*?)</div>', page, re.S)
    assert trap, "the honeypot sits in an aria-hidden, off-screen box"
    assert "Ne remplissez pas ce champ" in trap[1]
    assert re.search(r'<input type="text" id="contact-site_web" name="site_web" value="" '
                     r'tabindex="-1" autocomplete="off">', trap[1])
    css = (PROJECT_ROOT / "themes/avf/static/css/avf.css").read_text(encoding="utf-8")
    assert re.search(r"\.contact-trap \{ position: absolute; left: -10000px;", css)


def test_an_unknown_city_is_not_found(service: Service) -> None:
    for path in ("/contact/paris", "/contact/admin", "/contact/Lyon", "/contact/paris/merci"):
        response = service.client.get(path)
        assert response.status_code == 404, path
        assert "Nous ne connaissons pas cette ville" in text_of(response)
    assert from_city_site(service.client, city="paris").status_code == 404
    assert stored(service.engine, contact_messages) == []


def test_the_template_names_match_the_city_sites_settings() -> None:
    settings = runpy.run_path(str(PROJECT_ROOT / "pelicanconf.py"))
    assert settings["AGENDA_URL"] == AGENDA_URL
    assert settings["AGENDA_ICS_SAVE_AS"] == AGENDA_ICS_SAVE_AS


# --- Sending ----------------------------------------------------------------------------

def test_a_message_is_stored_relayed_to_the_welcome_team_and_acknowledged(
        service: Service) -> None:
    response = from_service_page(service)
    assert response.status_code == 303
    assert response.headers["location"] == "/contact/lyon/merci"
    thanks = service.client.get(response.headers["location"])
    assert thanks.status_code == 200
    assert "Merci, votre message est parti" in text_of(thanks)

    [row] = stored(service.engine, contact_messages)
    assert row["city"] == "lyon" and row["relayed"] is True
    assert row["email"] == "elise.martin@example.org"  # stored lower-cased
    assert (row["name"], row["phone"], row["arrival"], row["message"]) == (
        NEWCOMER["nom"], NEWCOMER["telephone"], NEWCOMER["arrivee"], NEWCOMER["message"])

    assert service.runtime.mail.send_due() == 2
    relay, ack = sorted(service.smtp.messages, key=lambda message: message["To"] != WELCOME)
    assert relay["To"] == WELCOME
    assert relay["Reply-To"] == "elise.martin@example.org"
    assert relay["Subject"] == "Pré-accueil : message de Élise Martin"
    relay_text = relay.get_body(("plain",)).get_content()
    for value in NEWCOMER.values():
        assert value.lower() in relay_text.lower()
    assert "Répondez simplement à ce message" in relay_text

    assert ack["To"] == "elise.martin@example.org"
    assert ack["Subject"] == "AVF Lyon a bien reçu votre message"
    assert ack["Reply-To"] is None
    ack_text = ack.get_body(("plain",)).get_content()
    assert ack_text.startswith("Bonjour,")
    assert "Élise" not in ack.as_string()  # nothing a stranger typed goes to the address
    assert "appeler l'association au 04 78 00 00 00" in ack_text
    assert "(mardi 14 h – 17 h ; jeudi 9 h 30 – 12 h)" in ack_text
    assert "http://avf.test/lyon/" in ack_text
    assert NEWCOMER["message"] not in ack_text  # never echoes a stranger's text
    assert WELCOME not in ack.as_string()
    assert [mail["status"] for mail in stored(service.engine, outbox)] == ["sent", "sent"]


def test_the_background_worker_delivers_both_mails(tmp_path: Path, content: Path,
                                                   smtp_server: SmtpCapture) -> None:
    with start(tmp_path, content, smtp_server) as service:  # the real mail thread
        assert from_city_site(service.client).status_code == 303
        assert {message["To"] for message in smtp_server.wait_for(2)} == {
            WELCOME, "elise.martin@example.org"}


def test_a_city_site_posts_without_a_token_from_the_same_origin(service: Service) -> None:
    response = from_city_site(service.client)
    assert response.status_code == 303
    assert response.headers["location"] == "/contact/lyon/merci"
    assert len(stored(service.engine, contact_messages)) == 1
    # A Referer names the page when a browser withholds the Origin: it is checked the same.
    referred = from_city_site(service.client, headers={"Referer": f"{SITE}/lyon/"})
    assert referred.status_code == 303


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Referer": "http://evil.example/lyon/"},
    {},
], ids=["other-site", "null-origin", "other-referer", "no-origin"])
def test_a_post_from_elsewhere_is_refused(service: Service, headers: dict[str, str]) -> None:
    response = from_city_site(service.client, headers=headers)
    assert response.status_code == 403
    assert "Ce formulaire a expiré ou ne vient pas de ce site" in text_of(response)
    assert stored(service.engine, contact_messages) == [] == stored(service.engine, outbox)


def test_a_token_from_the_right_page_is_not_enough_from_another_site(service: Service) -> None:
    page = service.client.get("/contact/lyon")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    response = service.client.post("/contact/lyon", data={**NEWCOMER, "csrf_token": token},
                                   headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert stored(service.engine, contact_messages) == []


def test_a_form_that_carries_a_token_must_carry_the_right_one(service: Service) -> None:
    service.client.get("/contact/lyon")
    response = service.client.post("/contact/lyon", headers=SAME_ORIGIN,
                                   data={**NEWCOMER, "csrf_token": "0" * 64})
    assert response.status_code == 403
    assert stored(service.engine, contact_messages) == []


def test_the_honeypot_thanks_the_robot_and_keeps_nothing(service: Service) -> None:
    response = from_city_site(service.client, site_web="http://pilules.example")
    assert response.status_code == 303
    assert response.headers["location"] == "/contact/lyon/merci"
    assert stored(service.engine, contact_messages) == []
    assert stored(service.engine, outbox) == [] == stored(service.engine, rate_hits)
    assert service.runtime.mail.send_due() == 0
    assert service.smtp.messages == []


# --- Mistakes -----------------------------------------------------------------------------

def test_mistakes_are_explained_per_field_and_the_input_is_kept(service: Service) -> None:
    response = from_service_page(service, nom="", email="elise.martin@", telephone="06 12",
                                 arrivee="au printemps", message="Bonjour")
    assert response.status_code == 400
    page = text_of(response)
    assert "<title>Erreur : " in page
    summary = re.search(r'<div class="contact-errors" role="alert"(.*?)</div>', page, re.S)
    assert summary and "3 points à corriger" in summary[1]
    assert '<a href="#contact-nom">Indiquez votre nom.</a>' in summary[1]
    assert '<a href="#contact-email">Cette adresse email n\'est pas valable' in summary[1]
    assert '<a href="#contact-message">Votre message est trop court' in summary[1]
    assert summary[1].index("contact-nom") < summary[1].index("contact-email") \
        < summary[1].index("contact-message")  # in the order of the form
    assert re.search(r'<input type="email" id="contact-email" name="email" '
                     r'value="elise.martin@"[^>]* aria-describedby="contact-email-aide '
                     r'contact-email-erreur" aria-invalid="true">', page)
    assert '<p class="contact-error" id="contact-email-erreur">' in page
    assert 'value="06 12"' in page and 'value="au printemps"' in page
    assert re.search(r'<textarea id="contact-message"[^>]*>Bonjour</textarea>', page)
    assert 'aria-describedby="contact-telephone-aide"' in page  # no error there
    assert re.search(r'name="csrf_token" value="[0-9a-f]{64}"', page)  # can be sent again
    assert stored(service.engine, contact_messages) == [] == stored(service.engine, outbox)
    assert stored(service.engine, rate_hits) == []  # a mistake is not counted


def test_a_city_site_post_with_mistakes_gets_the_service_form_to_finish(
        service: Service) -> None:
    response = from_city_site(service.client, email="pas une adresse")
    assert response.status_code == 400
    page = text_of(response)
    assert 'value="pas une adresse"' in page
    assert f">{NEWCOMER['message']}</textarea>" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    corrected = service.client.post("/contact/lyon", headers=SAME_ORIGIN, follow_redirects=False,
                                    data={**NEWCOMER, "csrf_token": token})
    assert corrected.status_code == 303  # the cookie came with the page that showed the error


def test_what_the_visitor_typed_is_shown_as_text_never_as_html(service: Service) -> None:
    response = from_city_site(service.client, nom="<script>alert(1)</script>", email="x")
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


@pytest.mark.parametrize(("field", "value", "error"), [
    ("message", "m" * 5001, "Votre message est trop long : 5\u00a0000 caractères au plus "
                            "(il en compte 5\u00a0001)."),
    ("nom", "n" * 201, "Votre nom est trop long : 200 caractères au plus"),
    ("email", "e" * 310 + "@example.org", "Cette adresse email est trop longue"),
    ("telephone", "0" * 51, "Ce numéro de téléphone est trop long"),
    ("arrivee", "a" * 101, "Écrivez la date d'arrivée en quelques mots (100 caractères"),
])
def test_too_long_a_field_is_refused(service: Service, field: str, value: str,
                                     error: str) -> None:
    response = from_service_page(service, **{field: value})
    assert response.status_code == 400
    assert error in text_of(response)
    assert stored(service.engine, contact_messages) == []


def test_the_longest_message_allowed_is_accepted(service: Service) -> None:
    assert from_service_page(service, message="m" * 5000).status_code == 303
    [row] = stored(service.engine, contact_messages)
    assert len(row["message"]) == 5000


def test_fields_are_tidied_and_checked() -> None:
    form = read_contact_form({**NEWCOMER, "nom": "  Élise\r\nMartin\x00 ",
                              "message": "\r\n  Deux lignes\r\nici.  \r\n", "telephone": "   "})
    assert form.errors == {}
    message = form.message()
    assert message.name == "Élise Martin"  # a line break must never reach a mail header
    assert message.message == "Deux lignes\nici."
    assert message.phone == ""
    assert read_contact_form({**NEWCOMER, "message": "x" * 9}).errors.keys() == {"message"}
    assert read_contact_form({**NEWCOMER, "message": "x" * 10}).errors == {}
    assert read_contact_form({}).errors.keys() == {"nom", "email", "message"}


@pytest.mark.parametrize(("email", "valid"), [
    ("elise@example.org", True), ("e.martin+avf@mail.example.fr", True),
    ("elise@example", False), ("elise example.org", False), ("@example.org", False),
    ("elise@exa mple.org", False), ("a@b.org, c@d.org", False), ("<a@b.org>", False),
    ("=?utf-8?q?a=0D=0AX=3A?=@example.net", False),  # decodes to a line break
])
def test_an_email_address_is_checked_as_browsers_do(email: str, valid: bool) -> None:
    assert ("email" not in read_contact_form({**NEWCOMER, "email": email}).errors) is valid


# --- Limits and failures -----------------------------------------------------------------

def test_a_sixth_message_within_the_hour_gets_the_phone_number_instead(service: Service) -> None:
    for _ in range(5):
        assert from_city_site(service.client).status_code == 303
    response = from_city_site(service.client, message="Un sixième message, pour voir.")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3600"
    page = text_of(response)
    assert "Votre message n'est pas parti" in page
    assert "Appelez plutôt l'association au" in page and ">04 78 00 00 00</a>" in page
    assert ">Un sixième message, pour voir.</textarea>" in page  # to copy: nothing lost
    assert len(stored(service.engine, contact_messages)) == 5


def test_twenty_messages_a_day_from_one_connection_across_cities(
        tmp_path: Path, content: Path, smtp_server: SmtpCapture) -> None:
    cities = ["lyon", "nantes", "lille", "brest", "caen"]
    for slug in cities[1:]:
        write_city(content, slug)
    with start(tmp_path, content, smtp_server, run_workers=False) as service:
        for slug in cities[:4]:
            for _ in range(5):
                assert from_city_site(service.client, city=slug).status_code == 303
        assert from_city_site(service.client, city="caen").status_code == 429
        assert len(stored(service.engine, contact_messages)) == 20


def test_smtp_down_loses_nothing_and_delivers_when_it_is_back(
        tmp_path: Path, content: Path) -> None:
    down = SmtpCapture(host="127.0.0.1", port=free_port())  # nothing listens there yet
    with start(tmp_path, content, down, run_workers=False) as service:
        assert from_service_page(service).status_code == 303
        assert service.runtime.mail.send_due() == 0
        [row] = stored(service.engine, contact_messages)
        assert row["relayed"] is True
        mails = stored(service.engine, outbox)
        assert [(mail["kind"], mail["status"]) for mail in mails] == [
            ("contact_relay", "pending"), ("contact_ack", "pending")]
        assert all("ConnectionRefused" in str(mail["last_error"]) for mail in mails)

        controller = Controller(down, hostname=down.host, port=down.port)
        controller.start()  # the server is back
        try:
            later = datetime.now(UTC) + timedelta(minutes=2)  # past the first retry delay
            assert service.runtime.mail.send_due(later) == 2
        finally:
            controller.stop()
        assert {message["To"] for message in down.messages} == {WELCOME,
                                                                "elise.martin@example.org"}


def test_a_city_without_a_welcome_address_keeps_the_message_unrelayed(
        service: Service, caplog: pytest.LogCaptureFixture) -> None:
    city = service.runtime.cities.get("lyon")
    assert city is not None
    message = read_contact_form(NEWCOMER).message()
    with caplog.at_level(logging.WARNING, logger="avf.service.contact_relay"):
        relay_message(service.engine, replace(city, email=""), message, f"{SITE}/lyon/")
    [row] = stored(service.engine, contact_messages)
    assert row["relayed"] is False
    assert [mail["kind"] for mail in stored(service.engine, outbox)] == ["contact_ack"]
    assert "kept but not relayed" in caplog.text


# --- The city's card ----------------------------------------------------------------------

def test_a_changed_card_is_read_again_and_a_broken_one_keeps_the_last_good(
        service: Service, content: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert "04 78 00 00 00" in text_of(service.client.get("/contact/lyon"))
    card = content / "lyon" / "city.yaml"
    write(card, CARD.replace("04 78 00 00 00", "04 72 11 22 33")
          .replace(WELCOME, "bienvenue@avf-lyon.example.org"))
    assert "04 72 11 22 33" in text_of(service.client.get("/contact/lyon"))
    assert from_city_site(service.client).status_code == 303
    service.runtime.mail.send_due()
    assert "bienvenue@avf-lyon.example.org" in {message["To"] for message in service.smtp.messages}

    write(card, CARD.replace("lat: 45.76\n", ""))  # a volunteer's slip: the card is invalid
    with caplog.at_level(logging.WARNING, logger="avf.service.cities"):
        response = service.client.get("/contact/lyon")
    assert response.status_code == 200 and "04 72 11 22 33" in text_of(response)
    assert "keeping the last valid one" in caplog.text


def test_a_card_never_valid_closes_the_form_with_a_french_explanation(
        tmp_path: Path, smtp_server: SmtpCapture) -> None:
    content = tmp_path / "content"
    write_city(content, "lyon", card=CARD.replace("lat: 45.76\n", ""))
    with start(tmp_path, content, smtp_server, run_workers=False) as service:
        response = service.client.get("/contact/lyon")
        assert response.status_code == 503
        assert "momentanément indisponible" in text_of(response)


def test_a_city_on_its_own_domain_may_post_from_there_and_only_there(
        tmp_path: Path, smtp_server: SmtpCapture) -> None:
    content = tmp_path / "content"
    write_city(content, "lyon", card=CARD + 'domain: "avf-lyon.fr"\n')
    write_city(content, "rennes")
    with start(tmp_path, content, smtp_server, run_workers=False) as service:
        own = {"Origin": "https://avf-lyon.fr"}
        assert from_city_site(service.client, headers=own).status_code == 303
        assert from_city_site(service.client, headers={
            "Referer": "https://avf-lyon.fr/contact/"}).status_code == 303
        assert from_city_site(service.client).status_code == 303  # its sub-path still posts
        # Another city, the plain-HTTP origin or a look-alike host get nothing through.
        for city, origin in [("rennes", "https://avf-lyon.fr"), ("lyon", "http://avf-lyon.fr"),
                             ("lyon", "https://avf-lyon.fr.evil.example")]:
            refused = from_city_site(service.client, city, headers={"Origin": origin})
            assert refused.status_code == 403, (city, origin)
        assert len(stored(service.engine, contact_messages)) == 3
