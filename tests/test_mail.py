"""Mail goes through the outbox to a real SMTP server (aiosmtpd on loopback): French text
and HTML, retried when the server is down or refuses for now, given up when it refuses for
good, and never sent twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from conftest import SmtpCapture, free_port
from sqlalchemy import select

from avf.mail import MailWorker, queue_mail, render_mail
from avf.mail.settings import SmtpSettings
from avf.mail.worker import MAX_ATTEMPTS
from avf.store.schema import outbox

NOW = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
ACK = {"name": "Élise Martin", "city_name": "AVF Lyon", "phone": "04 78 00 00 00",
       "hours": "mardi 14 h – 17 h <salle B>", "site_url": "https://avf.example/lyon/"}



def settings_for(smtp: SmtpCapture | None, port: int | None = None) -> SmtpSettings:
    if smtp is None:
        return SmtpSettings(host="127.0.0.1", port=port or free_port(), timeout=2)
    return SmtpSettings(host=smtp.host, port=smtp.port, sender="AVF <ne-pas-repondre@avf.fr>")


def queue_ack(engine, to: str = "elise@example.org") -> int:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        return queue_mail(connection, kind="contact_ack", to=to, context=ACK, now=NOW)


def row(engine, mail_id: int):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(select(outbox).where(outbox.c.id == mail_id)).mappings().one()


def test_a_mail_is_rendered_in_french_with_text_and_html() -> None:
    mail = render_mail("contact_ack", ACK)
    assert mail.subject == "AVF Lyon a bien reçu votre message"
    assert mail.text.startswith("Bonjour,")
    assert "<salle B>" in mail.text  # plain text is not escaped
    assert mail.html is not None and "&lt;salle B&gt;" in mail.html  # HTML is
    assert 'lang="fr"' in mail.html


def test_the_worker_delivers_over_smtp(engine, smtp_server: SmtpCapture) -> None:  # type: ignore[no-untyped-def]
    mail_id = queue_ack(engine)
    assert MailWorker(engine, settings_for(smtp_server)).send_due(NOW) == 1
    [message] = smtp_server.messages
    assert message["To"] == "elise@example.org"
    assert message["From"] == "AVF <ne-pas-repondre@avf.fr>"
    assert message["Subject"] == "AVF Lyon a bien reçu votre message"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "@avf.fr>" in message["Message-ID"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "appeler l'association au 04 78 00 00 00" in text
    assert "<strong>AVF Lyon</strong>" in html
    stored = row(engine, mail_id)
    assert stored["status"] == "sent" and stored["attempts"] == 1
    assert MailWorker(engine, settings_for(smtp_server)).send_due(NOW) == 0  # never twice


def test_smtp_down_keeps_the_mail_and_retries_later(engine, smtp_server: SmtpCapture) -> None:  # type: ignore[no-untyped-def]
    mail_id = queue_ack(engine)
    assert MailWorker(engine, settings_for(None)).send_due(NOW) == 0
    stored = row(engine, mail_id)
    assert stored["status"] == "pending" and stored["attempts"] == 1
    assert "ConnectionRefused" in stored["last_error"]
    assert stored["next_attempt_at"] == NOW + timedelta(minutes=1)
    worker = MailWorker(engine, settings_for(smtp_server))
    assert worker.send_due(NOW + timedelta(seconds=30)) == 0  # not yet due
    assert worker.send_due(NOW + timedelta(minutes=1)) == 1
    assert row(engine, mail_id)["status"] == "sent"
    assert len(smtp_server.messages) == 1


def test_a_temporary_refusal_is_retried(engine, smtp_server: SmtpCapture) -> None:  # type: ignore[no-untyped-def]
    mail_id = queue_ack(engine)
    smtp_server.refuse_with = "451 Réessayez plus tard"
    worker = MailWorker(engine, settings_for(smtp_server))
    assert worker.send_due(NOW) == 0
    assert row(engine, mail_id)["status"] == "pending"
    smtp_server.refuse_with = None
    assert worker.send_due(NOW + timedelta(minutes=1)) == 1


def test_a_permanent_refusal_is_given_up_and_kept(engine, smtp_server: SmtpCapture) -> None:  # type: ignore[no-untyped-def]
    mail_id = queue_ack(engine)
    smtp_server.refuse_with = "550 Adresse inconnue"
    assert MailWorker(engine, settings_for(smtp_server)).send_due(NOW) == 0
    stored = row(engine, mail_id)
    assert stored["status"] == "failed" and "550" in stored["last_error"]


def test_a_mail_is_given_up_after_the_last_attempt(engine) -> None:  # type: ignore[no-untyped-def]
    mail_id = queue_ack(engine)
    worker = MailWorker(engine, settings_for(None))
    moment = NOW
    for _ in range(MAX_ATTEMPTS):
        worker.send_due(moment)
        moment += timedelta(days=1)
    stored = row(engine, mail_id)
    assert stored["status"] == "failed" and stored["attempts"] == MAX_ATTEMPTS


def test_a_claimed_mail_is_not_taken_by_another_worker(engine, smtp_server: SmtpCapture) -> None:  # type: ignore[no-untyped-def]
    queue_ack(engine)
    first, second = (MailWorker(engine, settings_for(smtp_server)) for _ in range(2))
    claimed = first._claim(NOW)
    assert len(claimed) == 1
    assert second._claim(NOW) == []  # leased by the first
    assert second._claim(NOW + timedelta(minutes=11)) != []  # the first died: lease over


def test_the_background_worker_sends_when_woken(engine, smtp_server: SmtpCapture) -> None:  # type: ignore[no-untyped-def]
    worker = MailWorker(engine, settings_for(smtp_server), poll_seconds=60)
    worker.start()
    try:
        with engine.begin() as connection:
            queue_mail(connection, kind="contact_ack", to="x@example.org", context=ACK)
        worker.wake()
        assert len(smtp_server.wait_for(1)) == 1
    finally:
        worker.stop()


def test_without_smtp_host_mails_are_written_to_a_folder(
        engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """The embedded default (`./run serve` on a fresh machine) has no SMTP server."""
    settings = SmtpSettings(host="", pickup_dir=tmp_path / "mail")
    mail_id = queue_ack(engine)
    assert MailWorker(engine, settings).send_due(NOW) == 1
    [eml] = (tmp_path / "mail").glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=email_policy.default)
    assert message["Subject"] == "AVF Lyon a bien reçu votre message"
    assert row(engine, mail_id)["status"] == "sent"
    announced = capsys.readouterr().err
    assert "elise@example.org" in announced and str(eml) in announced


def test_a_mail_that_cannot_be_written_is_given_up_without_blocking_the_others(
        engine, smtp_server: SmtpCapture) -> None:  # type: ignore[no-untyped-def]
    """An encoded word that decodes to a line break makes the address unwritable."""
    poisoned = queue_ack(engine, to="=?utf-8?q?a=0D=0AX=3A?=@example.net")
    healthy = queue_ack(engine)
    assert MailWorker(engine, settings_for(smtp_server)).send_due(NOW) == 1
    assert row(engine, poisoned)["status"] == "failed"
    assert row(engine, healthy)["status"] == "sent"


def test_extra_headers_go_out_with_the_mail(engine, smtp_server: SmtpCapture) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        queue_mail(connection, kind="contact_ack", to="a@example.org", context=ACK, now=NOW,
                   headers={"List-Unsubscribe": "<https://avf.example/desabonnement/x>",
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        with pytest.raises(ValueError, match="line break"):
            queue_mail(connection, kind="contact_ack", to="a@example.org", context=ACK,
                       headers={"X-Test": "a\r\nBcc: b@example.org"})
    MailWorker(engine, settings_for(smtp_server)).send_due(NOW)
    [message] = smtp_server.messages
    assert message["List-Unsubscribe"] == "<https://avf.example/desabonnement/x>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
