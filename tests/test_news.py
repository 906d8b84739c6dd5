"""News by email: after a build, members who asked get their city's new publications
(public and member-only), their groups' topics and the network's broadcast news — in one
digest at most twice a week, weekly, or one mail per publication — never twice, nothing
lost when the SMTP server is down."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from auth_helpers import browser, engine_of
from conftest import PROJECT_ROOT, SmtpCapture, service_settings, write_city
from news_helpers import CONSENT, NOW, PARIS, news_service, reader
from sqlalchemy import Engine, func, insert, select
from starlette.applications import Starlette

import avf.service.news as news_module
from avf.service.accounts import find_or_create_person, grant_role
from avf.service.news import send_news
from avf.service.news_schedule import current_slot
from avf.service.profiles import ProfileEdit, save_profile
from avf.store.schema import (
    group_members,
    group_topics,
    groups,
    news_deliveries,
    outbox,
    publications,
)

ANA = "ana@example.org"
LINKS = re.compile(r"http://avf\.test(/\S*)")


def round_at(app: Starlette, now: datetime) -> tuple[int, int]:
    return app.state.news.run(now)  # type: ignore[no-any-return]


def delivered(app: Starlette, smtp: SmtpCapture, now: datetime):  # type: ignore[no-untyped-def]
    app.state.runtime.mail.send_due(now)
    return list(smtp.messages)


def text_of(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(("plain",)).get_content()  # type: ignore[no-any-return]


def html_of(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(("html",)).get_content()  # type: ignore[no-any-return]


# --- One real digest, from a real build to a real SMTP server ------------------------------

def test_a_member_gets_one_digest_of_their_city_and_the_network(
        tmp_path: Path, smtp_server: SmtpCapture) -> None:
    with news_service(tmp_path, smtp_server) as app:
        reader(app, ANA, "lyon", name="Ana Martin")
        reader(app, "bruno@example.org", "lyon", news=False)  # no consent: nothing
        reader(app, "chloe@example.org", "gap")
        reader(app, "dora@example.org", "lyon", role="admin")  # admins are members too
        suspended = reader(app, "eve@example.org", "lyon")
        with engine_of(app).begin() as connection:
            from avf.store.schema import roles
            connection.execute(roles.update().where(roles.c.person_id == suspended)
                               .values(suspended_at=NOW))

        seen, queued = round_at(app, NOW)
        assert seen == 4  # Lyon public + member-only, Gap, the broadcast news; not the old
        assert queued == 3
        received = {str(mail["To"]): mail for mail in delivered(app, smtp_server, NOW)}
        assert sorted(received) == [ANA, "chloe@example.org", "dora@example.org"]

        ana = received[ANA]
        text, html = text_of(ana), html_of(ana)
        assert ana["Subject"] == "AVF Lyon : 3 nouvelles"
        for title in ("Pique-nique au parc de la Tête d'Or",
                      "Compte rendu de la réunion des bénévoles",
                      "Journée nationale des nouveaux arrivants"):
            assert title in text
        assert "Bonjour Ana Martin" in text
        assert "== Votre AVF : AVF Lyon ==" in text and "== Le réseau AVF ==" in text
        assert "réservé aux adhérents" in text and "réservé aux adhérents" in html
        assert "#8a1c3b" in html  # Lyon's accent, bordeaux
        for absent in ("Galette des rois", "Randonnée", "Rapport du conseil national"):
            assert absent not in text
        unsubscribe = str(ana["List-Unsubscribe"]).strip()  # folded: a long header
        assert re.fullmatch(r"<http://avf\.test/compte/desabonnement/[\w.-]+>", unsubscribe)
        assert ana["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe.strip("<>") in text and unsubscribe.strip("<>") in html

        # Every link works, for whoever opens it: a page, or the sign-in for member pages.
        anonymous = browser(app, ip="198.51.100.9")
        paths = set(LINKS.findall(text))
        assert len(paths) == 5  # 3 publications, the profile, the unsubscribe page
        for path in paths:
            response = anonymous.get(path)
            assert response.status_code == 200 or (
                response.status_code == 303
                and response.headers["location"].startswith("/compte/connexion")), path
            assert f'href="http://avf.test{path}"' in html, path

        chloe = text_of(received["chloe@example.org"])
        assert "Randonnée au col Bayard" in chloe and "Journée nationale" in chloe
        assert "Pique-nique" not in chloe and "réunion des bénévoles" not in chloe

        # Nothing twice: the same round again, an hour later, after another build.
        assert round_at(app, NOW) == (0, 0)
        assert round_at(app, NOW + timedelta(hours=1)) == (0, 0)
        app.state.runtime.mail.send_due(NOW + timedelta(hours=1))
        assert len(smtp_server.messages) == 3

        if os.environ.get("AVF_UPDATE_EXAMPLES"):
            example = PROJECT_ROOT / "docs" / "examples" / "digest.eml"
            example.parent.mkdir(parents=True, exist_ok=True)
            example.write_text(ana.as_string(), encoding="utf-8")
            readable = "".join(f"{name}: {str(value).strip()}\n" for name, value in ana.items()
                               if name in ("From", "To", "Subject", "Date", "List-Unsubscribe",
                                           "List-Unsubscribe-Post"))
            example.with_suffix(".txt").write_text(f"{readable}\n{text}", encoding="utf-8")


def test_a_city_without_network_news_gets_none(tmp_path: Path,
                                               smtp_server: SmtpCapture) -> None:
    content = tmp_path / "content"
    with news_service(tmp_path, smtp_server) as app:
        card = content / "gap" / "city.yaml"
        card.write_text(card.read_text(encoding="utf-8") + "network_news: false\n",
                        encoding="utf-8")
        reader(app, "chloe@example.org", "gap")
        round_at(app, NOW)
        (mail,) = delivered(app, smtp_server, NOW)
        assert "Randonnée au col Bayard" in text_of(mail)
        assert "Journée nationale" not in text_of(mail)


def test_group_topics_reach_the_groups_members_only(tmp_path: Path,
                                                    smtp_server: SmtpCapture) -> None:
    with news_service(tmp_path, smtp_server) as app:
        ana = reader(app, ANA, "lyon")
        other = reader(app, "bruno@example.org", "lyon")
        with engine_of(app).begin() as connection:
            walkers = connection.execute(insert(groups).values(
                city="lyon", slug="marcheurs", name="Les marcheurs", created_at=CONSENT)
                ).inserted_primary_key[0]
            connection.execute(insert(group_members).values(
                group_id=walkers, person_id=ana, joined_at=CONSENT))
            topic_ids = [connection.execute(insert(group_topics).values(
                group_id=walkers, author_id=other, title=title, body="…", html="…",
                status=status, created_at=NOW - timedelta(hours=2),
                last_activity_at=NOW - timedelta(hours=2))).inserted_primary_key[0]
                for title, status in (("Sortie du dimanche", "visible"),
                                      ("Message en attente", "pending"))]
        round_at(app, NOW)
        mails = {str(mail["To"]): text_of(mail) for mail in delivered(app, smtp_server, NOW)}
        assert "== Vos groupes ==" in mails[ANA] and "Sortie du dimanche" in mails[ANA]
        topic = f"/membres/lyon/groupes/marcheurs/sujets/{topic_ids[0]}"
        assert f"http://avf.test{topic}" in mails[ANA]
        # The link leads to the topic's page (for a signed-out reader: sign in, then back).
        answer = browser(app).get(topic)
        assert answer.status_code == 303 and answer.headers["location"].endswith(
            f"suivant={topic}")
        assert "Message en attente" not in mails[ANA]
        assert "Sortie du dimanche" not in mails["bruno@example.org"]


# --- Never twice, nothing lost ---------------------------------------------------------

def test_a_crash_in_the_middle_of_a_round_sends_nothing_twice(
        tmp_path: Path, smtp_server: SmtpCapture, monkeypatch: pytest.MonkeyPatch) -> None:
    with news_service(tmp_path, smtp_server) as app:
        people = [reader(app, f"m{n}@example.org", "lyon") for n in range(3)]
        real = news_module.queue_mail
        calls = []

        def failing_second(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("the process died here")
            return real(*args, **kwargs)

        monkeypatch.setattr(news_module, "queue_mail", failing_second)
        with pytest.raises(RuntimeError):
            round_at(app, NOW)
        monkeypatch.setattr(news_module, "queue_mail", real)
        assert _queued_per_person(engine_of(app)) == {people[0]: 1}

        round_at(app, NOW + timedelta(minutes=5))
        round_at(app, NOW + timedelta(minutes=10))
        assert _queued_per_person(engine_of(app)) == {person: 1 for person in people}
        received = delivered(app, smtp_server, NOW + timedelta(minutes=10))
        assert sorted(str(mail["To"]) for mail in received) == [
            "m0@example.org", "m1@example.org", "m2@example.org"]


def test_an_smtp_outage_loses_nothing_and_sends_nothing_twice(
        tmp_path: Path, smtp_server: SmtpCapture) -> None:
    with news_service(tmp_path, smtp_server) as app:
        reader(app, ANA, "lyon")
        smtp_server.refuse_with = "451 Service momentanément indisponible"
        round_at(app, NOW)
        assert app.state.runtime.mail.send_due(NOW) == 0
        round_at(app, NOW + timedelta(minutes=30))  # a round during the outage: no new mail
        with engine_of(app).connect() as connection:
            pending = connection.execute(select(outbox.c.status, outbox.c.attempts)
                                         .where(outbox.c.kind == "news_digest")).all()
        assert [tuple(row) for row in pending] == [("pending", 1)]
        smtp_server.refuse_with = None
        assert app.state.runtime.mail.send_due(NOW + timedelta(hours=1)) == 1
        assert app.state.runtime.mail.send_due(NOW + timedelta(hours=2)) == 0
        assert [str(mail["To"]) for mail in smtp_server.messages] == [ANA]


def _queued_per_person(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(news_deliveries.c.person_id, func.count())
            .group_by(news_deliveries.c.person_id)).all()
    return {person: count for person, count in rows}


# --- The rhythm, over a simulated month ------------------------------------------------

def _month(tmp_path: Path, frequency: str, per_day: int = 1,
           ) -> tuple[list[tuple[datetime, str]], int]:
    """A publication (or `per_day`) every day of December at 21:00, a round every hour;
    return each mail (when, text) and how many publications were seen."""
    content = tmp_path / "content"
    write_city(content, "lyon")
    settings = service_settings(tmp_path, content)
    from avf.store import connect, migrate

    engine = connect(settings.database_url)
    migrate(engine)
    start = datetime(2026, 12, 1, 0, 0, tzinfo=PARIS)
    with engine.begin() as connection:
        person, _ = find_or_create_person(connection, ANA)
        grant_role(connection, person, "member", "lyon")
        save_profile(connection, person, ProfileEdit("", "", "", "", "", False, True,
                                                     frequency), now=start)
    published = 0
    for hour in range(31 * 24):
        now = start + timedelta(hours=hour, minutes=7)
        if now.astimezone(PARIS).hour == 21:
            with engine.begin() as connection:
                for _ in range(per_day):
                    published += 1
                    connection.execute(insert(publications).values(
                        city="lyon", url=f"/lyon/actualites/p{published}.html",
                        title=f"Nouvelle numéro {published}.", visibility="public",
                        published_on=now, seen_at=now))
        send_news(engine, settings, now)
    with engine.connect() as connection:
        mails = [(row.created_at, row.body_text) for row in connection.execute(
            select(outbox.c.created_at, outbox.c.body_text).order_by(outbox.c.id))]
    engine.dispose()
    return mails, published


def _most_in_a_week(moments: list[datetime]) -> int:
    return max(sum(1 for other in moments if moment <= other < moment + timedelta(days=7))
               for moment in moments)


def _every_publication_once(mails: list[tuple[datetime, str]], published: int) -> None:
    titles = [int(n) for _, text in mails for n in re.findall(r"Nouvelle numéro (\d+)\.", text)]
    assert len(titles) == len(set(titles))  # none twice
    last = max(titles)
    assert sorted(titles) == list(range(1, last + 1))  # none lost up to the last mail
    assert published - last <= 7  # what follows waits for the next slot


def test_digests_are_capped_at_two_a_week_over_a_month(tmp_path: Path) -> None:
    mails, published = _month(tmp_path, "digest")
    moments = [when for when, _ in mails]
    assert published == 31
    # 4, 8, 11, 15, 18, 22, 25, 29 December (on the 1st, nothing was published yet)
    assert len(mails) == 8
    assert _most_in_a_week(moments) <= 2
    assert {when.astimezone(PARIS).strftime("%a %H") for when in moments} == {
        "Tue 08", "Fri 08"}
    _every_publication_once(mails, published)


def test_weekly_means_one_mail_a_week(tmp_path: Path) -> None:
    mails, published = _month(tmp_path, "weekly")
    moments = [when for when, _ in mails]
    assert len(mails) == 4  # the Fridays of December: 4, 11, 18, 25
    assert _most_in_a_week(moments) == 1
    assert {when.astimezone(PARIS).strftime("%a") for when in moments} == {"Fri"}
    _every_publication_once(mails, published)


def test_each_means_one_mail_per_round_with_news(tmp_path: Path) -> None:
    mails, published = _month(tmp_path, "each", per_day=2)
    assert len(mails) == 31  # the two publications of a day were seen by one round
    assert all("Nouvelle numéro" in text for _, text in mails)
    _every_publication_once(mails, published)


def test_the_slots_are_tuesday_and_friday_morning_in_paris() -> None:
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert current_slot("digest", saturday).period == "digest:2026-11-27"
    tuesday_early = datetime(2026, 12, 1, 6, 59, tzinfo=UTC)  # 07:59 in Paris
    assert current_slot("digest", tuesday_early).period == "digest:2026-11-27"
    assert current_slot("digest", tuesday_early + timedelta(minutes=1)).period \
        == "digest:2026-12-01"
    assert current_slot("weekly", tuesday_early).period == "weekly:2026-11-27"
