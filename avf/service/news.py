"""Who gets which news by email, and when: `send_news(engine, settings, now)`.

Recipients: people who ticked « Recevoir les nouvelles de mon AVF par email »
(`profiles.news_by_email`) and are active in at least one city (a member, reporter or
admin role there that is not suspended). What they get: the publications of their
cities (public and member-only: they are members), the topics of the groups they belong
to, and the network's broadcast news unless every one of their cities opted out
(`network_news: false`). When: see `news_schedule`.

A mail carries what appeared since the member's previous news mail (since their consent
for the first one): publications by the moment a scan first saw them (`seen_at`), group
topics by their creation. Nothing new: no mail, and nothing recorded.

**Never twice, nothing lost.** Each member is handled in one transaction that queues the
mail in the outbox and inserts its `news_deliveries` row (unique per person and period).
A second pass — or another process — hitting the same period gets a unique violation and
skips that member; a crash between two members leaves the first one's mail queued and
recorded, the others untouched for the next pass. From the outbox the mail worker
delivers with its retries (an SMTP outage only delays the mails).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, or_, select
from sqlalchemy.exc import IntegrityError

from avf.mail import queue_mail
from avf.service.cities import CityCards
from avf.service.news_mail import news_context, news_headers
from avf.service.news_schedule import FREQUENCIES, current_slot, is_open, within_cap
from avf.service.publications_log import NETWORK, PublicationsLog
from avf.service.settings import ServiceSettings
from avf.store.schema import (
    group_members,
    group_topics,
    groups,
    news_deliveries,
    people,
    profiles,
    publications,
    roles,
)

log = logging.getLogger(__name__)

NEWS_ROLES = ("member", "reporter", "admin")  # roles that make one a member of a city


@dataclass(frozen=True)
class Recipient:
    person_id: int
    email: str
    name: str
    frequency: str
    consent_at: datetime
    cities: tuple[str, ...]


@dataclass
class News:
    """What one mail carries."""

    publications: list[dict[str, object]] = field(default_factory=list)
    topics: list[dict[str, object]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.publications or self.topics)

    def key(self) -> str:
        """Names these news: the same news give the same key (mails of `each`)."""
        last_publication = max((int(p["id"]) for p in self.publications), default=0)  # type: ignore[call-overload]
        last_topic = max((int(t["id"]) for t in self.topics), default=0)  # type: ignore[call-overload]
        return f"{last_publication}:{last_topic}"


def recipients(connection: Connection) -> list[Recipient]:
    """Everyone who wants the news and is active in a city."""
    rows = connection.execute(
        select(people.c.id, people.c.email, people.c.display_name, profiles.c.news_frequency,
               profiles.c.news_consent_at, roles.c.city)
        .join(profiles, profiles.c.person_id == people.c.id)
        .join(roles, roles.c.person_id == people.c.id)
        .where(profiles.c.news_by_email.is_(True), roles.c.suspended_at.is_(None),
               roles.c.role.in_(NEWS_ROLES), roles.c.city != "")
        .order_by(people.c.id, roles.c.city)).all()
    found: dict[int, Recipient] = {}
    for row in rows:
        known = found.get(row.id)
        if known is not None:
            if row.city not in known.cities:
                found[row.id] = Recipient(**{**known.__dict__,
                                             "cities": (*known.cities, row.city)})
            continue
        frequency = row.news_frequency if row.news_frequency in FREQUENCIES else "digest"
        found[row.id] = Recipient(row.id, row.email, row.display_name, frequency,
                                  row.news_consent_at or datetime.now(UTC), (row.city,))
    return list(found.values())


def news_for(connection: Connection, recipient: Recipient, since: datetime, now: datetime,
             network_news: bool) -> News:
    """What appeared for `recipient` after `since`, up to `now`."""
    places = [*recipient.cities, *([NETWORK] if network_news else [])]
    member_groups = select(group_members.c.group_id).where(
        group_members.c.person_id == recipient.person_id)
    found = connection.execute(
        select(publications).where(
            publications.c.city.in_(places),
            publications.c.seen_at > since, publications.c.seen_at <= now,
            or_(publications.c.group_id.is_(None),
                publications.c.group_id.in_(member_groups)))
        .order_by(publications.c.published_on.desc(), publications.c.id)).mappings().all()
    topics = connection.execute(
        select(group_topics.c.id, group_topics.c.title, group_topics.c.created_at,
               groups.c.city, groups.c.slug.label("group_slug"),
               groups.c.name.label("group_name"))
        .join(groups, groups.c.id == group_topics.c.group_id)
        .where(group_topics.c.group_id.in_(member_groups),
               groups.c.city.in_(recipient.cities),
               group_topics.c.status == "visible",
               group_topics.c.created_at > since, group_topics.c.created_at <= now,
               or_(group_topics.c.author_id.is_(None),
                   group_topics.c.author_id != recipient.person_id))
        .order_by(group_topics.c.created_at.desc())).mappings().all()
    return News([dict(row) for row in found], [dict(row) for row in topics])


def send_news(engine: Engine, settings: ServiceSettings, now: datetime | None = None,
              cards: CityCards | None = None,
              on_queued: Callable[[int], None] | None = None) -> int:
    """One pass: queue the news mail of every member who is due; return how many."""
    moment = now or datetime.now(UTC)
    cards = cards or CityCards(settings.content_dir)
    with engine.connect() as connection:
        everyone = recipients(connection)
    queued = 0
    for recipient in everyone:
        try:
            with engine.begin() as connection:
                if _send_to(connection, recipient, settings, cards, moment):
                    queued += 1
        except IntegrityError:  # this period's mail was already queued (another pass)
            continue
        if on_queued is not None:
            on_queued(recipient.person_id)
    return queued


def _send_to(connection: Connection, recipient: Recipient, settings: ServiceSettings,
             cards: CityCards, now: datetime) -> bool:
    """Queue `recipient`'s mail if one is due and there is news; inside the caller's
    transaction. A unique violation (IntegrityError) means it was queued already."""
    delivered = connection.execute(
        select(news_deliveries.c.period, news_deliveries.c.created_at)
        .where(news_deliveries.c.person_id == recipient.person_id)
        .order_by(news_deliveries.c.created_at.desc())).all()
    frequency = recipient.frequency
    if frequency != "each":
        slot = current_slot(frequency, now)
        if not is_open(slot, now) or any(period == slot.period for period, _ in delivered):
            return False
        same_kind = [when for period, when in delivered if period.startswith(f"{frequency}:")]
        if not within_cap(frequency, same_kind, now):
            return False
    since = max([recipient.consent_at, *(when for _, when in delivered[:1])])
    city_cards = {slug: _card(cards, slug) for slug in recipient.cities}
    network_news = any(card is None or card.network_news for card in city_cards.values())
    news = news_for(connection, recipient, since, now, network_news)
    if not news:
        return False
    period = slot.period if frequency != "each" else f"each:{news.key()}"
    kind = "news_item" if frequency == "each" else "news_digest"
    outbox_id = queue_mail(
        connection, kind=kind, to=recipient.email, now=now,
        context=news_context(recipient, news, city_cards, settings, frequency),
        headers=news_headers(recipient.person_id, recipient.email, settings))
    connection.execute(insert(news_deliveries).values(
        person_id=recipient.person_id, period=period, outbox_id=outbox_id, created_at=now))
    return True


def _card(cards: CityCards, slug: str):  # type: ignore[no-untyped-def]
    return cards.find(slug)


class NewsRound:
    """Scan the build output for publications, then queue the news mails that are due.
    Run after each build of the queue and by the hourly housekeeping (which catches
    command-line and cron builds); thread-safe, and each part is idempotent anyway."""

    def __init__(self, engine: Engine, settings: ServiceSettings,
                 wake_mail: Callable[[], None] | None = None):
        self.engine = engine
        self.settings = settings
        self.wake_mail = wake_mail
        self.log = PublicationsLog(engine, settings.output_dir, settings.content_dir)
        self.cards = CityCards(settings.content_dir)
        self._lock = threading.Lock()

    def run(self, now: datetime | None = None) -> tuple[int, int]:
        """Return (publications recorded, mails queued)."""
        with self._lock:
            seen = self.log.scan(now)
            queued = send_news(self.engine, self.settings, now, cards=self.cards)
        if queued and self.wake_mail is not None:
            self.wake_mail()
        return seen, queued
