"""The dashboard's data: one row per city from a real build, and the network's figures
from the database (members, active members, messages, mails)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from avf.service.overview import city_rows, network_figures
from avf.store.schema import NETWORK, contact_messages, outbox, people, roles
from tests.conftest import build, post, write, write_city

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)



def test_rows_and_figures_of_a_built_network(network: Path, engine) -> None:  # type: ignore[no-untyped-def]
    write_city(network, "lyon", {
        "posts/2026-11-20-cafe.md": post("Café", date="2026-11-20"),
        "posts/2026-11-21-ca.md": post("CA", date="2026-11-21", extra="visibility: members"),
    })
    write_city(network, "dinan", {"posts/2026-05-01-vieux.md": post("Vieux", date="2026-05-01")})
    write_city(network, "rennes", {"posts/2026-10-01-b.md": post("B", date="2026-02-30")})
    write_city(network, "gap")
    output = network.parent / "output"
    build(network, output)
    write_city(network, "brest")  # added after the build: not built yet

    rows = {row.slug: row for row in city_rows(network, output, engine)}
    assert sorted(rows) == ["brest", "dinan", "gap", "lyon", "rennes"]
    lyon = rows["lyon"]
    assert (lyon.name, lyon.status, lyon.online) == ("AVF Lyon", "ok", True)
    assert lyon.publications == {"public": 1, "members": 1}
    assert str(lyon.last_published) == "2026-11-21" and not lyon.is_dormant(NOW.date())
    assert rows["dinan"].is_dormant(NOW.date())  # nothing since May: more than 60 days
    assert rows["gap"].is_dormant(NOW.date())  # never published
    rennes = rows["rennes"]
    assert rennes.status == "failed" and not rennes.online
    assert rennes.errors[0]["file"] == "content/rennes/posts/2026-10-01-b.md"
    assert rows["brest"].status == "never" and rows["brest"].name == "brest"

    with engine.begin() as connection:
        for number, seen in enumerate([NOW - timedelta(days=2), NOW - timedelta(days=40), None]):
            person = connection.execute(insert(people).values(
                email=f"p{number}@example.org", created_at=NOW, last_seen_at=seen))
            connection.execute(insert(roles).values(
                person_id=person.inserted_primary_key[0], city="lyon", role="member",
                granted_at=NOW))
        webmaster = connection.execute(insert(people).values(
            email="web@example.org", created_at=NOW, last_seen_at=NOW))
        connection.execute(insert(roles).values(
            person_id=webmaster.inserted_primary_key[0], city=NETWORK, role="webmaster",
            granted_at=NOW))
        connection.execute(insert(contact_messages).values(
            city="lyon", name="Élise", email="e@example.org", message="Bonjour !",
            created_at=NOW - timedelta(days=1)))
        for status in ("pending", "failed", "sent"):
            connection.execute(insert(outbox).values(
                kind="contact_ack", to_address="e@example.org", subject="s", body_text="t",
                created_at=NOW, status=status, next_attempt_at=NOW))

    figures = network_figures(list(rows.values()), engine, NOW)
    assert (figures.cities, figures.online, figures.failing) == (5, 3, 1)
    assert figures.dormant == 4  # dinan, gap, rennes (never published online), brest
    assert (figures.public_posts, figures.member_posts) == (2, 1)
    assert figures.members == 3  # the webmaster is not a member of a city
    assert figures.active_this_month == 1  # seen this month (not 40 days ago, not never)
    assert figures.contact_messages_this_month == 1
    assert (figures.mails_waiting, figures.mails_failed) == (1, 1)


def test_no_report_yet(tmp_path: Path, engine) -> None:  # type: ignore[no-untyped-def]
    content = tmp_path / "content"
    write(content / "lyon" / "city.yaml", "name: x\n")
    [row] = city_rows(content, tmp_path / "output", engine)
    assert (row.slug, row.status, row.online) == ("lyon", "never", False)
