"""The reminder the day before an event, to each member registered for it.

A pass looks at every city's registrable events (event_data.py) starting tomorrow, Paris
time, and for each registered person not yet reminded queues one `event_reminder` mail
and sets `reminded_at`, in one transaction per event: either both happen or neither, so
a pass run many times, at once from two processes, or cut short by a crash, never sends a
reminder twice (`UPDATE … WHERE reminded_at IS NULL` claims each row: a second pass finds
it claimed). The waiting list gets no reminder; a deleted account's rows are gone with it
(ON DELETE CASCADE). Runs hourly in the service, so a reminder leaves early in the day
before, or within the hour a member registers on that day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update

from avf.mail import queue_mail
from avf.service.event_data import EventsData, RegistrableEvent
from avf.service.registration_store import REGISTERED
from avf.service.registrations import mail_context
from avf.store.schema import event_registrations, people
from avf.theme.filters import PARIS
from avf.workers import BackgroundWorker

EVERY = 3600.0  # seconds between two passes


def send_reminders(engine: Engine, events: EventsData, public_url: str,
                   now: datetime | None = None) -> int:
    """Queue the reminders due at `now`; return how many."""
    moment = now or datetime.now(UTC)
    tomorrow = moment.astimezone(PARIS).date() + timedelta(days=1)
    queued = 0
    for city in events.cities():
        for item in events.get(city).values():
            if item.event.start.astimezone(PARIS).date() == tomorrow and item.is_open(moment):
                queued += _remind(engine, item, public_url, moment)
    return queued


def _remind(engine: Engine, item: RegistrableEvent, public_url: str, now: datetime) -> int:
    column = event_registrations.c
    with engine.begin() as connection:
        due = connection.execute(
            select(column.id, people.c.email)
            .join(people, people.c.id == column.person_id)
            .where(column.city == item.city, column.event == item.slug,
                   column.status == REGISTERED, column.reminded_at.is_(None))
            .order_by(column.id)).all()
        sent = 0
        for row in due:
            claimed = connection.execute(
                update(event_registrations)
                .where(column.id == row.id, column.reminded_at.is_(None))
                .values(reminded_at=now)).rowcount
            if claimed:
                queue_mail(connection, kind="event_reminder", to=row.email,
                           context=mail_context(item, public_url), now=now)
                sent += 1
    return sent


class EventReminders(BackgroundWorker):
    name = "avf-event-reminders"
    poll_seconds = EVERY

    def __init__(self, engine: Engine, events: EventsData, public_url: str,
                 wake_mail: Callable[[], None]):
        super().__init__()
        self.engine = engine
        self.events = events
        self.public_url = public_url
        self.wake_mail = wake_mail

    def run_pass(self) -> int:
        queued = send_reminders(self.engine, self.events, self.public_url)
        if queued:
            self.wake_mail()
        return queued
