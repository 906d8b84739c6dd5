"""A city's groups (« communautés ») in the store: the groups a city admin creates, who
joined each one, its volunteer moderators, and its discussion topics (whose replies are
`comments` with target "topic:<id>").

A moderator is a member of the group with the `moderator` flag: they moderate that group
only. A topic follows the comments' rules (discussion.decide): held first, then shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from avf.service.member_names import display_names
from avf.store.schema import group_members, group_topics, groups

NAME_MAX = 100
DESCRIPTION_MAX = 2000


@dataclass(frozen=True)
class Group:
    id: int
    city: str
    slug: str
    name: str
    description: str
    members: int = 0


@dataclass(frozen=True)
class Topic:
    id: int
    group_id: int
    author_id: int | None
    author_name: str
    title: str
    body: str
    html: str
    status: str
    held_reason: str | None
    created_at: datetime
    last_activity_at: datetime


def city_groups(connection: Connection, city: str) -> list[Group]:
    """The city's groups by name, each with its number of members."""
    counts = dict(connection.execute(
        select(group_members.c.group_id, func.count()).group_by(group_members.c.group_id)
    ).all())
    return [Group(id=row.id, city=row.city, slug=row.slug, name=row.name,
                  description=row.description, members=int(counts.get(row.id, 0)))
            for row in connection.execute(select(groups).where(groups.c.city == city)
                                          .order_by(groups.c.name))]


def load_group(connection: Connection, city: str, slug: str) -> Group | None:
    row = connection.execute(select(groups).where(groups.c.city == city,
                                                  groups.c.slug == slug)).first()
    if row is None:
        return None
    count = connection.execute(select(func.count()).select_from(group_members)
                               .where(group_members.c.group_id == row.id)).scalar_one()
    return Group(id=row.id, city=row.city, slug=row.slug, name=row.name,
                 description=row.description, members=int(count))


def group_by_id(connection: Connection, group_id: int) -> Group | None:
    row = connection.execute(select(groups).where(groups.c.id == group_id)).first()
    return None if row is None else load_group(connection, row.city, row.slug)


def create_group(connection: Connection, city: str, slug: str, name: str, description: str,
                 created_by: int, now: datetime | None = None) -> int:
    result = connection.execute(insert(groups).values(
        city=city, slug=slug, name=name, description=description,
        created_by=created_by, created_at=now or datetime.now(UTC)))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_group(connection: Connection, group_id: int, name: str, description: str) -> None:
    connection.execute(update(groups).where(groups.c.id == group_id)
                       .values(name=name, description=description))


def is_member(connection: Connection, group_id: int, person_id: int) -> bool:
    return connection.execute(select(group_members.c.person_id).where(
        group_members.c.group_id == group_id,
        group_members.c.person_id == person_id)).first() is not None


def is_moderator(connection: Connection, group_id: int, person_id: int) -> bool:
    return connection.execute(select(group_members.c.person_id).where(
        group_members.c.group_id == group_id, group_members.c.person_id == person_id,
        group_members.c.moderator.is_(True))).first() is not None


def join(connection: Connection, group_id: int, person_id: int,
         now: datetime | None = None) -> bool:
    if is_member(connection, group_id, person_id):
        return False
    connection.execute(insert(group_members).values(
        group_id=group_id, person_id=person_id, moderator=False,
        joined_at=now or datetime.now(UTC)))
    return True


def leave(connection: Connection, group_id: int, person_id: int) -> bool:
    return bool(connection.execute(delete(group_members).where(
        group_members.c.group_id == group_id,
        group_members.c.person_id == person_id)).rowcount)


def set_moderator(connection: Connection, group_id: int, person_id: int, moderator: bool,
                  now: datetime | None = None) -> None:
    """Name (or remove) a moderator; naming one makes them a member of the group too."""
    join(connection, group_id, person_id, now)
    connection.execute(update(group_members).where(
        group_members.c.group_id == group_id, group_members.c.person_id == person_id,
    ).values(moderator=moderator))


