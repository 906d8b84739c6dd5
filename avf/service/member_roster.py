"""What a city's admins read about its members: the roster (with the addresses and phones
only admins see), former members, and the log of messages relayed between members (kept
for abuse). Reading only; changes are in membership.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from avf.service.member_names import FORMER_MEMBER
from avf.service.people import ROLE_LABELS
from avf.store.schema import former_members, member_messages, people, profiles, roles

RELAY_LOG_SHOWN = 200  # newest relayed messages on the admin page
ROLE_ORDER = ("admin", "reporter", "member")


@dataclass(frozen=True)
class MemberRow:
    person_id: int
    name: str
    email: str
    phone: str
    interests: str
    roles: tuple[str, ...]  # held in the city, highest first
    joined_at: datetime  # the first role granted in the city
    suspended_at: datetime | None
    in_directory: bool
    directory_consent_at: datetime | None
    news_by_email: bool
    news_consent_at: datetime | None

    @property
    def role_label(self) -> str:
        """The highest role, as pages name it (« Responsable », « Adhérent·e »)."""
        return ROLE_LABELS.get(self.roles[0], self.roles[0])

    @property
    def status(self) -> str:
        return "suspendu·e" if self.suspended_at else "actif·ve"


@dataclass(frozen=True)
class FormerMember:
    person_id: int
    name: str
    email: str
    left_at: datetime
    reason: str  # moved | removed
    moved_to: str | None


@dataclass(frozen=True)
class RelayedMessage:
    created_at: datetime
    sender: str  # the name, else the address; FORMER_MEMBER once the account is deleted
    recipient: str
    body: str


def city_members(connection: Connection, city: str,
                 person_id: int | None = None) -> list[MemberRow]:
    """Everyone holding a role in `city` (or only `person_id`, if they do), by name, with
    their profile."""
    query = (
        select(people.c.id, people.c.display_name, people.c.email, roles.c.role,
               roles.c.granted_at, roles.c.suspended_at, profiles.c.phone,
               profiles.c.interests, profiles.c.in_directory,
               profiles.c.directory_consent_at, profiles.c.news_by_email,
               profiles.c.news_consent_at)
        .join(roles, roles.c.person_id == people.c.id)
        .outerjoin(profiles, profiles.c.person_id == people.c.id)
        .where(roles.c.city == city))
    if person_id is not None:
        query = query.where(people.c.id == person_id)
    rows = connection.execute(query).all()
    by_person: dict[int, list] = {}  # type: ignore[type-arg]
    for row in rows:
        by_person.setdefault(row.id, []).append(row)
    members = []
    for held in by_person.values():
        first = held[0]
        suspended = [row.suspended_at for row in held if row.suspended_at is not None]
        members.append(MemberRow(
            person_id=first.id, name=first.display_name, email=first.email,
            phone=first.phone or "", interests=first.interests or "",
            roles=tuple(role for role in ROLE_ORDER if role in {row.role for row in held}),
            joined_at=min(row.granted_at for row in held),
            suspended_at=min(suspended) if suspended else None,
            in_directory=bool(first.in_directory),
            directory_consent_at=first.directory_consent_at,
            news_by_email=bool(first.news_by_email), news_consent_at=first.news_consent_at))
    return sorted(members, key=lambda member: (member.name.casefold(), member.email))


def former_members_of(connection: Connection, city: str) -> list[FormerMember]:
    """People who left `city` (moved, or removed by an admin) and are not members again,
    the latest first; one line per person, their latest departure."""
    current = select(roles.c.person_id).where(roles.c.city == city)
    rows = connection.execute(
        select(former_members, people.c.display_name, people.c.email)
        .join(people, people.c.id == former_members.c.person_id)
        .where(former_members.c.city == city, former_members.c.person_id.not_in(current))
        .order_by(former_members.c.left_at.desc(), former_members.c.id.desc())).all()
    seen: set[int] = set()
    former = []
    for row in rows:
        if row.person_id in seen:
            continue
        seen.add(row.person_id)
        former.append(FormerMember(person_id=row.person_id, name=row.display_name,
                                   email=row.email, left_at=row.left_at, reason=row.reason,
                                   moved_to=row.moved_to))
    return former


def relay_log(connection: Connection, city: str,
              limit: int = RELAY_LOG_SHOWN) -> list[RelayedMessage]:
    """The newest messages members of `city` sent each other through the relay."""
    sender, recipient = people.alias("sender"), people.alias("recipient")
    rows = connection.execute(
        select(member_messages.c.created_at, member_messages.c.body,
               sender.c.display_name.label("sender_name"), sender.c.email.label("sender_email"),
               recipient.c.display_name.label("recipient_name"),
               recipient.c.email.label("recipient_email"))
        .outerjoin(sender, sender.c.id == member_messages.c.sender_id)
        .outerjoin(recipient, recipient.c.id == member_messages.c.recipient_id)
        .where(member_messages.c.city == city)
        .order_by(member_messages.c.created_at.desc(), member_messages.c.id.desc())
        .limit(limit)).all()
    return [RelayedMessage(created_at=row.created_at, body=row.body,
                           sender=_who(row.sender_name, row.sender_email),
                           recipient=_who(row.recipient_name, row.recipient_email))
            for row in rows]


def _who(name: str | None, email: str | None) -> str:
    """How the log names a person: their name, else their address (admins may see it);
    "ancien membre" once the account is deleted (no person row: no address), as the
    deletion page promises."""
    if email is None:
        return FORMER_MEMBER
    return name or email
