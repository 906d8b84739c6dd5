"""Who is registered for an event, who waits, in the store (`event_registrations`).

One row per person and event (unique city+event+person): `registered`, `waiting` or
`cancelled`; registering again after cancelling reuses the row, at the end of the queue.

No overbooking, even when many members press "Je m'inscris" at the same second: every
change to an event's registrations runs in `event_transaction`, which lets one
transaction at a time work on that event, so "count the registered, then insert" cannot
interleave with another one.
- SQLite: the transaction starts with `BEGIN IMMEDIATE`, which takes the database's write
  lock at once (others wait, up to the engine's busy timeout, store/engine.py). Taking it
  at the start, not at the first write, matters in WAL mode: a transaction that read
  first and then wants to write after another writer committed fails instead of waiting.
  It serializes every writer of the database for a few milliseconds; SQLite does anyway.
- PostgreSQL: `pg_advisory_xact_lock(key)`, key a 64-bit hash of city and event, held until
  commit or rollback. Only the same event's transactions wait for each other; two events
  whose keys collide would merely wait for each other too. Under READ COMMITTED each
  statement after the lock sees what the previous holder committed.
The lock is taken before anything is read, so the counts read inside are current.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, func, insert, select, text, update

from avf.store.schema import event_registrations, people

REGISTERED, WAITING, CANCELLED = "registered", "waiting", "cancelled"


@dataclass(frozen=True)
class Standing:
    """A person's place for an event: status None when they never registered."""

    status: str | None
    position: int | None = None  # in the waiting list, from 1


@dataclass(frozen=True)
class Registrant:
    """A line of the organisers' list."""

    person_id: int
    name: str  # "" when the person gave none
    email: str
    status: str  # registered | waiting
    position: int | None  # waiting list position, from 1
    since: datetime  # registered (or promoted) at, or put on the waiting list at


@contextmanager
def event_transaction(engine: Engine, city: str, event: str) -> Iterator[Connection]:
    """A transaction that is, for this event, the only one until it ends (module docstring).
    Commits when the block ends, rolls back on an exception."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": event_lock_key(city, event)})
        yield connection


def event_lock_key(city: str, event: str) -> int:
    """A stable signed 64-bit number for the event (PostgreSQL advisory locks take bigint)."""
    digest = hashlib.blake2b(f"event-registration:{city}/{event}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def standing(connection: Connection, city: str, event: str, person_id: int) -> Standing:
    row = connection.execute(select(event_registrations).where(
        _of(city, event), event_registrations.c.person_id == person_id)).first()
    if row is None:
        return Standing(None)
    if row.status != WAITING:
        return Standing(row.status)
    ahead = connection.execute(select(func.count()).select_from(event_registrations).where(
        _of(city, event), event_registrations.c.status == WAITING,
        _before(row.created_at, row.id))).scalar_one()
    return Standing(WAITING, int(ahead) + 1)


def counts(connection: Connection, city: str, event: str) -> tuple[int, int]:
    """How many are registered, how many wait."""
    found = dict(connection.execute(
        select(event_registrations.c.status, func.count()).where(_of(city, event))
        .group_by(event_registrations.c.status)).all())
    return int(found.get(REGISTERED, 0)), int(found.get(WAITING, 0))


def register(connection: Connection, city: str, event: str, capacity: int | None,
             person_id: int, now: datetime) -> tuple[Standing, list[int]]:
    """Register the person, or put them on the waiting list when the event is full (or
    others already wait: nobody jumps the queue); nothing changes for someone already
    registered or waiting. Places freed since (a capacity raised by a new build) go to the
    waiting list first: return who was promoted too. Inside `event_transaction`."""
    promoted = fill_places(connection, city, event, capacity, now)
    row = connection.execute(select(event_registrations).where(
        _of(city, event), event_registrations.c.person_id == person_id)).first()
    if row is not None and row.status != CANCELLED:
        return standing(connection, city, event, person_id), promoted
    registered, waiting = counts(connection, city, event)
    full = capacity is not None and (registered >= capacity or waiting > 0)
    values = {"status": WAITING if full else REGISTERED, "created_at": now,
              "promoted_at": None, "cancelled_at": None}
    if row is None:
        connection.execute(insert(event_registrations).values(
            city=city, event=event, person_id=person_id, **values))
    else:  # registering again after cancelling: the same row, at the end of the queue
        connection.execute(update(event_registrations)
                           .where(event_registrations.c.id == row.id).values(**values))
    return standing(connection, city, event, person_id), promoted


def cancel(connection: Connection, city: str, event: str, capacity: int | None,
           person_id: int, now: datetime) -> list[int]:
    """Cancel the person's registration (or place in the queue); return the people moved
    from the waiting list to the freed places. Inside `event_transaction`."""
    changed = connection.execute(
        update(event_registrations)
        .where(_of(city, event), event_registrations.c.person_id == person_id,
               event_registrations.c.status.in_((REGISTERED, WAITING)))
        .values(status=CANCELLED, cancelled_at=now)).rowcount
    return fill_places(connection, city, event, capacity, now) if changed else []


def fill_places(connection: Connection, city: str, event: str, capacity: int | None,
                now: datetime) -> list[int]:
    """Promote the longest waiting while places are free; return who was promoted."""
    registered, _ = counts(connection, city, event)
    free = None if capacity is None else capacity - registered
    if free is not None and free <= 0:
        return []
    query = (select(event_registrations.c.id, event_registrations.c.person_id)
             .where(_of(city, event), event_registrations.c.status == WAITING)
             .order_by(event_registrations.c.created_at, event_registrations.c.id))
    if free is not None:
        query = query.limit(free)
    promoted = connection.execute(query).all()
    if promoted:
        connection.execute(update(event_registrations)
                           .where(event_registrations.c.id.in_([row.id for row in promoted]))
                           .values(status=REGISTERED, promoted_at=now))
    return [int(row.person_id) for row in promoted]


def registrants(connection: Connection, city: str, event: str) -> list[Registrant]:
    """The registered (in the order they got their place), then the waiting list."""
    rows = connection.execute(
        select(event_registrations, people.c.display_name, people.c.email)
        .join(people, people.c.id == event_registrations.c.person_id)
        .where(_of(city, event), event_registrations.c.status.in_((REGISTERED, WAITING)))
        .order_by(event_registrations.c.created_at, event_registrations.c.id)).all()
    registered = sorted((row for row in rows if row.status == REGISTERED),
                        key=lambda row: (row.promoted_at or row.created_at, row.id))
    waiting = [row for row in rows if row.status == WAITING]
    return [Registrant(int(row.person_id), row.display_name, row.email, row.status,
                       None if row.status == REGISTERED else position,
                       row.promoted_at or row.created_at)
            for rows_of_status in (registered, waiting)
            for position, row in enumerate(rows_of_status, start=1)]


def _of(city: str, event: str):  # type: ignore[no-untyped-def]
    return and_(event_registrations.c.city == city, event_registrations.c.event == event)


def _before(created_at: datetime, row_id: int):  # type: ignore[no-untyped-def]
    """Rows queued before (created_at, id): the waiting list's order."""
    column = event_registrations.c
    return (column.created_at < created_at) | (
        (column.created_at == created_at) & (column.id < row_id))
