"""People and their roles in the store (tables `people`, `roles`).

Every function takes the caller's connection, so that a sign-in can look a person up, issue
a token and queue its mail in one transaction. Addresses are kept lower-cased and trimmed:
`Élise@Exemple.fr ` and `elise@exemple.fr` are the same person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, insert, or_, select, update

from avf.content.model import SLUG_PATTERN
from avf.service.people import CITY_ROLES, ROLES, Person
from avf.service.role_log import record_role_change
from avf.store.schema import NETWORK, people, roles

# `last_seen_at` feeds "active members this month": a write per request would be waste.
SEEN_EVERY = timedelta(minutes=5)
_LOCAL_PART = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class AccountError(ValueError):
    """An address, role or city a person typed cannot be used (the message says why, in
    French)."""


class InvalidEmail(AccountError):
    pass


class InvalidRole(AccountError):
    pass


@dataclass(frozen=True)
class Account:
    """A person as the webmaster's lists show them."""

    person: Person
    created_at: datetime
    last_seen_at: datetime | None


def normalize_email(typed: str) -> str:
    """The address as stored: trimmed, lower-cased, its domain in ASCII (IDNA); raise
    InvalidEmail when it cannot be an address mail can be sent to."""
    email = typed.strip().lower()
    local, at, domain = email.rpartition("@")
    if domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
    if not at or not _LOCAL_PART.match(local) or not _DOMAIN.match(domain) \
            or local.startswith(".") or local.endswith(".") or ".." in local \
            or "=?" in local:  # an RFC 2047 encoded word, never a real address
        shown = typed.strip()[:80] or "(vide)"
        raise InvalidEmail(f"« {shown} » n'est pas une adresse email complète : elle doit "
                           "ressembler à prenom.nom@exemple.fr")
    return f"{local}@{domain}"


def check_role(role: str, city: str) -> None:
    """Raise InvalidRole unless `role` exists and `city` fits it (a city slug for a city
    role, NETWORK for the webmaster)."""
    if role not in ROLES:
        raise InvalidRole(f"le rôle « {role} » n'existe pas ; les rôles possibles sont "
                          + ", ".join(ROLES))
    if role == "webmaster" and city != NETWORK:
        raise InvalidRole("le rôle webmaster vaut pour tout le réseau : n'indiquez pas de ville")
    if role in CITY_ROLES and not city:
        raise InvalidRole(f"le rôle {role} concerne une ville : indiquez laquelle")
    if role in CITY_ROLES and not SLUG_PATTERN.match(city):
        raise InvalidRole(f"« {city} » n'est pas le nom court d'une ville : lettres minuscules, "
                          "chiffres et tirets, comme saint-etienne")


def person_id_for(connection: Connection, email: str) -> int | None:
    """The id of the person with this (normalized) address, if there is one."""
    found = connection.execute(select(people.c.id).where(people.c.email == email)).scalar()
    return None if found is None else int(found)


def find_or_create_person(connection: Connection, email: str, display_name: str = "",
                          now: datetime | None = None) -> tuple[int, bool]:
    """The person with this address, created if needed; a name given replaces the one
    kept. Return (id, whether the person was created)."""
    email = normalize_email(email)
    name = " ".join(display_name.split())[:200]
    found = person_id_for(connection, email)
    if found is not None:
        if name:
            connection.execute(update(people).where(people.c.id == found)
                               .values(display_name=name))
        return found, False
    result = connection.execute(insert(people).values(
        email=email, display_name=name, created_at=now or datetime.now(UTC)))
    return int(result.inserted_primary_key[0]), True  # type: ignore[index]


def grant_role(connection: Connection, person_id: int, role: str, city: str = NETWORK,
               now: datetime | None = None, *, by: Person | None = None,
               action: str = "granted", note: str = "") -> bool:
    """Give `role` in `city` to the person; False when they already held it. The change
    is logged (role_log) as `action` made by `by` (None: the command line)."""
    check_role(role, city)
    held = connection.execute(select(roles.c.id).where(
        roles.c.person_id == person_id, roles.c.city == city, roles.c.role == role)).first()
    if held is not None:
        return False
    moment = now or datetime.now(UTC)
    connection.execute(insert(roles).values(person_id=person_id, city=city, role=role,
                                            granted_at=moment))
    record_role_change(connection, city, person_id, role, action, by=by, note=note, now=moment)
    return True


def revoke_role(connection: Connection, person_id: int, role: str, city: str = NETWORK, *,
                by: Person | None = None, action: str = "revoked", note: str = "",
                now: datetime | None = None) -> bool:
    """Take `role` in `city` away; False when the person did not hold it. Takes effect on
    their next request: roles are read again on every one. Logged like grant_role."""
    check_role(role, city)
    removed = bool(connection.execute(delete(roles).where(
        roles.c.person_id == person_id, roles.c.city == city, roles.c.role == role)).rowcount)
    if removed:
        record_role_change(connection, city, person_id, role, action, by=by, note=note,
                           now=now)
    return removed


def load_person(connection: Connection, person_id: int) -> Person | None:
    """The person with their roles as they are now, or None if they no longer exist."""
    row = connection.execute(select(people.c.email, people.c.display_name)
                             .where(people.c.id == person_id)).first()
    if row is None:
        return None
    held = connection.execute(select(roles.c.city, roles.c.role)
                              .where(roles.c.person_id == person_id,
                                     roles.c.suspended_at.is_(None))).all()  # grants nothing
    return Person(id=person_id, email=row.email, display_name=row.display_name,
                  roles=frozenset((city, role) for city, role in held))


def note_seen(connection: Connection, person_id: int, last_seen_at: datetime | None,
              now: datetime | None = None) -> bool:
    """Record that the person was active, at most once per SEEN_EVERY; True if written.

    `last_seen_at` is the value the caller just read, so that most requests write nothing
    (a write, even of no row, would take SQLite's write lock).
    """
    moment = now or datetime.now(UTC)
    if last_seen_at is not None and moment - last_seen_at < SEEN_EVERY:
        return False
    return bool(connection.execute(
        update(people).where(people.c.id == person_id,
                             or_(people.c.last_seen_at.is_(None),
                                 people.c.last_seen_at <= moment - SEEN_EVERY))
        .values(last_seen_at=moment)).rowcount)


def list_accounts(connection: Connection, city: str | None = None) -> list[Account]:
    """Every person (or those holding a role in `city`), by address, with their roles."""
    query = select(people).order_by(people.c.email)
    if city is not None:
        query = query.where(people.c.id.in_(
            select(roles.c.person_id).where(roles.c.city == city)))
    rows = connection.execute(query).mappings().all()
    held: dict[int, set[tuple[str, str]]] = {}
    for person_id, role_city, role in connection.execute(
            select(roles.c.person_id, roles.c.city, roles.c.role)):
        held.setdefault(person_id, set()).add((role_city, role))
    return [Account(person=Person(id=row["id"], email=row["email"],
                                  display_name=row["display_name"],
                                  roles=frozenset(held.get(row["id"], set()))),
                    created_at=row["created_at"], last_seen_at=row["last_seen_at"])
            for row in rows]
