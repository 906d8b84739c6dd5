"""Registering for events (`/membres/<city>/inscriptions/<event>`), from a real build:
what the build writes for the service, the member's page, capacity under concurrent
sign-ups over real HTTP, the waiting list, the organisers' lists, the reminders."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE, add_person, browser, csrf_token, engine_of
from conftest import SmtpCapture, service_settings
from registration_helpers import (
    OUTING,
    build_events,
    check_no_overbooking,
    press_at_once,
    session_cookie,
    signed_in_members,
)
from sqlalchemy import delete, func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service import create_app
from avf.service.event_reminders import send_reminders
from avf.service.registration_store import (
    cancel,
    counts,
    event_transaction,
    register,
    standing,
)
from avf.store.schema import event_registrations, outbox, people

OUTING_START = datetime(2099, 5, 9, 12, 0, tzinfo=UTC)  # 14:00 in Paris


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_events(tmp_path_factory.mktemp("events"))


@pytest.fixture
def app(tmp_path: Path, built: tuple[Path, Path], smtp_server: SmtpCapture,
        ) -> Iterator[Starlette]:
    content, output = built
    settings = service_settings(tmp_path, content, smtp_server, run_workers=False)
    application = create_app(replace(settings, output_dir=output))
    with browser(application):
        yield application


def client_of(app: Starlette, cookie: str) -> TestClient:
    client = browser(app)
    client.cookies.set("avf_session", cookie)
    return client


def page_text(client: TestClient, path: str = OUTING) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    return html.unescape(response.text)


def press(client: TestClient, action: str, path: str = OUTING):  # type: ignore[no-untyped-def]
    return client.post(path, headers=SAME_SITE,
                       data={"csrf_token": csrf_token(client, path), "action": action})


def test_the_build_tells_the_service_which_events_take_registrations(
        built: tuple[Path, Path]) -> None:
    _, output = built
    data = json.loads((output / "members" / "lyon" / "events.json").read_text("utf-8"))
    assert data["version"] == 1 and data["city"] == "lyon"
    assert [item["slug"] for item in data["events"]] == [
        "soiree-passee", "sortie-annecy", "dejeuner"]  # by start; the conference takes none
    outing = data["events"][1]
    assert outing == {"slug": "sortie-annecy", "title": "Sortie à Annecy",
                      "start": "2099-05-09T14:00:00+02:00", "end": "2099-05-09T17:00:00+02:00",
                      "all_day": False, "place": "Gare de la Part-Dieu", "capacity": 5,
                      "url": "/lyon/actualites/sortie-annecy.html", "visibility": "public"}
    assert data["events"][2]["visibility"] == "members"
    assert data["events"][2]["capacity"] is None
    assert not list((output / "public").rglob("events.json"))
    page = (output / "public" / "lyon" / "actualites" / "sortie-annecy.html").read_text("utf-8")
    assert 'href="http://avf.test/membres/lyon/inscriptions/sortie-annecy">Je m' in page
    conference = (output / "public" / "lyon" / "actualites" / "conference.html").read_text()
    assert "/inscriptions/" not in conference


def test_twenty_members_at_once_never_overbook(app: Starlette) -> None:
    members = signed_in_members(app, 20)
    statuses = press_at_once(app, members)
    assert statuses == [303] * 20
    check_no_overbooking(app, members, capacity=5)


def test_the_page_shows_places_left_and_the_members_own_standing(app: Starlette) -> None:
    (_, cookie), *others = signed_in_members(app, 6)
    client = client_of(app, cookie)
    text = page_text(client)
    assert "Inscription : Sortie à Annecy" in text and "5 places restantes" in text
    assert "Vous n'êtes pas inscrit·e." in text and "Je m'inscris" in text
    response = press(client, "inscrire")
    assert response.status_code == 303 and response.headers["location"] == OUTING
    text = page_text(client)
    assert "Vous êtes inscrit·e." in text and "4 places restantes" in text
    assert "Me désinscrire" in text
    assert press(client, "inscrire").status_code == 303  # twice: still one place taken
    with engine_of(app).connect() as connection:
        assert counts(connection, "lyon", "sortie-annecy") == (1, 0)
    for _, other in others:
        press(client_of(app, other), "inscrire")
    text = page_text(client_of(app, others[-1][1]))
    assert "Complet : liste d'attente" in text and "en position 1" in text
    assert "Quitter la liste d'attente" in text
    newcomer = signed_in_members(app, 1, prefix="retardataire")[0][1]
    assert "Je m'inscris sur la liste d'attente" in page_text(client_of(app, newcomer))


def test_cancelling_gives_the_place_to_the_first_waiting_who_is_mailed(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    members = signed_in_members(app, 7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with event_transaction(engine_of(app), "lyon", "sortie-annecy") as connection:
        for minute, (person_id, _) in enumerate(members):
            register(connection, "lyon", "sortie-annecy", 5, person_id,
                     start + timedelta(minutes=minute))
    leaving = client_of(app, members[2][1])
    response = press(leaving, "desinscrire")
    assert response.status_code == 303
    assert "Vous vous êtes désinscrit·e." in page_text(leaving)
    with engine_of(app).connect() as connection:
        assert standing(connection, "lyon", "sortie-annecy", members[5][0]).status == \
            "registered"
        assert standing(connection, "lyon", "sortie-annecy", members[6][0]).position == 1
        promoted_at = connection.execute(select(event_registrations.c.promoted_at).where(
            event_registrations.c.person_id == members[5][0])).scalar_one()
    assert promoted_at is not None
    assert app.state.runtime.mail.send_due() == 1
    (mail,) = smtp_server.wait_for(1)
    assert mail["To"] == "membre05@example.org"
    assert "Une place s'est libérée" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "vous êtes inscrit·e à « Sortie à Annecy »" in body
    assert "http://avf.test/membres/lyon/inscriptions/sortie-annecy" in body
    # Registering again after cancelling: the same row, at the end of the queue.
    assert press(leaving, "inscrire").status_code == 303
    assert "en position 2" in page_text(leaving)
    with engine_of(app).connect() as connection:
        rows = connection.execute(select(func.count()).select_from(event_registrations)
                                  .where(event_registrations.c.person_id == members[2][0]))
        assert rows.scalar_one() == 1
    # Leaving the waiting list promotes nobody.
    assert press(client_of(app, members[6][1]), "desinscrire").status_code == 303
    assert app.state.runtime.mail.send_due() == 0


def test_a_past_event_takes_no_registration(app: Starlette) -> None:
    ((person_id, cookie),) = signed_in_members(app, 1)
    client = client_of(app, cookie)
    path = "/membres/lyon/inscriptions/soiree-passee"
    text = page_text(client, path)
    assert "les inscriptions sont closes" in text and "Je m'inscris" not in text
    response = press(client, "inscrire", path)
    assert response.status_code == 409
    assert 'role="alert"' in response.text
    with engine_of(app).connect() as connection:
        assert standing(connection, "lyon", "soiree-passee", person_id).status is None


def test_who_may_register_and_who_may_see_the_lists(app: Starlette) -> None:
    ((_, member),) = signed_in_members(app, 1)
    ((_, parisian),) = signed_in_members(app, 1, city="paris", prefix="parisien")
    anonymous = browser(app)
    assert anonymous.get(OUTING).status_code == 303
    assert client_of(app, parisian).get(OUTING).status_code == 403
    response = client_of(app, parisian).post(OUTING, headers=SAME_SITE, data={
        "csrf_token": csrf_token(client_of(app, parisian)), "action": "inscrire"})
    assert response.status_code == 403
    assert client_of(app, member).get("/membres/lyon/inscriptions/conference").status_code == 404
    assert client_of(app, member).get("/membres/lyon/inscriptions/rien").status_code == 404
    assert client_of(app, member).get(OUTING + "/liste").status_code == 403
    assert client_of(app, member).get(OUTING + "/liste.csv").status_code == 403
    # The member-only lunch, without a limit.
    lunch = page_text(client_of(app, member), "/membres/lyon/inscriptions/dejeuner")
    assert "Nombre de places non limité." in lunch


def test_organisers_see_the_lists_emails_for_admins_only(app: Starlette) -> None:
    members = signed_in_members(app, 7)
    with engine_of(app).begin() as connection:
        connection.execute(people.update().where(people.c.id == members[0][0])
                           .values(display_name="=HYPERLINK(\"x\")"))
    for _, cookie in members:
        press(client_of(app, cookie), "inscrire")
    admin = add_person(app, "responsable@example.org", ("admin", "lyon"))
    reporter = add_person(app, "redaction@example.org", ("reporter", "lyon"))
    cookies = {"admin": session_cookie(app, admin), "reporter": session_cookie(app, reporter)}
    text = page_text(client_of(app, cookies["admin"]), OUTING + "/liste")
    assert "Membre 01" in text and "membre01@example.org" in text
    assert "Liste d'attente" in text and "Membre 06" in text
    text = page_text(client_of(app, cookies["reporter"]), OUTING + "/liste")
    assert "Membre 01" in text and "@example.org" not in text

    response = client_of(app, cookies["admin"]).get(OUTING + "/liste.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == \
        'attachment; filename="inscrits-lyon-sortie-annecy.csv"'
    assert response.headers["cache-control"] == "private, no-store"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Nom", "Email", "Statut", "Depuis le"]
    assert rows[1][:3] == ["'=HYPERLINK(\"x\")", "membre00@example.org", "inscrit·e"]
    assert [row[2] for row in rows[1:]] == ["inscrit·e"] * 5 + [
        "liste d'attente n° 1", "liste d'attente n° 2"]
    reporter_csv = client_of(app, cookies["reporter"]).get(OUTING + "/liste.csv")
    assert reporter_csv.content.decode("utf-8-sig").splitlines()[0] == "Nom;Statut;Depuis le"
    assert b"@example.org" not in reporter_csv.content


def test_reminders_leave_once_the_day_before_to_the_registered_only(app: Starlette) -> None:
    members = signed_in_members(app, 7)
    engine = engine_of(app)
    with event_transaction(engine, "lyon", "sortie-annecy") as connection:
        for person_id, _ in members:
            register(connection, "lyon", "sortie-annecy", 5, person_id,
                     datetime(2026, 11, 1, tzinfo=UTC))
        cancel(connection, "lyon", "sortie-annecy", 5, members[4][0],
               datetime(2026, 11, 2, tzinfo=UTC))  # members[5] takes the place
    with engine.begin() as connection:  # a deleted account takes its registration away
        connection.execute(delete(people).where(people.c.id == members[0][0]))
    events = app.state.runtime.events_data

    def reminders_queued() -> list[str]:
        with engine.connect() as connection:
            return sorted(connection.execute(select(outbox.c.to_address)
                                             .where(outbox.c.kind == "event_reminder")).scalars())

    two_days_before = OUTING_START - timedelta(days=2)
    assert send_reminders(engine, events, "http://avf.test", two_days_before) == 0
    day_before = datetime(2099, 5, 8, 6, 0, tzinfo=UTC)  # 8:00 in Paris
    assert send_reminders(engine, events, "http://avf.test", day_before) == 4
    assert send_reminders(engine, events, "http://avf.test", day_before) == 0
    assert send_reminders(engine, events, "http://avf.test",
                          day_before + timedelta(hours=12)) == 0
    assert reminders_queued() == ["membre01@example.org", "membre02@example.org",
                                  "membre03@example.org", "membre05@example.org"]
    with engine.connect() as connection:
        subject = connection.execute(select(outbox.c.subject)
                                     .where(outbox.c.kind == "event_reminder")).scalar()
    assert subject == "Rappel : « Sortie à Annecy », demain"


def test_the_members_home_links_the_registrations(app: Starlette) -> None:
    ((_, cookie),) = signed_in_members(app, 1)
    response = client_of(app, cookie).get("/membres/lyon/")
    assert response.status_code == 200
    text = html.unescape(response.text)
    assert ('<a href="/membres/lyon/inscriptions/sortie-annecy">'
            "Inscription à « Sortie à Annecy »</a>") in text
    assert ('<a href="/membres/lyon/inscriptions/dejeuner">'
            "Inscription à « Déjeuner des adhérents »</a>") in text
    assert "Conférence" in text and "/inscriptions/conference" not in text
    assert "/inscriptions/soiree-passee" not in text  # over: not among the next events
