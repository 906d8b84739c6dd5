"""A member's rights over their data (RGPD): everything the service keeps about them, as
one JSON document (`export_member_data`), and the deletion of their account
(`delete_account`).

The export holds the person's own data and, of other people, only what the person already
saw: the names of those they exchanged messages with or blocked — never an address, never
who blocked them. Sign-in and session records are given by their dates; their hashes are
the service's, not the person's.

Deleting an account removes the person and everything that is theirs alone (roles,
profile, photo, sign-in links, sessions, blocks, moves, former memberships — by the
tables' cascades), the records that hold their address (join requests, pré-accueil
messages, mails addressed to them, the builds they asked for keep no address). The
messages they exchanged stay, their side set to NULL: the city's abuse log keeps them,
signed "ancien membre" (member_names).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from avf.service.accounts import load_person
from avf.service.member_names import display_names
from avf.service.photos import photo_file
from avf.service.profiles import load_profile
from avf.service.relay import blocked_people
from avf.service.role_log import forget_address, record_role_change
from avf.store.schema import (
    build_jobs,
    contact_messages,
    former_members,
    join_requests,
    login_tokens,
    member_messages,
    moves,
    outbox,
    people,
    roles,
    sessions,
)

FORMAT = "avf-donnees-membre/1"
NOTE = ("Toutes les données que le réseau AVF garde sur vous, au moment du téléchargement. "
        "Les dates sont en temps universel (UTC).")


def export_member_data(connection: Connection, person_id: int, photos: Path,
                       now: datetime | None = None) -> dict[str, Any] | None:
    """Everything kept about the person, ready for `json.dumps`; None without such a
    person."""
    person = connection.execute(select(people).where(people.c.id == person_id)
                                ).mappings().first()
    profile = load_profile(connection, person_id)
    if person is None or profile is None:
        return None
    email = person["email"]
    sent = _rows(connection, member_messages, member_messages.c.sender_id == person_id)
    received = _rows(connection, member_messages,
                     member_messages.c.recipient_id == person_id)
    names = display_names(connection, [m["recipient_id"] for m in sent]
                          + [m["sender_id"] for m in received])
    photo = photo_file(photos, profile.photo)
    return {
        "format": FORMAT,
        "note": NOTE,
        "exported_at": _date(now or datetime.now(UTC)),
        "person": {"id": person_id, "email": email, "display_name": person["display_name"],
                   "created_at": _date(person["created_at"]),
                   "last_seen_at": _date(person["last_seen_at"])},
        "roles": [{"city": row["city"] or "(tout le réseau)", "role": row["role"],
                   "granted_at": _date(row["granted_at"]),
                   "suspended_at": _date(row["suspended_at"])}
                  for row in _rows(connection, roles, roles.c.person_id == person_id)],
        "profile": {
            "about": profile.about, "interests": profile.interests,
            "languages": profile.languages, "phone": profile.phone,
            "photo": profile.photo, "in_directory": profile.in_directory,
            "directory_consent_at": _date(profile.directory_consent_at),
            "news_by_email": profile.news_by_email,
            "news_consent_at": _date(profile.news_consent_at),
            "updated_at": _date(profile.updated_at)},
        "photo_jpeg_base64": base64.b64encode(photo.read_bytes()).decode("ascii")
        if photo else None,
        "messages_sent": [{"id": m["id"], "city": m["city"], "to": names[m["recipient_id"]],
                           "in_reply_to": m["in_reply_to"], "body": m["body"],
                           "created_at": _date(m["created_at"])} for m in sent],
        "messages_received": [{"id": m["id"], "city": m["city"],
                               "from": names[m["sender_id"]],
                               "in_reply_to": m["in_reply_to"], "body": m["body"],
                               "created_at": _date(m["created_at"])} for m in received],
        "blocked_people": [{"name": b.name, "since": _date(b.since)}
                           for b in blocked_people(connection, person_id)],
        "join_requests": [{"city": r["city"], "name": r["name"], "email": r["email"],
                           "phone": r["phone"], "message": r["message"],
                           "created_at": _date(r["created_at"]), "status": r["status"],
                           "decided_at": _date(r["decided_at"])}
                          for r in _rows(connection, join_requests,
                                         join_requests.c.email == email)],
        "contact_messages": [{"city": r["city"], "name": r["name"], "email": r["email"],
                              "phone": r["phone"], "arrival": r["arrival"],
                              "message": r["message"], "created_at": _date(r["created_at"])}
                             for r in _rows(connection, contact_messages,
                                            contact_messages.c.email == email)],
        "moves": [{"from_city": r["from_city"], "to_city": r["to_city"],
                   "share_address": r["share_address"], "created_at": _date(r["created_at"]),
                   "joined_at": _date(r["joined_at"])}
                  for r in _rows(connection, moves, moves.c.person_id == person_id)],
        "former_memberships": [{"city": r["city"], "left_at": _date(r["left_at"]),
                                "reason": r["reason"], "moved_to": r["moved_to"]}
                               for r in _rows(connection, former_members,
                                              former_members.c.person_id == person_id)],
        "sign_in_links": [{"created_at": _date(r["created_at"]),
                           "expires_at": _date(r["expires_at"]), "used_at": _date(r["used_at"])}
                          for r in _rows(connection, login_tokens,
                                         login_tokens.c.person_id == person_id)],
        "sessions": [{"created_at": _date(r["created_at"]),
                      "expires_at": _date(r["expires_at"]),
                      "revoked_at": _date(r["revoked_at"])}
                     for r in _rows(connection, sessions, sessions.c.person_id == person_id)],
    }


@dataclass(frozen=True)
class DeletedAccount:
    email: str
    photo: str | None  # the photo file to remove once the transaction is committed


def delete_account(connection: Connection, person_id: int) -> DeletedAccount | None:
    """Delete the person and what is theirs (see the module's docstring); None when there
    was no such person."""
    email = connection.execute(select(people.c.email).where(people.c.id == person_id)
                               ).scalar()
    profile = load_profile(connection, person_id)
    if email is None or profile is None:
        return None
    # The foreign keys say the same (ON DELETE SET NULL); done here for databases or
    # connections where they are not enforced.
    connection.execute(update(member_messages).where(member_messages.c.sender_id == person_id)
                       .values(sender_id=None))
    connection.execute(update(member_messages)
                       .where(member_messages.c.recipient_id == person_id)
                       .values(recipient_id=None))
    connection.execute(delete(join_requests).where(join_requests.c.email == email))
    connection.execute(delete(contact_messages).where(contact_messages.c.email == email))
    connection.execute(delete(outbox).where(outbox.c.to_address == email))
    connection.execute(update(build_jobs).where(build_jobs.c.requested_by == email)
                       .values(requested_by=None))
    _log_departure(connection, person_id, email)
    connection.execute(delete(people).where(people.c.id == person_id))  # cascades the rest
    return DeletedAccount(email=email, photo=profile.photo)


def _log_departure(connection: Connection, person_id: int, email: str) -> None:
    """The roles the deletion takes away go into the log of role changes, which then
    forgets the address (a name the person chose stays: admins still see who left)."""
    leaving = load_person(connection, person_id)
    for city, role in connection.execute(select(roles.c.city, roles.c.role)
                                         .where(roles.c.person_id == person_id)).all():
        record_role_change(connection, city, person_id, role, "revoked", by=leaving,
                           note="compte supprimé par la personne")
    forget_address(connection, person_id, email)


def _rows(connection: Connection, table: Table, condition: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(
        select(table).where(condition).order_by(*table.primary_key.columns)).mappings()]


def _date(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()
