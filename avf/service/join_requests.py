"""Join requests (« demandes d'adhésion »): a visitor asks to join a city, its admins
approve or decline, the visitor is told by email. Store logic only (routes: join.py for
the visitor, member_admin.py for the admins); every function takes the caller's
connection, so a request and its mails, or a decision and its mail, are one transaction.

No mail quotes what the visitor typed, and none goes to an address they chose with text
they chose: the admins are told "a request waits" with a link, the visitor gets a fixed
acknowledgement. The service must not become a way to send a stranger's words to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from avf.content.model import City
from avf.mail import queue_mail
from avf.service.member_forms import Invitee, JoinRequestForm
from avf.service.membership import AlreadyMember, Inviter, MembershipError, invite
from avf.service.people import Person
from avf.store.schema import join_requests, people, roles
from avf.theme.filters import date_fr

PENDING, APPROVED, DECLINED = "pending", "approved", "declined"
NOT_FOUND = "Cette demande d'adhésion n'existe pas (ou plus)."


class RequestNotFound(MembershipError):
    status_code = 404


class AlreadyDecided(MembershipError):
    status_code = 409


@dataclass(frozen=True)
class JoinRequest:
    id: int
    city: str
    name: str
    email: str
    phone: str
    message: str
    created_at: datetime
    status: str
    decided_at: datetime | None

    @property
    def invitee(self) -> Invitee:
        return Invitee(name=self.name, email=self.email, phone=self.phone)


def ask_to_join(connection: Connection, city: City, form: JoinRequestForm, public_url: str,
                now: datetime | None = None) -> bool:
    """Keep the request and queue its mails (the city's admins, the visitor); False, with
    nothing written nor sent, when this address already waits for an answer from this
    city (asking twice must not mail anyone twice)."""
    moment = now or datetime.now(UTC)
    email = form.invitee.email
    waiting = connection.execute(select(join_requests.c.id).where(
        join_requests.c.city == city.slug, join_requests.c.email == email,
        join_requests.c.status == PENDING)).first()
    if waiting is not None:
        return False
    connection.execute(insert(join_requests).values(
        city=city.slug, name=form.invitee.name, email=email, phone=form.invitee.phone,
        message=form.message, created_at=moment, status=PENDING))
    manage_url = f"{public_url}/membres/{city.slug}/gestion/"
    admins = city_admins(connection, city.slug)
    for address in admins or ([city.email] if city.email else []):
        queue_mail(connection, kind="join_request_admin", to=address, now=moment, context={
            "city_name": city.name, "manage_url": manage_url, "to_admin": bool(admins)})
    queue_mail(connection, kind="join_request_ack", to=email, now=moment, context={
        "city_name": city.name, "phone": city.phone or "",
        "hours": " ; ".join(city.opening_hours), "site_url": f"{public_url}/{city.slug}/"})
    return True


def city_admins(connection: Connection, city: str) -> list[str]:
    """The addresses of the city's admins (suspended ones left out), who hear of a new
    request; a city with none yet hears of it at its welcome team's address (city.yaml)."""
    return list(connection.execute(
        select(people.c.email).join(roles, roles.c.person_id == people.c.id)
        .where(roles.c.city == city, roles.c.role == "admin", roles.c.suspended_at.is_(None))
        .order_by(people.c.email)).scalars())


def pending_requests(connection: Connection, city: str) -> list[JoinRequest]:
    """The city's requests waiting for an answer, the oldest first."""
    rows = connection.execute(select(join_requests).where(
        join_requests.c.city == city, join_requests.c.status == PENDING)
        .order_by(join_requests.c.created_at, join_requests.c.id)).mappings().all()
    return [_request(row) for row in rows]


def find_request(connection: Connection, request_id: int, city: str) -> JoinRequest | None:
    """The request `request_id` of `city`, whatever its status; None if it is not one of
    this city's (an admin of Lyon cannot read Paris's requests by changing the number)."""
    row = connection.execute(select(join_requests).where(
        join_requests.c.id == request_id, join_requests.c.city == city)).mappings().first()
    return None if row is None else _request(row)


def approve(connection: Connection, request_id: int, actor: Person, inviter: Inviter,
            now: datetime | None = None) -> bool:
    """Accept the request: the visitor becomes a member and gets their invitation. False
    when they were a member already (the request is closed, no mail is sent)."""
    moment = now or datetime.now(UTC)
    request = _decide(connection, request_id, inviter.city, APPROVED, actor, moment)
    try:
        invite(connection, request.invitee, inviter, requested=True, now=moment)
    except AlreadyMember:
        return False
    return True


def decline(connection: Connection, request_id: int, actor: Person, city: City, reason: str,
            public_url: str, now: datetime | None = None) -> None:
    """Decline the request and tell the visitor politely, with the admin's reason if they
    gave one (an admin is a trusted volunteer of the city, never the visitor)."""
    moment = now or datetime.now(UTC)
    request = _decide(connection, request_id, city.slug, DECLINED, actor, moment)
    queue_mail(connection, kind="join_request_declined", to=request.email, now=moment,
               context={"city_name": city.name, "reason": reason, "phone": city.phone or "",
                        "site_url": f"{public_url}/{city.slug}/"})


def _decide(connection: Connection, request_id: int, city: str, status: str, actor: Person,
            now: datetime) -> JoinRequest:
    """Close a pending request of `city` with `status`, once: one conditional UPDATE, so two
    admins answering at the same moment cannot both succeed."""
    request = find_request(connection, request_id, city)
    if request is None:
        raise RequestNotFound(NOT_FOUND)
    closed = connection.execute(update(join_requests).where(
        join_requests.c.id == request_id, join_requests.c.status == PENDING)
        .values(status=status, decided_by=actor.id, decided_at=now))
    if closed.rowcount != 1:
        decided = connection.execute(select(join_requests.c.status, join_requests.c.decided_at)
                                     .where(join_requests.c.id == request_id)).one()
        answer = "acceptée" if decided.status == APPROVED else "refusée"
        when = f" le {date_fr(decided.decided_at)}" if decided.decided_at else ""
        raise AlreadyDecided(f"Cette demande a déjà reçu une réponse : elle a été "
                             f"{answer}{when}. Rien n'a été changé.")
    return request


def _request(row: object) -> JoinRequest:
    values = dict(row)  # type: ignore[call-overload]
    return JoinRequest(id=values["id"], city=values["city"], name=values["name"],
                       email=values["email"], phone=values["phone"], message=values["message"],
                       created_at=values["created_at"], status=values["status"],
                       decided_at=values["decided_at"])
