"""Forget what is only kept for a while: rate-limit attempts older than the longest window,
webhook delivery ids older than any forge's redelivery, and — personal data kept no longer
than needed (RGPD) — join requests a year after they were answered and pré-accueil
messages after two years. Runs hourly in the service, with the news round (`news.py`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete

from avf.store.schema import (
    contact_messages,
    join_requests,
    rate_hits,
    webhook_deliveries,
)
from avf.workers import BackgroundWorker

log = logging.getLogger(__name__)

RATE_HITS_KEPT = timedelta(days=2)  # the longest rate-limit window is one day
DELIVERIES_KEPT = timedelta(days=30)  # forges redeliver within hours, by hand within days
ANSWERED_REQUESTS_KEPT = timedelta(days=365)  # a join request, once approved or declined
CONTACT_MESSAGES_KEPT = timedelta(days=730)  # the newcomer has long arrived by then
EVERY = 3600.0  # seconds between two passes


def forget_old_records(engine: Engine, now: datetime | None = None) -> dict[str, int]:
    """Delete what is past its keeping time; return how many rows of each kind."""
    moment = now or datetime.now(UTC)
    with engine.begin() as connection:
        hits = connection.execute(
            delete(rate_hits).where(rate_hits.c.at < moment - RATE_HITS_KEPT)).rowcount
        deliveries = connection.execute(
            delete(webhook_deliveries)
            .where(webhook_deliveries.c.received_at < moment - DELIVERIES_KEPT)).rowcount
        requests = connection.execute(
            delete(join_requests).where(
                join_requests.c.status != "pending",
                join_requests.c.decided_at < moment - ANSWERED_REQUESTS_KEPT)).rowcount
        messages = connection.execute(
            delete(contact_messages)
            .where(contact_messages.c.created_at < moment - CONTACT_MESSAGES_KEPT)).rowcount
    return {"rate_hits": hits, "webhook_deliveries": deliveries, "join_requests": requests,
            "contact_messages": messages}


class Housekeeping(BackgroundWorker):
    name = "avf-housekeeping"
    poll_seconds = EVERY

    def __init__(self, engine: Engine, hourly: list[Callable[[], object]] | None = None):
        super().__init__()
        self.engine = engine
        # Other hourly work (the news round: builds made outside the service, due digests)
        self.hourly = hourly or []

    def run_pass(self) -> dict[str, int]:
        forgotten = forget_old_records(self.engine)
        for action in self.hourly:
            try:
                action()
            except Exception:  # one failing part must not stop the others
                log.exception("housekeeping: %r failed", action)
        return forgotten
