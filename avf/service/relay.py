"""Members write to each other through the service: a message is kept (`member_messages`,
the log the city's admins can read in case of abuse) and mailed to its recipient, who
never sees the sender's address, and whose own address the sender never sees.

Who may write to whom (`refusal`): a new message goes to someone listed in the city's
directory; a reply goes to whoever wrote the message replied to, while they may still read
the city's members' area (a member, a volunteer, the webmaster; not suspended). Neither
may go to oneself, nor to someone who blocked the sender, nor from someone to a person
they blocked themselves. The refusal a blocked sender gets is the one any unreachable
member gives (NOT_DELIVERABLE): it never says "blocked".
The pages count each message against the sender's rate limits (PER_HOUR, PER_DAY).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, exists, insert, select

from avf.content.model import City
from avf.mail import queue_mail
from avf.service.accounts import load_person
from avf.service.directory import directory_entry
from avf.service.member_names import display_names
from avf.service.people import Person
from avf.service.ratelimit import Limit
from avf.store.schema import member_blocks, member_messages, people

BODY_MAX = 3000  # characters
PER_HOUR = Limit("relay-hour", attempts=10, window=timedelta(hours=1))
PER_DAY = Limit("relay-day", attempts=30, window=timedelta(days=1))

NOT_DELIVERABLE = ("Ce membre ne peut pas recevoir de message de votre part par "
                   "l'annuaire. Si c'est important, adressez-vous au responsable de votre "
                   "AVF.")
YOU_BLOCKED = ("Vous avez bloqué cette personne : pour lui écrire, débloquez-la d'abord "
               "depuis votre profil.")
TO_ONESELF = "C'est votre propre fiche : vous ne pouvez pas vous écrire à vous-même."


class RelayRefused(Exception):
    """A message that may not be relayed; `str(error)` says why, in French."""


@dataclass(frozen=True)
class MemberMessage:
    id: int
    city: str
    sender_id: int | None  # None once the sender's account is deleted
    recipient_id: int | None
    in_reply_to: int | None
    body: str
    created_at: datetime


def load_message(connection: Connection, message_id: int) -> MemberMessage | None:
    row = connection.execute(select(member_messages)
                             .where(member_messages.c.id == message_id)).mappings().first()
    return None if row is None else MemberMessage(**row)


def refusal(connection: Connection, city: str, sender_id: int, recipient_id: int,
            reply: bool) -> str | None:
    """Why a message from sender to recipient may not be relayed (French), or None."""
    if sender_id == recipient_id:
        return TO_ONESELF
    if has_blocked(connection, sender_id, recipient_id):
        return YOU_BLOCKED
    if reply:
        recipient = load_person(connection, recipient_id)
        reachable = recipient is not None and recipient.can("member", city)
    else:
        reachable = directory_entry(connection, city, recipient_id) is not None
    if not reachable or has_blocked(connection, recipient_id, sender_id):
        return NOT_DELIVERABLE
    return None


def relay_member_message(connection: Connection, city: City, sender: Person,
                         recipient_id: int, body: str, public_url: str,
                         in_reply_to: int | None = None, now: datetime | None = None) -> int:
    """Check (`refusal`), keep and queue the message; return its id. RelayRefused when it
    may not go. The mail names the sender by their name only and has no Reply-To: the
    recipient answers through the link, which comes back here."""
    moment = now or datetime.now(UTC)
    why = refusal(connection, city.slug, sender.id, recipient_id, reply=in_reply_to is not None)
    if why is not None:
        raise RelayRefused(why)
    recipient_email = connection.execute(select(people.c.email)
                                         .where(people.c.id == recipient_id)).scalar_one()
    message_id = int(connection.execute(insert(member_messages).values(
        city=city.slug, sender_id=sender.id, recipient_id=recipient_id,
        in_reply_to=in_reply_to, body=body, created_at=moment)
    ).inserted_primary_key[0])  # type: ignore[index]
    base = f"{public_url}/membres/{city.slug}"
    queue_mail(connection, kind="member_message", to=recipient_email, now=moment, context={
        "sender_name": sender.display_name, "city": city.city, "city_name": city.name,
        "message": body, "is_reply": in_reply_to is not None,
        "reply_link": f"{base}/messages/{message_id}/repondre",
        "block_link": f"{base}/bloquer/{sender.id}",
        "profile_link": f"{public_url}/compte/profil"})
    return message_id


def has_blocked(connection: Connection, blocker_id: int, blocked_id: int) -> bool:
    return bool(connection.execute(select(exists().where(
        member_blocks.c.blocker_id == blocker_id,
        member_blocks.c.blocked_id == blocked_id))).scalar())


def block(connection: Connection, blocker_id: int, blocked_id: int,
          now: datetime | None = None) -> bool:
    """`blocker` no longer receives messages from `blocked`; False if that was so already."""
    if has_blocked(connection, blocker_id, blocked_id):
        return False
    connection.execute(insert(member_blocks).values(
        blocker_id=blocker_id, blocked_id=blocked_id, created_at=now or datetime.now(UTC)))
    return True


def unblock(connection: Connection, blocker_id: int, blocked_id: int) -> bool:
    return bool(connection.execute(delete(member_blocks).where(
        member_blocks.c.blocker_id == blocker_id,
        member_blocks.c.blocked_id == blocked_id)).rowcount)


@dataclass(frozen=True)
class Blocked:
    person_id: int
    name: str
    since: datetime


def blocked_people(connection: Connection, blocker_id: int) -> list[Blocked]:
    """Whom the person blocked, the latest first, by name (never by address)."""
    rows = connection.execute(select(member_blocks.c.blocked_id, member_blocks.c.created_at)
                              .where(member_blocks.c.blocker_id == blocker_id)
                              .order_by(member_blocks.c.created_at.desc())).all()
    names = display_names(connection, [row.blocked_id for row in rows])
    return [Blocked(int(row.blocked_id), names[row.blocked_id], row.created_at)
            for row in rows]


def wrote_to(connection: Connection, city: str, sender_id: int, recipient_id: int) -> bool:
    """`sender` sent `recipient` at least one message in `city` (the block link's check)."""
    return bool(connection.execute(select(exists().where(
        member_messages.c.city == city, member_messages.c.sender_id == sender_id,
        member_messages.c.recipient_id == recipient_id))).scalar())
