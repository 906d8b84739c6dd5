"""Who appears in a city's directory, read from the store.

A person is listed in `city` when they are *active* there — they hold a role in the city
that is not suspended (member, reporter or admin: every volunteer is a member too) — and
they chose to appear (`profiles.in_directory`, off by default) under a name. Consent is
one per person: someone active in two cities (moving) appears in both. No address is ever
read here: what a directory page can show is only what `DirectoryEntry` holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, exists, select

from avf.service.form_text import sort_key
from avf.store.schema import people, profiles, roles


@dataclass(frozen=True)
class DirectoryEntry:
    person_id: int
    display_name: str
    about: str
    interests: str
    languages: str
    photo: str | None


def directory_entries(connection: Connection, city: str) -> list[DirectoryEntry]:
    """The city's directory, by name (accents and case ignored)."""
    rows = connection.execute(_listed(city)).all()
    entries = [DirectoryEntry(person_id=int(row.id), display_name=row.display_name,
                              about=row.about, interests=row.interests,
                              languages=row.languages, photo=row.photo) for row in rows]
    return sorted(entries, key=lambda entry: (sort_key(entry.display_name), entry.person_id))


def directory_entry(connection: Connection, city: str, person_id: int) -> DirectoryEntry | None:
    """The person's entry in the city's directory, or None when they are not listed."""
    row = connection.execute(_listed(city).where(people.c.id == person_id)).first()
    if row is None:
        return None
    return DirectoryEntry(person_id=int(row.id), display_name=row.display_name,
                          about=row.about, interests=row.interests, languages=row.languages,
                          photo=row.photo)


def photo_owner_listed(connection: Connection, city: str, photo: str) -> bool:
    """The photo file belongs to someone listed in the city's directory."""
    return connection.execute(_listed(city).where(profiles.c.photo == photo)).first() \
        is not None


def _listed(city: str) -> Select[Any]:
    return (select(people.c.id, people.c.display_name, profiles.c.about,
                   profiles.c.interests, profiles.c.languages, profiles.c.photo)
            .join(profiles, profiles.c.person_id == people.c.id)
            .where(profiles.c.in_directory.is_(True), people.c.display_name != "",
                   exists(_active_role(city).where(roles.c.person_id == people.c.id))))


def _active_role(city: str) -> Select[Any]:
    return select(roles.c.id).where(roles.c.city == city, roles.c.suspended_at.is_(None))
