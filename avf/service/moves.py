"""« Je déménage » apart from HTTP: a member moving to another city tells its welcome team
and is invited to join it; joining moves their membership and leaves their history with
the city they left. Routes are in moving.py; each step here is one transaction.

The member's address and name reach the destination's welcome team only if they agreed
(`share_address`): otherwise the team learns that a member of AVF <origin> is arriving,
when, and what the member wrote, and the member gets the team's public contact (phone,
opening hours, the city's contact form) to write first. The team's mail is rendered
without the address in its context, so no template can leak it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import Engine, insert, select, update

from avf.content.model import City
from avf.mail import queue_mail
from avf.service.accounts import grant_role, load_person, revoke_role
from avf.service.magiclinks import INVITATION_LIFETIME, issue_link_token
from avf.service.people import Person
from avf.store.schema import former_members, moves, roles
from avf.theme.filters import date_fr

JoinOutcome = Literal["joined", "already", "suspended", "not_member", "removed"]


@dataclass(frozen=True)
class MoveRequest:
    """What the member asked, checked (moving_form.py)."""

    from_city: str
    to_city: str
    share_address: bool
    arrival: date | None
    message: str


@dataclass(frozen=True)
class Move:
    id: int
    person_id: int
    from_city: str
    to_city: str
    share_address: bool
    created_at: datetime
    joined_at: datetime | None


def join_path(move_id: int) -> str:
    return f"/compte/demenager/{move_id}/rejoindre"


def record_move(engine: Engine, person: Person, request: MoveRequest, origin_name: str,
                destination: City, public_url: str, now: datetime | None = None) -> int:
    """Keep the move, queue the welcome team's mail and the member's invitation (a 7-day
    sign-in link that comes back to the join page); return the move's id."""
    moment = now or datetime.now(UTC)
    arrival = date_fr(request.arrival) if request.arrival else ""
    with engine.begin() as connection:
        move_id = int(connection.execute(insert(moves).values(
            person_id=person.id, from_city=request.from_city, to_city=request.to_city,
            share_address=request.share_address, created_at=moment,
        )).inserted_primary_key[0])  # type: ignore[index]
        token = issue_link_token(connection, person.id, join_path(move_id), moment,
                                 lifetime=INVITATION_LIFETIME)
        team: dict[str, object] = {
            "origin": origin_name, "destination": destination.name,
            "town": destination.city, "arrival": arrival, "message": request.message,
            "shared": request.share_address}
        if request.share_address:
            team.update(name=person.display_name, email=person.email)
        if destination.email:
            queue_mail(connection, kind="move_welcome", to=destination.email, now=moment,
                       reply_to=person.email if request.share_address else None,
                       context=team)
        queue_mail(connection, kind="move_invitation", to=person.email, now=moment, context={
            "name": person.display_name, "origin": origin_name,
            "destination": destination.name, "town": destination.city,
            "shared": request.share_address,
            "days": INVITATION_LIFETIME.days,
            "link": f"{public_url}/compte/lien/{token}",
            "phone": destination.phone or "", "hours": " ; ".join(destination.opening_hours),
            "contact_url": f"{public_url}/contact/{destination.slug}",
        })
    return move_id


def find_move(engine: Engine, person_id: int, move_id: int) -> Move | None:
    """The person's own move with this id (another person's is None, like a missing one)."""
    with engine.connect() as connection:
        row = connection.execute(select(moves).where(
            moves.c.id == move_id, moves.c.person_id == person_id)).mappings().first()
    return None if row is None else Move(**row)


def pending_moves(engine: Engine, person_id: int) -> list[Move]:
    """The person's moves not joined yet, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(select(moves).where(
            moves.c.person_id == person_id, moves.c.joined_at.is_(None))
            .order_by(moves.c.id.desc())).mappings().all()
    return [Move(**row) for row in rows]


def join_destination(engine: Engine, move: Move, now: datetime | None = None) -> JoinOutcome:
    """Make the mover a member of the destination and a former member (« moved ») of the
    origin, whose member role ends; their volunteer roles there (admin, reporter) are
    left to the origin's admins. A membership suspended in either city stops it; so does
    no longer being a member of the origin (the move was a member's), and having been
    removed by the destination's admins (a move is no way back in)."""
    moment = now or datetime.now(UTC)
    with engine.begin() as connection:
        joined = connection.execute(select(moves.c.joined_at).where(moves.c.id == move.id))
        if joined.scalar() is not None:
            return "already"  # a second click: nothing to check, nothing to do
        suspended = connection.execute(select(roles.c.id).where(
            roles.c.person_id == move.person_id, roles.c.role == "member",
            roles.c.city.in_((move.from_city, move.to_city)),
            roles.c.suspended_at.is_not(None))).first()
        if suspended is not None:
            return "suspended"
        member_of_origin = connection.execute(select(roles.c.id).where(
            roles.c.person_id == move.person_id, roles.c.role == "member",
            roles.c.city == move.from_city, roles.c.suspended_at.is_(None))).first()
        if member_of_origin is None:
            return "not_member"
        removed = connection.execute(select(former_members.c.id).where(
            former_members.c.person_id == move.person_id,
            former_members.c.city == move.to_city,
            former_members.c.reason == "removed")).first()
        if removed is not None:
            return "removed"
        marked = connection.execute(update(moves).where(
            moves.c.id == move.id, moves.c.joined_at.is_(None)).values(joined_at=moment))
        if marked.rowcount != 1:
            return "already"  # joined before, or by a second click racing this one
        mover = load_person(connection, move.person_id)  # the log names them as who did it
        grant_role(connection, move.person_id, "member", move.to_city, moment, by=mover,
                   note=f"déménagement depuis {move.from_city}")
        if revoke_role(connection, move.person_id, "member", move.from_city, by=mover,
                       note=f"déménagement vers {move.to_city}", now=moment):
            connection.execute(insert(former_members).values(
                person_id=move.person_id, city=move.from_city, left_at=moment,
                reason="moved", moved_to=move.to_city))
    return "joined"
