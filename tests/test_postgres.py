"""PostgreSQL stays possible: the migrations and the service's main flows run on a real
PostgreSQL server too (Debian's, started for these tests), not only on SQLite."""

from __future__ import annotations

import importlib.util
import itertools
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from auth_helpers import add_person, browser, csrf_token, sign_in
from conftest import SmtpCapture, build, post, service_settings, write, write_city
from postgres_server import postgres_bin, postgres_server
from sqlalchemy import create_engine, insert, select, text

from avf.service import create_app
from avf.service.overview import city_rows, network_figures
from avf.store import connect, migrate
from avf.store.engine import current_revision
from avf.store.schema import build_jobs, contact_messages, metadata, outbox, people

SITE = "http://avf.test"
_names = itertools.count()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    missing = postgres_bin() is None or importlib.util.find_spec("psycopg") is None
    if missing:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: its binaries or psycopg are missing")
        pytest.skip("PostgreSQL or psycopg is not installed here")
    with postgres_server() as url:
        yield url


@pytest.fixture
def database_url(server: str) -> Iterator[str]:
    """A new, empty database on the server for each test."""
    name = f"avf_test_{next(_names)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_create_exactly_the_schema_on_postgresql(database_url: str) -> None:
    engine = connect(database_url)
    migrate(engine)
    migrate(engine)  # twice: nothing to do the second time
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    assert current_revision(engine) is not None
    moment = datetime(2026, 11, 28, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as connection:
        connection.execute(insert(people).values(email="a@example.org", created_at=moment))
        stored = connection.execute(select(people.c.created_at)).scalar_one()
    assert stored == moment and stored.utcoffset() == timedelta(0)
    engine.dispose()


def test_the_service_runs_on_postgresql(database_url: str, tmp_path: Path,
                                        smtp_server: SmtpCapture) -> None:
    """Sign-in, a member page, the contact relay with its mails, the dashboard and a
    forced rebuild through the queue — on PostgreSQL."""
    content = tmp_path / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-11-20-cafe.md": post("Café", date="2026-11-20"),
        "posts/2026-11-21-conseil.md": post("Conseil", date="2026-11-21",
                                       extra="visibility: members", body="Budget voté."),
    })
    output = tmp_path / "output"
    assert build(content, output).ok
    settings = replace(service_settings(tmp_path, content, smtp_server, run_workers=False),
                       database_url=database_url, output_dir=output)
    app = create_app(settings)
    with browser(app) as client:
        add_person(app, "web@example.org", ("webmaster", ""))
        add_person(app, "marie@example.org", ("member", "lyon"))

        sign_in(client, app, "marie@example.org")
        page = client.get("/membres/lyon/actualites/conseil.html")
        assert page.status_code == 200 and "Budget voté." in page.text

        token = csrf_token(client, "/contact/lyon")
        sent = client.post("/contact/lyon", headers={"Origin": SITE}, follow_redirects=False,
                           data={"csrf_token": token, "nom": "Élise Martin",
                                 "email": "elise@example.org", "telephone": "",
                                 "arrivee": "janvier", "site_web": "",
                                 "message": "Bonjour, nous arrivons en janvier à Lyon."})
        assert sent.status_code == 303
        runtime = app.state.runtime
        assert runtime.mail.send_due() == 3  # the sign-in link, the relay, the acknowledgement
        assert sorted(m["To"] for m in smtp_server.messages) == [
            "accueil@avf-lyon.example.org", "elise@example.org", "marie@example.org"]

        webmaster = browser(app)
        sign_in(webmaster, app, "web@example.org")
        assert "Villes en ligne" in webmaster.get("/admin/").text
        token = csrf_token(webmaster, "/admin/")
        assert webmaster.post("/admin/villes/lyon/reconstruire", headers={"Origin": SITE},
                              data={"csrf_token": token},
                              follow_redirects=False).status_code == 303
        assert webmaster.post("/admin/villes/lyon/reconstruire", headers={"Origin": SITE},
                              data={"csrf_token": token},
                              follow_redirects=False).status_code == 303  # joins the first
        [job_id] = runtime.builds.run_due(datetime.now(UTC) + timedelta(minutes=1))

    assert runtime.mail.send_due() == 1  # the webmaster's link
    with runtime.engine.connect() as connection:
        job = connection.execute(select(build_jobs).where(build_jobs.c.id == job_id)) \
            .mappings().one()
        assert (job["status"], job["force"]) == ("done", True)
        assert connection.execute(select(contact_messages.c.relayed)).scalar_one() is True
        assert set(connection.execute(select(outbox.c.status)).scalars()) == {"sent"}
    rows = city_rows(content, output, runtime.engine)
    figures = network_figures(rows, runtime.engine, datetime.now(UTC))
    assert (figures.members, figures.active_this_month, figures.public_posts) == (1, 1, 1)
    runtime.engine.dispose()  # the app's lifespan disposed it once; these checks reopened it


