"""A visitor asks to join a city (`/membres/<city>/adhesion`), the city's admins answer:
end to end on a really built network, with the real SMTP server — the visitor's request,
the admins' notice, the approval and its invitation followed into the members' area, the
polite refusal; and what keeps the form from being abused: honeypot, rate limits, no
duplicate, no visitor's text in any mail, one answer per request."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime
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
from conftest import SmtpCapture
from member_helpers import (
    LYON_WELCOME,
    MEMBERS_POST,
    SECRET,
    build_two_cities,
    deliver,
    html_of,
    mails_to,
    rows,
    service,
    submit,
    text_of,
)
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.store.schema import join_requests, outbox, people, rate_hits, roles

JOIN = "/membres/lyon/adhesion"
MANAGE = "/membres/lyon/gestion/"
ADMIN = "responsable@example.org"
CO_ADMIN = "co-responsable@example.org"
VISITOR_ADDRESS = "nina.nouvelle@example.org"
SPAM = "Gagnez 1000 € sur http://arnaque.example"
VISITOR = {"nom": f"Nina {SPAM}", "email": "Nina.Nouvelle@Example.org",
           "telephone": "07 00 00 00 00",
           "message": f"Bonjour,\nnous arrivons en octobre. {SPAM}"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_two_cities(tmp_path_factory.mktemp("join"))


@pytest.fixture
def app(tmp_path: Path, built: tuple[Path, Path], smtp_server: SmtpCapture,
        ) -> Iterator[Starlette]:
    with service(tmp_path, built, smtp_server) as application:
        add_person(application, ADMIN, ("admin", "lyon"), name="Rose Responsable")
        add_person(application, CO_ADMIN, ("admin", "lyon"))
        add_person(application, "responsable@avf-paris.example.org", ("admin", "paris"))
        yield application


def ask(app: Starlette, ip: str = "198.51.100.7", city: str = "lyon",
        **changes: str):  # type: ignore[no-untyped-def]
    """A visitor (a fresh browser) fills in the form and sends it."""
    return submit(browser(app, ip=ip), f"/membres/{city}/adhesion", {**VISITOR, **changes})


def admin_client(app: Starlette, email: str = ADMIN) -> TestClient:
    client = browser(app, ip="203.0.113.50")
    sign_in(client, app, email)
    return client


def request_id(app: Starlette) -> int:
    [request] = rows(app, join_requests)
    return int(request["id"])  # type: ignore[call-overload]


def answer(client: TestClient, verb: str, number: int, **data: str):  # type: ignore[no-untyped-def]
    page = MANAGE if verb == "accepter" else f"{MANAGE}demandes/{number}/refuser"
    return submit(client, page, data, action=f"{MANAGE}demandes/{number}/{verb}")


def kinds(app: Starlette) -> list[tuple[str, str]]:
    return sorted((str(row["kind"]), str(row["to_address"])) for row in rows(app, outbox)
                  if row["kind"] != "login_link")


# --- The visitor's form -----------------------------------------------------------------

def test_the_form_is_open_to_visitors_of_a_city_that_exists(app: Starlette) -> None:
    response = browser(app).get(JOIN)
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert "<h1>Demander à adhérer à AVF Lyon</h1>" in page
    assert 'name="csrf_token"' in page and 'name="site_web"' in page
    assert '<label for="contact-email">' in page and "04 78 00 00 00" in page
    assert LYON_WELCOME not in page and "avf-lyon.example.org" not in page
    assert browser(app).get("/membres/grenoble/adhesion").status_code == 404
    assert browser(app).get("/membres/Lyon/adhesion").status_code == 404


def test_a_request_reaches_the_admins_and_is_acknowledged_without_its_text(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    response = ask(app)
    assert response.status_code == 303
    assert response.headers["location"] == "/membres/lyon/adhesion/merci"
    thanks = browser(app).get(response.headers["location"])
    assert "Merci, votre demande est partie" in html.unescape(thanks.text)
    [stored] = rows(app, join_requests)
    assert (stored["name"], stored["email"], stored["status"]) == (
        f"Nina {SPAM}", VISITOR_ADDRESS, "pending")
    assert stored["message"] == f"Bonjour,\nnous arrivons en octobre. {SPAM}"

    deliver(app, smtp_server)
    assert sorted(message["To"] for message in smtp_server.messages) == [
        CO_ADMIN, VISITOR_ADDRESS, ADMIN]
    for message in smtp_server.messages:  # nobody's mail carries what the visitor typed
        assert "arnaque" not in text_of(message) and "arnaque" not in html_of(message)
        assert "Nina" not in text_of(message) and "Nina" not in str(message["Subject"])
    [notice] = mails_to(smtp_server, ADMIN)
    assert notice["Subject"] == "Une demande d'adhésion attend votre réponse — AVF Lyon"
    assert "http://avf.test/membres/lyon/gestion/" in text_of(notice)
    [ack] = mails_to(smtp_server, VISITOR_ADDRESS)
    assert ack["Subject"] == "AVF Lyon a bien reçu votre demande d'adhésion"
    assert "04 78 00 00 00 (mardi 14 h – 17 h)" in text_of(ack)


def test_a_city_without_admins_hears_of_requests_at_its_welcome_address(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    with engine_of(app).begin() as connection:  # Paris's only admin is suspended
        connection.execute(update(roles).where(roles.c.city == "paris")
                           .values(suspended_at=datetime.now(UTC)))
    assert ask(app, city="paris").status_code == 303
    assert kinds(app) == [("join_request_ack", VISITOR_ADDRESS),
                          ("join_request_admin", "accueil@avf-paris.example.org")]
    deliver(app, smtp_server)
    [notice] = mails_to(smtp_server, "accueil@avf-paris.example.org")
    assert "parce qu'aucun·e responsable" in text_of(notice)


def test_asking_again_while_a_request_waits_changes_nothing(app: Starlette) -> None:
    assert ask(app).status_code == 303
    before = kinds(app)
    again = ask(app, ip="198.51.100.8", nom="Nina N.", email="nina.nouvelle@example.org")
    assert again.status_code == 303
    assert again.headers["location"] == "/membres/lyon/adhesion/merci"
    assert len(rows(app, join_requests)) == 1 and kinds(app) == before


def test_the_honeypot_gets_the_same_thanks_and_nothing_is_kept(app: Starlette) -> None:
    response = ask(app, site_web="http://spam.example")
    assert response.status_code == 303
    assert response.headers["location"] == "/membres/lyon/adhesion/merci"
    assert rows(app, join_requests) == [] and kinds(app) == [] and rows(app, rate_hits) == []


def test_a_form_to_fix_is_shown_again_with_what_was_typed(app: Starlette) -> None:
    response = ask(app, nom="", email="nina@", message="x" * 2001)
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "3 points à corriger" in page and 'role="alert"' in page
    assert "Indiquez le nom." in page and "« nina@ » n'est pas une adresse email" in page
    assert "Trop long : 2000 caractères au plus (il y en a 2001)." in page
    assert 'value="nina@"' in page
    assert rows(app, join_requests) == [] and rows(app, rate_hits) == []


def test_more_than_five_requests_an_hour_from_one_address_are_refused(app: Starlette) -> None:
    for number in range(5):
        assert ask(app, email=f"visiteur{number}@example.org").status_code == 303
    refused = ask(app, email="visiteur5@example.org")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    assert "Patientez une heure" in html.unescape(refused.text)
    assert len(rows(app, join_requests)) == 5
    assert ask(app, ip="198.51.100.99", email="autre@example.org").status_code == 303


def test_the_form_needs_its_token_and_this_site_s_origin(app: Starlette) -> None:
    client = browser(app)
    token = csrf_token(client, JOIN)
    assert client.post(JOIN, headers=SAME_SITE, data=VISITOR).status_code == 403
    assert client.post(JOIN, headers={"Origin": "https://evil.example"},
                       data={**VISITOR, "csrf_token": token}).status_code == 403
    assert rows(app, join_requests) == []


def test_a_signed_in_member_is_pointed_to_the_members_area(app: Starlette) -> None:
    add_person(app, "adherente@example.org", ("member", "lyon"))
    client = browser(app)
    sign_in(client, app, "adherente@example.org")
    assert "Vous faites déjà partie des adhérent·es" in html.unescape(client.get(JOIN).text)


# --- The admins' answer ---------------------------------------------------------------------

def test_an_approved_visitor_is_invited_and_signs_in_to_the_members_area(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    ask(app)
    admin = admin_client(app)
    page = html.unescape(admin.get(MANAGE).text)
    assert "Nina" in page and VISITOR_ADDRESS in page and "07 00 00 00 00" in page
    response = answer(admin, "accepter", request_id(app))
    assert response.status_code == 303
    assert response.headers["location"] == f"{MANAGE}?fait=accepte"
    [decided] = rows(app, join_requests)
    assert decided["status"] == "approved" and decided["decided_at"] is not None

    deliver(app, smtp_server)
    [_, invitation] = mails_to(smtp_server, VISITOR_ADDRESS)  # the acknowledgement, then this
    assert invitation["Subject"] == "Bienvenue à AVF Lyon : votre adhésion est acceptée"
    assert "arnaque" not in text_of(invitation) and "Nina" not in text_of(invitation)
    visitor = browser(app, ip="198.51.100.7")
    arrived = use_link(visitor, link_in_mail(invitation))
    assert arrived.headers["location"] == "/membres/lyon/"
    assert SECRET in visitor.get(MEMBERS_POST).text
    [nina] = [row for row in rows(app, people) if row["email"] == VISITOR_ADDRESS]
    assert nina["display_name"] == f"Nina {SPAM}"
    assert "Demandes d'adhésion en attente" in html.unescape(admin.get(MANAGE).text)
    assert "Aucune demande en attente" in html.unescape(admin.get(MANAGE).text)


def test_a_declined_visitor_gets_a_polite_mail_with_the_admin_s_words(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    ask(app)
    admin = admin_client(app)
    number = request_id(app)
    page = admin.get(f"{MANAGE}demandes/{number}/refuser")
    assert page.status_code == 200
    assert "Refuser la demande de Nina" in html.unescape(page.text)
    too_long = answer(admin, "refuser", number, motif="x" * 501)
    assert too_long.status_code == 400 and 'aria-invalid="true"' in too_long.text
    response = answer(admin, "refuser", number,
                      motif="Les adhésions se font à la permanence du mardi.")
    assert response.headers["location"] == f"{MANAGE}?fait=refuse"
    [decided] = rows(app, join_requests)
    assert decided["status"] == "declined"
    deliver(app, smtp_server)
    [_, refusal] = mails_to(smtp_server, VISITOR_ADDRESS)
    assert refusal["Subject"] == "Votre demande d'adhésion à AVF Lyon"
    text = text_of(refusal)
    assert "Les adhésions se font à la permanence du mardi." in text
    assert "04 78 00 00 00" in text and "arnaque" not in text
    assert [row for row in rows(app, roles) if row["role"] == "member"] == []


def test_a_request_is_answered_once(app: Starlette) -> None:
    ask(app)
    number = request_id(app)
    first, second = admin_client(app), admin_client(app, CO_ADMIN)
    assert answer(first, "accepter", number).status_code == 303
    late = answer(second, "refuser", number)
    assert late.status_code == 409
    assert "Cette demande a déjà reçu une réponse : elle a été acceptée" in html.unescape(
        late.text)
    assert second.get(f"{MANAGE}demandes/{number}/refuser").status_code == 409
    assert answer(second, "accepter", number).status_code == 409
    assert [kind for kind, _ in kinds(app)].count("member_invitation") == 1
    assert "join_request_declined" not in dict(kinds(app))


def test_a_request_is_answered_only_by_its_own_city_s_admins(app: Starlette) -> None:
    ask(app)
    number = request_id(app)
    paris = admin_client(app, "responsable@avf-paris.example.org")
    via_paris = submit(paris, "/membres/paris/gestion/",
                       action=f"/membres/paris/gestion/demandes/{number}/accepter")
    assert via_paris.status_code == 404  # not one of Paris's requests
    response = paris.post(f"{MANAGE}demandes/{number}/accepter", headers=SAME_SITE,
                          data={"csrf_token": csrf_token(paris, "/compte/")})
    assert response.status_code == 403
    visitor = browser(app)
    response = visitor.post(f"{MANAGE}demandes/{number}/accepter", headers=SAME_SITE,
                            data={"csrf_token": csrf_token(visitor, JOIN)})
    assert response.status_code == 401
    [still] = rows(app, join_requests)
    assert still["status"] == "pending"


def test_approving_someone_already_a_member_sends_nothing(app: Starlette) -> None:
    ask(app)
    add_person(app, VISITOR_ADDRESS, ("member", "lyon"))
    response = answer(admin_client(app), "accepter", request_id(app))
    assert response.headers["location"] == f"{MANAGE}?fait=deja"
    assert "member_invitation" not in dict(kinds(app))
    [decided] = rows(app, join_requests)
    assert decided["status"] == "approved"
