"""Old rate-limit attempts and webhook delivery ids are forgotten; recent ones are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from avf.service.housekeeping import forget_old_records
from avf.service.ratelimit import Limit, RateLimiter
from avf.store import connect, migrate
from avf.store.schema import contact_messages, join_requests, rate_hits, webhook_deliveries

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_old_records_are_forgotten_recent_ones_kept(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'avf.sqlite3'}")
    migrate(engine)
    limiter = RateLimiter(engine, "secret")
    daily = Limit("contact-day", 20, timedelta(days=1))
    for age in (timedelta(days=3), timedelta(hours=2)):
        limiter.allow(daily, "203.0.113.7", now=NOW - age)
    with engine.begin() as connection:
        for number, age in enumerate((timedelta(days=45), timedelta(days=1))):
            connection.execute(insert(webhook_deliveries).values(
                delivery_id=f"d{number}", forge="github", event="push",
                received_at=NOW - age, outcome="built"))
        for number, (status, age) in enumerate((("approved", 400), ("declined", 30),
                                                ("pending", 500))):
            connection.execute(insert(join_requests).values(
                city="lyon", name=f"n{number}", email=f"j{number}@example.org",
                created_at=NOW - timedelta(days=age + 1), status=status,
                decided_at=None if status == "pending" else NOW - timedelta(days=age)))
        for age in (800, 100):
            connection.execute(insert(contact_messages).values(
                city="lyon", name="x", email="x@example.org", message="Bonjour",
                created_at=NOW - timedelta(days=age)))
    assert forget_old_records(engine, NOW) == {
        "rate_hits": 1, "webhook_deliveries": 1, "join_requests": 1, "contact_messages": 1}
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(rate_hits)).scalar() == 1
        assert connection.execute(select(webhook_deliveries.c.delivery_id)).scalars().all() \
            == ["d1"]
        # Answered a year ago: forgotten; answered lately or still waiting: kept.
        assert sorted(connection.execute(select(join_requests.c.status)).scalars()) == [
            "declined", "pending"]
    engine.dispose()