def moderators(connection: Connection, group_id: int) -> list[tuple[int, str]]:
    """(person id, name) of the group's moderators."""
    ids = [int(row.person_id) for row in connection.execute(
        select(group_members.c.person_id).where(group_members.c.group_id == group_id,
                                                group_members.c.moderator.is_(True)))]
    names = display_names(connection, ids)
    return sorted(((i, names[i]) for i in ids), key=lambda pair: pair[1])


def moderated_groups(connection: Connection, city: str, person_id: int) -> list[int]:
    """The ids of the city's groups this person moderates."""
    return [int(row.id) for row in connection.execute(
        select(groups.c.id).join(group_members, group_members.c.group_id == groups.c.id)
        .where(groups.c.city == city, group_members.c.person_id == person_id,
               group_members.c.moderator.is_(True)))]


def add_topic(connection: Connection, group_id: int, author_id: int, title: str, body: str,
              html: str, status: str, held_reason: str | None,
              now: datetime | None = None) -> int:
    moment = now or datetime.now(UTC)
    result = connection.execute(insert(group_topics).values(
        group_id=group_id, author_id=author_id, title=title, body=body, html=html,
        status=status, held_reason=held_reason, created_at=moment, last_activity_at=moment))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def load_topic(connection: Connection, topic_id: int) -> Topic | None:
    row = connection.execute(select(group_topics).where(group_topics.c.id == topic_id)).first()
    if row is None:
        return None
    return _topic(row, display_names(connection, [row.author_id]))


def group_topic_list(connection: Connection, group_id: int, viewer_id: int | None,
                     statuses: tuple[str, ...] = ("visible",)) -> list[Topic]:
    """The group's topics, the latest active first: those in `statuses`, and the viewer's
    own that wait for moderation."""
    rows = connection.execute(select(group_topics).where(group_topics.c.group_id == group_id)
                              .order_by(group_topics.c.last_activity_at.desc(),
                                        group_topics.c.id.desc())).all()
    rows = [row for row in rows if row.status in statuses
            or (row.status == "pending" and viewer_id is not None
                and row.author_id == viewer_id)]
    names = display_names(connection, [row.author_id for row in rows])
    return [_topic(row, names) for row in rows]


def set_topic_status(connection: Connection, topic_id: int, status: str) -> None:
    connection.execute(update(group_topics).where(group_topics.c.id == topic_id)
                       .values(status=status, held_reason=None))


def touch_topic(connection: Connection, topic_id: int, now: datetime | None = None) -> None:
    """A reply was shown: the topic goes to the top of its group's list."""
    connection.execute(update(group_topics).where(group_topics.c.id == topic_id)
                       .values(last_activity_at=now or datetime.now(UTC)))


def pending_topics(connection: Connection, group_ids: list[int]) -> list[Topic]:
    rows = connection.execute(select(group_topics).where(
        group_topics.c.group_id.in_(group_ids), group_topics.c.status == "pending")
        .order_by(group_topics.c.id)).all()
    names = display_names(connection, [row.author_id for row in rows])
    return [_topic(row, names) for row in rows]


def _topic(row: object, names: dict[int | None, str]) -> Topic:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    return Topic(author_name=names[values["author_id"]], **values)


def topic_targets(connection: Connection, group_ids: list[int]) -> list[str]:
    """The comment targets ("topic:<id>") of every topic of these groups."""
    return [f"topic:{row.id}" for row in connection.execute(
        select(group_topics.c.id).where(group_topics.c.group_id.in_(group_ids)))]


def group_people(connection: Connection, group_id: int) -> list[tuple[int, str, bool]]:
    """(id, name, moderator) of the group's members by name, for the admin's form."""
    rows = connection.execute(select(group_members.c.person_id, group_members.c.moderator)
                              .where(group_members.c.group_id == group_id)).all()
    names = display_names(connection, [row.person_id for row in rows])
    return sorted(((int(row.person_id), names[row.person_id], bool(row.moderator))
                   for row in rows), key=lambda item: item[1])
