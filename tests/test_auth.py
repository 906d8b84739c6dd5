"""Sign-in by emailed link, sessions and roles, through the real app: real SMTP server,
real cookies signed with the service's key, real CSRF checks and rate limits."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from auth_helpers import (
    SAME_SITE,
    add_person,
    ask_for_link,
    browser,
    csrf_token,
    engine_of,
    link_in_mail,
    link_in_outbox,
    send_pending_links,
    sign_in,
    use_link,
)
from conftest import SmtpCapture, service_settings, write_city
from sqlalchemy import func, select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from avf.service import create_app
from avf.service.accounts import revoke_role
from avf.service.magiclinks import issue_link_token
from avf.service.permissions import require_person, require_role, require_webmaster
from avf.service.sessions import COOKIE
from avf.store.schema import login_tokens, outbox, people, sessions

ELISE = "elise.martin@example.org"


@pytest.fixture
def content(network: Path) -> Path:
    write_city(network, "lyon")
    write_city(network, "saint-etienne")
    return network


@pytest.fixture
def app(tmp_path: Path, content: Path, smtp_server: SmtpCapture) -> Iterator[Starlette]:
    """The service with its workers stopped: tests read the outbox, or send it by hand."""
    application = create_app(service_settings(tmp_path, content, smtp_server,
                                              run_workers=False))
    with browser(application):  # the lifespan: migrations
        yield application


def mails_to(app: Starlette, email: str) -> int:
    send_pending_links(app)
    with engine_of(app).connect() as connection:
        return int(connection.execute(select(func.count()).select_from(outbox)
                                      .where(outbox.c.to_address == email)).scalar_one())


def test_the_whole_flow_with_a_real_mail(tmp_path: Path, content: Path,
                                         smtp_server: SmtpCapture) -> None:
    application = create_app(service_settings(tmp_path, content, smtp_server))
    with browser(application) as client:
        add_person(application, ELISE, ("member", "lyon"), ("admin", "saint-etienne"),
                   name="Élise Martin")
        asked = ask_for_link(client, "  Elise.Martin@Example.ORG ", "/compte/")
        assert asked.status_code == 200
        assert "Si cette adresse est connue, un lien de connexion vient de vous être envoyé" \
            in asked.text

        [message] = smtp_server.wait_for(1)  # sent by the mail worker's own thread
        assert message["To"] == ELISE
        assert message["Subject"] == "Votre lien de connexion au site AVF"
        text = message.get_body(("plain",)).get_content()
        assert "Bonjour Élise Martin," in text
        assert "15 minutes, une seule fois" in text and "ignorez ce message" in text
        path = link_in_mail(message)
        token = path.rsplit("/", 1)[1]
        with engine_of(application).connect() as connection:
            stored = connection.execute(select(login_tokens.c.token_hash)).scalars().all()
        assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # never the token

        confirm = client.get(path)
        assert confirm.status_code == 200
        # Never to another site; and with `no-referrer` a browser would post `Origin: null`
        # (tests/test_browser_members.py signs in with Chromium).
        assert confirm.headers["referrer-policy"] == "same-origin"
        assert f'action="{path}"' in confirm.text and "Me connecter" in confirm.text

        signed_in = use_link(client, path)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/compte/"
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # not in production: a local http:// service
        old_cookie = client.cookies[COOKIE]

        account = client.get("/compte/")
        assert account.status_code == 200
        assert "Connecté·e : <strong>Élise Martin</strong>" in account.text
        assert "<strong>AVF Lyon</strong> : Adhérent·e" in account.text
        assert "<strong>AVF Saint Etienne</strong> : Responsable" in account.text
        assert ELISE in account.text

        signed_out = client.post("/compte/deconnexion", headers=SAME_SITE,
                                 data={"csrf_token": csrf_token(client, "/compte/")})
        assert signed_out.status_code == 200
        assert "Vous êtes déconnecté·e" in signed_out.text
        assert "Connecté·e :" not in signed_out.text
        assert f'{COOKIE}=""' in signed_out.headers["set-cookie"]
        assert "Max-Age=0" in signed_out.headers["set-cookie"]

        client.cookies.set(COOKIE, old_cookie)  # the old cookie, kept by someone
        again = client.get("/compte/")
        assert again.status_code == 303
        assert again.headers["location"] == "/compte/connexion?suivant=/compte/"
        with engine_of(application).connect() as connection:
            assert connection.execute(select(sessions.c.revoked_at)).scalar() is not None


def test_cookies_are_secure_in_production(tmp_path: Path, content: Path) -> None:
    application = create_app(service_settings(tmp_path, content, production=True,
                                              run_workers=False))
    with browser(application, base_url="https://avf.test") as client:
        add_person(application, ELISE, ("member", "lyon"))
        form = client.get("/compte/connexion")
        assert "Secure" in form.headers["set-cookie"]  # the CSRF cookie
        token = csrf_token(client)
        client.post("/compte/connexion", headers={"Origin": "https://avf.test"},
                    data={"email": ELISE, "csrf_token": token})
        path = link_in_outbox(application, ELISE)
        response = client.post(path, headers={"Origin": "https://avf.test"},
                               data={"csrf_token": token})
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Connecté·e" in client.get("/compte/").text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    known = ask_for_link(browser(app), ELISE)
    unknown = ask_for_link(browser(app), "inconnu@example.org")
    assert known.status_code == unknown.status_code == 200
    assert unknown.text.replace("inconnu@example.org", ELISE) == known.text
    # The answer did not wait for the lookup: it is done afterwards, on another thread.
    with engine_of(app).connect() as connection:
        assert connection.execute(select(func.count()).select_from(outbox)).scalar_one() == 0
    assert send_pending_links(app) == 1
    assert mails_to(app, ELISE) == 1
    assert mails_to(app, "inconnu@example.org") == 0
    assert app.state.runtime.mail.send_due() == 1
    assert [message["To"] for message in smtp_server.messages] == [ELISE]


def test_opening_the_link_does_not_spend_it_and_pressing_the_button_does(
        app: Starlette) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    client = browser(app)
    ask_for_link(client, ELISE)
    path = link_in_outbox(app, ELISE)
    for _ in range(3):  # mail scanners and link previews fetch it
        assert browser(app, ip="198.51.100.1").get(path).status_code == 200
    assert use_link(client, path).status_code == 303

    for reused in (use_link(browser(app), path), client.get(path)):
        assert reused.status_code == 410
        assert "Ce lien ne fonctionne plus" in reused.text
        assert 'href="/compte/connexion"' in reused.text  # ask for a new one
        assert COOKIE not in reused.headers.get("set-cookie", "")


def test_a_link_expires_after_15_minutes(app: Starlette) -> None:
    person = add_person(app, ELISE, ("member", "lyon"))
    asked_at = datetime.now(UTC) - timedelta(minutes=15, seconds=1)
    with engine_of(app).begin() as connection:
        token = issue_link_token(connection, person, "/", now=asked_at)
    client = browser(app)
    assert client.get(f"/compte/lien/{token}").status_code == 410
    assert use_link(client, f"/compte/lien/{token}").status_code == 410
    assert COOKIE not in client.cookies


def test_an_unknown_or_damaged_link_gets_the_same_page(app: Starlette) -> None:
    for path in ("/compte/lien/pas-un-vrai-lien", "/compte/lien/" + "A" * 43):
        page = browser(app).get(path)
        assert page.status_code == 410 and "Ce lien ne fonctionne plus" in page.text


def test_a_tampered_or_foreign_cookie_is_ignored(app: Starlette) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    client = browser(app)
    sign_in(client, app, ELISE)
    genuine = client.cookies[COOKIE]
    session_id, _, signature = genuine.rpartition(".")
    assert client.get("/compte/").status_code == 200

    from itsdangerous import Signer

    forged = [
        f"{session_id}.{signature[:-2]}AA",  # signature changed
        f"{session_id[:-2]}AA.{signature}",  # id changed
        session_id,  # no signature
        Signer("another-key", salt="avf-session",
               digest_method=hashlib.sha256).sign(session_id).decode(),
    ]
    for cookie in forged:
        visitor = browser(app)
        visitor.cookies.set(COOKIE, cookie)
        response = visitor.get("/compte/")
        assert response.status_code == 303, cookie
        assert response.headers["location"].startswith("/compte/connexion")


def test_csrf_refuses_forms_without_token_or_from_another_site(app: Starlette) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    client = browser(app)
    token = csrf_token(client)
    attempts = [
        ({"email": ELISE}, SAME_SITE),  # no token
        ({"email": ELISE, "csrf_token": "0" * 64}, SAME_SITE),  # a made-up token
        ({"email": ELISE, "csrf_token": token}, {"Origin": "https://evil.example"}),
        ({"email": ELISE, "csrf_token": token}, {}),  # no Origin, no Referer
    ]
    for data, headers in attempts:
        response = client.post("/compte/connexion", data=data, headers=headers)
        assert response.status_code == 403
        assert "Ce formulaire a expiré ou ne vient pas de ce site" in response.text
    assert mails_to(app, ELISE) == 0

    sign_in(client, app, ELISE)
    refused = client.post("/compte/deconnexion", headers={"Origin": "https://evil.example"},
                          data={"csrf_token": csrf_token(client, "/compte/")})
    assert refused.status_code == 403
    assert client.get("/compte/").status_code == 200  # still signed in


def test_asking_too_often_for_one_address_is_refused_known_or_not(app: Starlette) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    refusals = []
    for email in (ELISE, "inconnu@example.org"):
        for attempt in range(5):
            ip = f"198.51.100.{attempt}"  # from different places: the address is counted
            assert ask_for_link(browser(app, ip=ip), email).status_code == 200
        refused = ask_for_link(browser(app, ip="198.51.100.99"), email)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "3600"
        refusals.append(refused.text)
    assert refusals[0] == refusals[1]  # nothing tells a known address from another
    assert "Trop de demandes de lien de connexion" in refusals[0]
    assert mails_to(app, ELISE) == 5


def test_asking_too_often_from_one_ip_is_refused(app: Starlette) -> None:
    client = browser(app, ip="192.0.2.10")
    for number in range(20):
        assert ask_for_link(client, f"personne{number}@example.org").status_code == 200
    refused = ask_for_link(client, "encore@example.org")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "900"
    assert ask_for_link(browser(app, ip="192.0.2.11"), "encore@example.org").status_code == 200


@pytest.mark.parametrize("next_path", ["//evil.example", "https://evil.example/",
                                       "/\\evil.example", "javascript:alert(1)",
                                       "evil.example", "/%0d%0aLocation: x"])
def test_the_next_page_is_always_on_this_site(app: Starlette, next_path: str) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    assert sign_in(browser(app), app, ELISE, next_path) == "/"


def test_the_next_page_is_kept_through_the_sign_in(app: Starlette) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    client = browser(app)
    sent_to_form = client.get("/compte/")
    assert sent_to_form.headers["location"] == "/compte/connexion?suivant=/compte/"
    form = client.get(sent_to_form.headers["location"])
    assert 'name="suivant" value="/compte/"' in form.text
    assert sign_in(client, app, ELISE, "/membres/lyon/?page=2") == "/membres/lyon/?page=2"


def test_a_mistyped_address_is_shown_again_with_an_alert(app: Starlette) -> None:
    response = ask_for_link(browser(app), "elise.martin@example")
    assert response.status_code == 400
    assert 'role="alert"' in response.text and 'aria-invalid="true"' in response.text
    assert 'value="elise.martin@example"' in response.text
    assert "prenom.nom@exemple.fr" in response.text


def test_the_sign_in_form_is_accessible(app: Starlette) -> None:
    page = browser(app).get("/compte/connexion").text
    assert page.count("<h1>") == 1
    assert '<label for="email">' in page and 'id="email"' in page
    assert 'autocomplete="email"' in page and 'type="email"' in page
    assert 'class="button-big"' in page


def test_a_revoked_role_is_gone_on_the_next_request(app: Starlette) -> None:
    person = add_person(app, ELISE, ("member", "lyon"), ("reporter", "lyon"))
    client = browser(app)
    sign_in(client, app, ELISE)
    assert "Rédacteur·rice, Adhérent·e" in client.get("/compte/").text
    with engine_of(app).begin() as connection:
        revoke_role(connection, person, "reporter", "lyon")
    page = client.get("/compte/").text
    assert "Adhérent·e" in page and "Rédacteur·rice" not in page


def test_signing_in_again_ends_the_previous_session_of_that_browser(app: Starlette) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    client = browser(app)
    sign_in(client, app, ELISE)
    first = client.cookies[COOKIE]
    sign_in(client, app, ELISE)
    assert client.cookies[COOKIE] != first
    stale = browser(app)
    stale.cookies.set(COOKIE, first)
    assert stale.get("/compte/").status_code == 303
    with engine_of(app).connect() as connection:
        open_sessions = connection.execute(select(func.count()).select_from(sessions).where(
            sessions.c.revoked_at.is_(None))).scalar_one()
    assert open_sessions == 1


def test_an_expired_session_is_signed_out(app: Starlette) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    client = browser(app)
    sign_in(client, app, ELISE)
    with engine_of(app).begin() as connection:
        connection.execute(update(sessions).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get("/compte/").status_code == 303


def test_activity_is_noted_for_the_dashboard(app: Starlette) -> None:
    add_person(app, ELISE, ("member", "lyon"))
    client = browser(app)
    sign_in(client, app, ELISE)
    client.get("/compte/")
    with engine_of(app).connect() as connection:
        seen = connection.execute(select(people.c.last_seen_at)).scalar()
    assert seen is not None and datetime.now(UTC) - seen < timedelta(minutes=1)


# --- The guards other parts use ---------------------------------------------------------

@pytest.fixture
def guarded(app: Starlette) -> Starlette:
    """The app with a page of each kind of guard, as another part would write them."""

    def page(request: Request) -> PlainTextResponse:
        guard = request.path_params["guard"]
        if guard == "personne":
            person = require_person(request)
        elif guard == "webmaster":
            person = require_webmaster(request)
        else:
            person = require_role(request, "reporter", guard)
        return PlainTextResponse(f"bonjour {person.email}")

    app.router.routes.insert(0, Route("/essai/{guard}", page, methods=["GET", "POST"]))
    return app


def test_guards_send_signed_out_visitors_to_sign_in(guarded: Starlette) -> None:
    client = browser(guarded)
    response = client.get("/essai/lyon?onglet=2")
    assert response.status_code == 303
    assert response.headers["location"] == "/compte/connexion?suivant=/essai/lyon%3Fonglet%3D2"
    posted = client.post("/essai/lyon", headers=SAME_SITE)
    assert posted.status_code == 401
    assert "connectez-vous à nouveau" in posted.text


def test_guards_check_roles_by_city(guarded: Starlette) -> None:
    add_person(guarded, ELISE, ("reporter", "lyon"))
    add_person(guarded, "chef@example.org", ("admin", "saint-etienne"))
    add_person(guarded, "web@example.org", ("webmaster", ""))
    elise, chef, web = browser(guarded), browser(guarded), browser(guarded)
    sign_in(elise, guarded, ELISE)
    sign_in(chef, guarded, "chef@example.org")
    sign_in(web, guarded, "web@example.org")

    assert elise.get("/essai/personne").text == f"bonjour {ELISE}"
    assert elise.get("/essai/lyon").status_code == 200
    refused = elise.get("/essai/saint-etienne")
    assert refused.status_code == 403
    assert "Cette page est réservée (rédacteur·rice de « saint-etienne »)" in refused.text
    assert elise.get("/essai/webmaster").status_code == 403
    assert chef.get("/essai/saint-etienne").status_code == 200  # an admin may write too
    assert chef.get("/essai/lyon").status_code == 403
    for path in ("/essai/lyon", "/essai/saint-etienne", "/essai/webmaster"):
        assert web.get(path).status_code == 200