def test_the_members_directory_and_relay_run_on_postgresql(
        database_url: str, tmp_path: Path, smtp_server: SmtpCapture) -> None:
    """Profile and consent, directory, a relayed message and its reply, a block, the data
    download and the account's deletion — on PostgreSQL."""
    import json

    from members_helpers import deliver, signed_in, submit

    from avf.store.schema import member_messages

    content = tmp_path / "content"
    write_city(content, "lyon")
    settings = replace(service_settings(tmp_path, content, smtp_server, run_workers=False),
                       database_url=database_url)
    app = create_app(settings)
    with browser(app):
        alice_id = add_person(app, "alice@example.org", ("member", "lyon"), name="Alice")
        bernard_id = add_person(app, "bernard@example.org", ("member", "lyon"))
        alice = signed_in(app, "alice@example.org", ip="203.0.113.1")
        bernard = signed_in(app, "bernard@example.org", ip="203.0.113.2")
        assert submit(bernard, "/compte/profil", {"nom": "Bernard", "annuaire": "oui"}
                      ).status_code == 303
        assert "Bernard" in alice.get("/membres/lyon/annuaire/").text
        assert submit(alice, f"/membres/lyon/annuaire/{bernard_id}/ecrire",
                      {"message": "Bonjour"}).status_code == 303
        [first] = deliver(app, smtp_server, 1)
        assert first["To"] == "bernard@example.org"
        with app.state.runtime.engine.connect() as connection:
            message_id = connection.execute(select(member_messages.c.id)).scalar_one()
        assert submit(bernard, f"/membres/lyon/messages/{message_id}/repondre",
                      {"message": "Bonjour Alice"}).status_code == 303
        assert submit(bernard, f"/membres/lyon/bloquer/{alice_id}", {}).status_code == 200
        assert submit(alice, f"/membres/lyon/annuaire/{bernard_id}/ecrire",
                      {"message": "Encore"}).status_code == 403
        data = json.loads(bernard.get("/compte/donnees.json").text)
        assert data["profile"]["in_directory"] is True and data["blocked_people"]
        assert submit(bernard, "/compte/supprimer", {"confirmer": "oui"}).status_code == 200
        with app.state.runtime.engine.connect() as connection:
            kept = connection.execute(select(member_messages.c.sender_id,
                                             member_messages.c.recipient_id)
                                      .order_by(member_messages.c.id)).all()
        assert [tuple(row) for row in kept] == [(alice_id, None), (None, alice_id)]
    app.state.runtime.engine.dispose()


def test_concurrent_registrations_never_overbook_on_postgresql(
        tmp_path: Path, database_url: str, smtp_server: SmtpCapture) -> None:
    """20 members press "Je m'inscris" at once over real HTTP for 5 places: the advisory
    lock of registration_store.event_transaction lets exactly 5 in, 15 wait in order;
    a cancellation then promotes the first waiting, and the reminder pass is idempotent."""
    from registration_helpers import (
        build_events,
        check_no_overbooking,
        press_at_once,
        signed_in_members,
    )

    from avf.service.event_reminders import send_reminders
    from avf.service.registration_store import cancel, event_transaction, standing

    content, output = build_events(tmp_path)
    settings = replace(service_settings(tmp_path, content, smtp_server, run_workers=False),
                       database_url=database_url, output_dir=output)
    app = create_app(settings)
    with browser(app):
        members = signed_in_members(app, 20)
        assert press_at_once(app, members) == [303] * 20
        check_no_overbooking(app, members, capacity=5)
        engine = app.state.runtime.engine
        with engine.connect() as connection:
            registered = [person_id for person_id, _ in members
                          if standing(connection, "lyon", "sortie-annecy",
                                      person_id).status == "registered"]
        with event_transaction(engine, "lyon", "sortie-annecy") as connection:
            promoted = cancel(connection, "lyon", "sortie-annecy", 5, registered[0],
                              datetime.now(UTC))
        assert len(promoted) == 1
        with engine.connect() as connection:
            assert standing(connection, "lyon", "sortie-annecy", promoted[0]).status == \
                "registered"
        day_before = datetime(2099, 5, 8, 6, 0, tzinfo=UTC)
        events = app.state.runtime.events_data
        assert send_reminders(engine, events, SITE, day_before) == 5
        assert send_reminders(engine, events, SITE, day_before) == 0
    app.state.runtime.engine.dispose()
