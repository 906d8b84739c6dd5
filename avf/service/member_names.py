"""How pages name a member who wrote something (a relayed message, later a comment): by
the name they chose, and "ancien membre" once their account is deleted — their words stay,
signed by no one. Never by their address."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from avf.store.schema import people

FORMER_MEMBER = "ancien membre"  # the author's account was deleted
UNNAMED_MEMBER = "un membre"  # the author never gave a name (their address is never shown)


def display_name_or_former(connection: Connection, person_id: int | None) -> str:
    """The person's name; FORMER_MEMBER when there is no such person any more (a deleted
    account leaves NULL where its id was)."""
    return display_names(connection, [person_id])[person_id]


def display_names(connection: Connection, person_ids: Iterable[int | None],
                  ) -> dict[int | None, str]:
    """`display_name_or_former` for many people in one query."""
    wanted = set(person_ids)
    known = {int(row.id): row.display_name for row in connection.execute(
        select(people.c.id, people.c.display_name)
        .where(people.c.id.in_([i for i in wanted if i is not None])))}
    return {person_id: _shown(known, person_id) for person_id in wanted}


def _shown(known: dict[int, str], person_id: int | None) -> str:
    if person_id is None or person_id not in known:
        return FORMER_MEMBER
    return known[person_id] or UNNAMED_MEMBER
