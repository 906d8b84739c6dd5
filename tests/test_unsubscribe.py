"""One-click unsubscribe (RFC 8058): the link of every news mail works without signing in;
opening it changes nothing, posting to it (the page's button, or the mail client acting on
`List-Unsubscribe-Post` with no cookie and no Origin) turns the news off."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from pathlib import Path

from auth_helpers import engine_of
from conftest import SmtpCapture
from news_helpers import NOW, news_service, reader
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service.news_mail import address_tag, person_of_token, unsubscribe_token
from avf.service.profiles import load_profile

ANA = "ana@example.org"


def news_of(app: Starlette, person_id: int):  # type: ignore[no-untyped-def]
    with engine_of(app).connect() as connection:
        return load_profile(connection, person_id)


def link_of_first_mail(app: Starlette, smtp: SmtpCapture) -> str:
    app.state.news.run(NOW)
    app.state.runtime.mail.send_due(NOW)
    (mail,) = smtp.messages
    return str(mail["List-Unsubscribe"]).strip().strip("<>").removeprefix("http://avf.test")


def mail_client(app: Starlette) -> TestClient:
    """Not a browser: no cookie, no Origin, no Referer."""
    return TestClient(app, base_url="http://avf.test", follow_redirects=False)


def test_one_click_post_from_the_mail_client_unsubscribes(tmp_path: Path,
                                                          smtp_server: SmtpCapture) -> None:
    with news_service(tmp_path, smtp_server) as app:
        ana = reader(app, ANA)
        path = link_of_first_mail(app, smtp_server)
        client = mail_client(app)
        response = client.post(path, content=b"List-Unsubscribe=One-Click",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200
        assert "Vous ne recevrez plus nos nouvelles" in response.text
        assert "Mon profil" in response.text  # how to subscribe again
        profile = news_of(app, ana)
        assert profile.news_by_email is False
        assert profile.news_consent_at is not None and profile.news_consent_at > NOW
        # Nothing more is sent, whatever comes next.
        assert app.state.news.run(NOW + timedelta(days=4)) == (0, 0)
        # A second click changes nothing and says the same.
        withdrawn_at = profile.news_consent_at
        assert client.post(path).status_code == 200
        assert news_of(app, ana).news_consent_at == withdrawn_at


def test_opening_the_link_does_not_unsubscribe(tmp_path: Path,
                                               smtp_server: SmtpCapture) -> None:
    with news_service(tmp_path, smtp_server) as app:
        ana = reader(app, ANA)
        path = link_of_first_mail(app, smtp_server)
        page = mail_client(app).get(path)
        assert page.status_code == 200
        assert news_of(app, ana).news_by_email is True
        assert f'<form method="post" action="{path}">' in page.text
        assert "Ne plus recevoir les nouvelles</button>" in page.text
        # The page's button posts from the page, like a browser.
        pressed = mail_client(app).post(path, headers={"Origin": "http://avf.test"},
                                        data={"List-Unsubscribe": "One-Click"})
        assert pressed.status_code == 200
        assert news_of(app, ana).news_by_email is False


def test_a_bad_token_is_a_french_404(tmp_path: Path, smtp_server: SmtpCapture) -> None:
    with news_service(tmp_path, smtp_server, built=False) as app:
        ana = reader(app, ANA)
        good = unsubscribe_token(ana, ANA, "test-secret-key")
        forged = unsubscribe_token(ana, ANA, "another-secret")
        # A link made for another address under the same id (an id given again on SQLite
        # after its account was deleted) unsubscribes nobody.
        reused_id = unsubscribe_token(ana, "quelquun.dautre@example.org", "test-secret-key")
        client = mail_client(app)
        for token in (forged, good[:-2], "abc", good + "x", reused_id):
            for method in (client.get, client.post):
                response = method(f"/compte/desabonnement/{token}")
                assert response.status_code == 404
                assert "lien de désabonnement n'est pas valable" in unescape(response.text)
        assert news_of(app, ana).news_by_email is True
        assert person_of_token(good, "test-secret-key") == (ana, address_tag(ANA))
