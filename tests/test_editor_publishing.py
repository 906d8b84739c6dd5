"""From "Publier" to the page online: the tracking page over a real build run through the
queue, the mails of the workflow through a real SMTP server, and scheduled publications
made by the worker (driven by hand)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from auth_helpers import engine_of
from conftest import SmtpCapture, post
from content_repo import git
from editor_helpers import Editor, editor_service, submit
from sqlalchemy import select, update

from avf.service.accounts import grant_role, revoke_role
from avf.store.schema import build_jobs, editor_schedules

REVIEW = "posts/2026-02-01-sortie.md"
REVIEW_URL = f"/editeur/lyon/texte/{REVIEW}"


@pytest.fixture
def editor(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Editor]:
    with editor_service(tmp_path, smtp_server, files={
        REVIEW: post("Sortie au musée", "2026-02-01", extra="status: review"),
    }) as service:
        yield service


def mails(editor: Editor, smtp: SmtpCapture, subject: str) -> list[EmailMessage]:
    """Send what the outbox holds, then the received mails whose subject starts so."""
    editor.app.state.runtime.mail.send_due()
    return [message for message in smtp.messages if message["Subject"].startswith(subject)]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def run_builds(editor: Editor) -> list[int]:
    return editor.app.state.runtime.builds.run_due()  # type: ignore[no-any-return]


# --- Tracking a publication -------------------------------------------------------------------

def test_publish_then_follow_the_build_until_the_page_is_online(editor: Editor) -> None:
    client = editor.client("admin")
    response = submit(client, REVIEW_URL, "publish")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/editeur/lyon/suivi/") and location.endswith(f"?texte={REVIEW}")
    waiting = client.get(location)
    assert waiting.status_code == 200 and "Mise en ligne en cours" in waiting.text
    assert waiting.headers["refresh"] == "2"  # the page comes back by itself
    assert client.get(location + "&format=json").json()["finished"] is False
    started = datetime.now(UTC)
    assert run_builds(editor)  # the queue, by hand: a real build
    done = client.get(location)
    assert "refresh" not in done.headers
    assert "<h1>En ligne</h1>" in done.text
    assert 'href="/lyon/actualites/sortie.html"' in done.text
    state = client.get(location + "&format=json").json()
    assert state == {"status": "done", "finished": True, "url": "/lyon/actualites/sortie.html",
                     "errors": []}
    online = editor.app.state.runtime.settings.public_dir / "lyon/actualites/sortie.html"
    assert "Sortie au musée" in online.read_text(encoding="utf-8")
    assert client.get("/lyon/actualites/sortie.html").status_code == 200
    print(f"Publier → en ligne: {(datetime.now(UTC) - started).total_seconds():.2f} s")


def test_a_failed_build_shows_its_errors_in_french(editor: Editor) -> None:
    card = editor.repos.checkout / "lyon" / "city.yaml"
    card.write_text(card.read_text(encoding="utf-8") + "couleur: [\n", encoding="utf-8")
    client = editor.client("admin")
    location = submit(client, REVIEW_URL, "publish").headers["location"]
    run_builds(editor)
    page = client.get(location)
    assert "La mise en ligne a échoué" in page.text
    assert "city.yaml" in page.text and "la version précédente reste en ligne" in page.text
    assert client.get(location + "&format=json").json()["status"] == "failed"


def test_the_tracking_page_is_the_citys_only(editor: Editor) -> None:
    location = submit(editor.client("admin"), REVIEW_URL, "publish").headers["location"]
    job = location.split("/suivi/")[1].split("?")[0]
    assert editor.client("reporter_gap").get(location).status_code == 403
    assert editor.client("webmaster").get(f"/editeur/gap/suivi/{job}").status_code == 404


# --- Notifications ---------------------------------------------------------------------------

def test_review_send_back_and_publication_are_told_by_email(editor: Editor,
                                                            smtp_server: SmtpCapture) -> None:
    writer = editor.client("reporter")
    created = submit(writer, "/editeur/lyon/nouveau", "save", title="Atelier cuisine",
                     body="Tous les jeudis.")
    url = created.headers["location"].split("?")[0]
    assert submit(writer, url, "submit").status_code == 303
    (review,) = mails(editor, smtp_server, "Un texte attend votre relecture")
    assert review["To"] == "responsable@example.org"  # the admin; not the one who wrote it
    assert "« Atelier cuisine »" in text_of(review) and "Hélène Dupont" in text_of(review)
    assert f"http://avf.test{url}" in text_of(review)

    admin = editor.client("admin")
    assert submit(admin, url, "send_back", comment="Précisez l'adresse.").status_code == 303
    (back,) = mails(editor, smtp_server, "Votre texte est à revoir")
    assert back["To"] == "redactrice@example.org" and "Précisez l'adresse." in text_of(back)

    assert submit(writer, url, "submit").status_code == 303
    assert submit(admin, url, "publish").status_code == 303
    (online,) = mails(editor, smtp_server, "Votre texte est en ligne")
    assert online["To"] == "redactrice@example.org"
    assert "http://avf.test/lyon/actualites/atelier-cuisine.html" in text_of(online)
    # Addresses stay in mails: no page shows them.
    assert "redactrice@example.org" not in admin.get(url).text
    assert "redactrice@example.org" not in admin.get("/editeur/lyon/").text


# --- Scheduled publications -----------------------------------------------------------------

def schedule(editor: Editor) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    response = submit(editor.client("admin"), REVIEW_URL, "schedule",
                      publish_date=f"{tomorrow:%Y-%m-%d}", publish_time="09:30")
    assert response.status_code == 303, response.text
    listing = editor.client("admin").get("/editeur/lyon/").text
    assert "Programmés (1)" in listing and "à 9 h 30" in listing
    with engine_of(editor.app).begin() as connection:  # its time has come
        connection.execute(update(editor_schedules).values(
            publish_at=datetime.now(UTC) - timedelta(minutes=1)))


def test_a_due_schedule_is_published_by_the_service(editor: Editor,
                                                    smtp_server: SmtpCapture) -> None:
    assert submit(editor.client("reporter"), REVIEW_URL, "save",
                  body="Rendez-vous à 10 h.").status_code == 303  # the writer
    schedule(editor)
    worker = editor.app.state.editor_schedule
    (done,) = worker.run_pass()
    assert worker.run_pass() == []  # once only
    text = git(editor.repos.checkout, "show", f"HEAD:lyon/{REVIEW}")
    assert "status:" not in text and "Rendez-vous à 10 h." in text  # published
    assert git(editor.repos.checkout, "log", "-1", "--format=%an") == "Paul Martin"
    with engine_of(editor.app).connect() as connection:
        row = connection.execute(select(editor_schedules)).mappings().one()
        job = connection.execute(select(build_jobs)).mappings().one()
    assert row["id"] == done and row["done_at"] is not None and row["error"] == ""
    assert job["city"] == "lyon" and job["status"] == "queued"
    (online,) = mails(editor, smtp_server, "Votre texte est en ligne")
    assert online["To"] == "redactrice@example.org"


def test_a_schedule_whose_author_lost_the_right_is_reported_to_the_admins(
        editor: Editor, smtp_server: SmtpCapture) -> None:
    schedule(editor)
    with engine_of(editor.app).begin() as connection:
        revoke_role(connection, editor.ids["admin"], "admin", "lyon")
        grant_role(connection, editor.ids["reporter2"], "admin", "lyon")
    head = editor.repos.checkout_head()
    editor.app.state.editor_schedule.run_pass()
    assert editor.repos.checkout_head() == head  # nothing published
    with engine_of(editor.app).connect() as connection:
        row = connection.execute(select(editor_schedules)).mappings().one()
    assert row["done_at"] is not None and "n'a plus le droit" in row["error"]
    (told,) = mails(editor, smtp_server, "Une publication programmée n'a pas pu se faire")
    assert told["To"] == "redacteur@example.org"
    assert "n'a plus le droit de publier" in text_of(told)
