"""Rate limits kept in the database, so they hold across restarts and across the
processes of one deployment: sign-in per address and per IP, forms per IP.

A bucket names who is counted (`login-ip:…`); IPs and addresses are stored as keyed
hashes, never in clear. Each attempt is recorded, refused ones included, so hammering a
form keeps it closed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from avf.store.schema import rate_hits


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window: timedelta


class RateLimiter:
    def __init__(self, engine: Engine, secret: str):
        self.engine = engine
        self._key = hashlib.sha256(b"avf-rate-limit:" + secret.encode()).digest()

    def allow(self, limit: Limit, who: str, now: datetime | None = None) -> bool:
        """Record an attempt by `who` under `limit`; False when it is over the limit."""
        moment = now or datetime.now(UTC)
        bucket = f"{limit.name}:{self._pseudonym(who)}"
        with self.engine.begin() as connection:
            connection.execute(insert(rate_hits).values(bucket=bucket, at=moment))
            recent = connection.execute(
                select(func.count()).select_from(rate_hits)
                .where(rate_hits.c.bucket == bucket,
                       rate_hits.c.at > moment - limit.window)).scalar_one()
        return int(recent) <= limit.attempts

    def forget_older_than(self, age: timedelta, now: datetime | None = None) -> int:
        """Drop attempts older than `age` (the longest window); return how many."""
        moment = now or datetime.now(UTC)
        with self.engine.begin() as connection:
            return connection.execute(
                delete(rate_hits).where(rate_hits.c.at < moment - age)).rowcount

    def _pseudonym(self, who: str) -> str:
        return hmac.new(self._key, who.strip().lower().encode(), "sha256").hexdigest()[:32]
