"""Members' profiles (table `profiles`, one row per person, made on first save) and the
consents they record.

**Consents (RGPD).** `in_directory` (appear in one's city directory) and `news_by_email`
are off until the person ticks them. Each has a date, `*_consent_at`: the moment the
current choice was made — when the consent was given while the flag is on, when it was
withdrawn once it is off again; None while the person never gave it. Saving the form
without changing a choice keeps its date, so the date is proof of the choice, not of the
last save. A withdrawal therefore replaces the date of the consent it ends: nothing is
processed under a withdrawn consent, and what must be provable is the choice in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from avf.store.schema import people, profiles

NAME_MAX = 200  # characters, the size of people.display_name
ABOUT_MAX = 500
INTERESTS_MAX = 300  # the size of the column
LANGUAGES_MAX = 200
PHONE_MAX = 50


@dataclass(frozen=True)
class Profile:
    """What a person tells about themselves, with their consents."""

    person_id: int
    display_name: str = ""
    about: str = ""
    interests: str = ""
    languages: str = ""
    phone: str = ""  # for the city's admins only, never in the directory
    photo: str | None = None  # file name under AVF_DATA_DIR/photos/
    in_directory: bool = False
    directory_consent_at: datetime | None = None
    news_by_email: bool = False
    news_consent_at: datetime | None = None
    news_frequency: str = "digest"  # digest | weekly | each (news_schedule.py)
    updated_at: datetime | None = None  # None: never saved


@dataclass(frozen=True)
class ProfileEdit:
    """What the profile form changes (the photo has its own form)."""

    display_name: str
    about: str
    interests: str
    languages: str
    phone: str
    in_directory: bool
    news_by_email: bool
    news_frequency: str = "digest"


def load_profile(connection: Connection, person_id: int) -> Profile | None:
    """The person's profile (defaults when never saved), or None without such a person."""
    name = connection.execute(select(people.c.display_name)
                              .where(people.c.id == person_id)).scalar()
    if name is None:
        return None
    row = connection.execute(select(profiles).where(profiles.c.person_id == person_id)
                             ).mappings().first()
    if row is None:
        return Profile(person_id=person_id, display_name=name)
    return Profile(display_name=name, **{key: row[key] for key in (
        "person_id", "about", "interests", "languages", "phone", "photo", "in_directory",
        "directory_consent_at", "news_by_email", "news_consent_at", "news_frequency",
        "updated_at")})


def save_profile(connection: Connection, person_id: int, edit: ProfileEdit,
                 now: datetime | None = None) -> Profile:
    """Store the edited profile and the person's name; each consent's date moves only when
    that choice changes (see the module's docstring). Return the profile as stored."""
    moment = now or datetime.now(UTC)
    current = load_profile(connection, person_id)
    if current is None:
        raise LookupError(f"no person {person_id}")
    connection.execute(update(people).where(people.c.id == person_id)
                       .values(display_name=edit.display_name))
    values = {
        "about": edit.about, "interests": edit.interests, "languages": edit.languages,
        "phone": edit.phone, "updated_at": moment,
        "in_directory": edit.in_directory,
        "directory_consent_at": _choice_date(current.in_directory,
                                             current.directory_consent_at,
                                             edit.in_directory, moment),
        "news_by_email": edit.news_by_email,
        "news_frequency": edit.news_frequency,
        "news_consent_at": _choice_date(current.news_by_email, current.news_consent_at,
                                        edit.news_by_email, moment),
    }
    _write(connection, person_id, current, values)
    stored = load_profile(connection, person_id)
    if stored is None:  # the person row was just updated: it exists
        raise LookupError(f"no person {person_id}")
    return stored


def set_photo(connection: Connection, person_id: int, photo: str | None,
              now: datetime | None = None) -> str | None:
    """Record the person's new photo file (None: no photo); return the previous file's
    name, for the caller to delete once the transaction is committed."""
    current = load_profile(connection, person_id)
    if current is None:
        raise LookupError(f"no person {person_id}")
    _write(connection, person_id, current,
           {"photo": photo, "updated_at": now or datetime.now(UTC)})
    return current.photo


def _write(connection: Connection, person_id: int, current: Profile,
           values: dict[str, object]) -> None:
    if current.updated_at is None:
        connection.execute(insert(profiles).values(person_id=person_id, **values))
    else:
        connection.execute(update(profiles).where(profiles.c.person_id == person_id)
                           .values(**values))


def _choice_date(was: bool, was_at: datetime | None, now_chosen: bool,
                 moment: datetime) -> datetime | None:
    """The date of the choice in force: `moment` when it changes, else the one kept."""
    return moment if now_chosen != was else was_at
