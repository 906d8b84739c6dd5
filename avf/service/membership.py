"""Who belongs to a city, changed by its admins: invite, suspend, reinstate, remove.

Every function takes the caller's connection, so that an invitation (person, role, profile,
link, mail) or a whole imported list is written in one transaction, or not at all.
Membership is a person's roles in the city (`member`, or `reporter`/`admin`, which include
it); suspending or removing acts on all of them, so a suspended volunteer cannot keep
reading the members' area through a second role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select, update

from avf.mail import queue_mail
from avf.service.accounts import find_or_create_person, grant_role, person_id_for, revoke_role
from avf.service.magiclinks import INVITATION_LIFETIME, issue_link_token
from avf.service.member_forms import Invitee
from avf.service.people import Person
from avf.service.role_log import record_role_change
from avf.store.schema import NETWORK, former_members, moves, people, profiles, roles
from avf.theme.filters import date_fr

INVITATION_DAYS = INVITATION_LIFETIME.days


class MembershipError(Exception):
    """A change an admin asked for cannot be made; the message says why, in French."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AlreadyMember(MembershipError):
    status_code = 409


class NotAMember(MembershipError):
    status_code = 404


class NotAllowed(MembershipError):
    status_code = 403


@dataclass(frozen=True)
class Inviter:
    """Who brings people into a city, as the invitation mail names them."""

    city: str  # slug
    city_name: str  # « AVF Lyon »
    name: str  # the admin's own name; "" to sign as the city
    public_url: str  # where the link points, without a trailing slash
    by: Person | None = None  # who invites, for the log of role changes


def held_roles(connection: Connection, person_id: int, city: str) -> dict[str, datetime | None]:
    """The person's roles in `city`, each with when it was suspended (None: active)."""
    return {row.role: row.suspended_at for row in connection.execute(
        select(roles.c.role, roles.c.suspended_at)
        .where(roles.c.person_id == person_id, roles.c.city == city))}


def why_not_invited(connection: Connection, email: str, city: str) -> str | None:
    """Why an imported address is left out (French), or None to invite it: people who
    belong already, and people who left or were removed (an old spreadsheet must not bring
    back someone an admin removed; inviting them one by one still can)."""
    person_id = person_id_for(connection, email)
    if person_id is None:
        return None
    held = held_roles(connection, person_id, city)
    if held:
        suspended = any(moment is not None for moment in held.values())
        return "déjà adhérent·e, suspendu·e" if suspended else "déjà adhérent·e"
    left = connection.execute(
        select(former_members.c.left_at, former_members.c.reason)
        .where(former_members.c.person_id == person_id, former_members.c.city == city)
        .order_by(former_members.c.left_at.desc())).first()
    if left is None:
        return None
    how = "retiré·e de la liste" if left.reason == "removed" else "a quitté la ville"
    return (f"{how} le {date_fr(left.left_at)} : si c'est voulu, invitez cette personne "
            "depuis « Inviter un·e adhérent·e »")


def invite(connection: Connection, invitee: Invitee, inviter: Inviter,
           requested: bool = False, now: datetime | None = None) -> int:
    """Make `invitee` a member of the city and queue their invitation (a sign-in link valid
    INVITATION_DAYS days, that opens the members' area); return the person's id.
    AlreadyMember, with nothing changed, when they hold a role in the city.

    A person already known (a member elsewhere, someone who moved) keeps the name they
    chose; their phone and interests are only filled in, never erased.
    """
    moment = now or datetime.now(UTC)
    known = person_id_for(connection, invitee.email)
    if known is not None and held_roles(connection, known, inviter.city):
        raise AlreadyMember(f"{invitee.email} fait déjà partie des adhérent·es de "
                            f"{inviter.city_name} : rien n'a été changé.")
    keeps_name = known is not None and bool(connection.execute(
        select(people.c.display_name).where(people.c.id == known)).scalar())
    person_id, _ = find_or_create_person(connection, invitee.email,
                                         "" if keeps_name else invitee.name, now=moment)
    grant_role(connection, person_id, "member", inviter.city, now=moment, by=inviter.by,
               action="invited", note="demande d'adhésion acceptée" if requested else "")
    _fill_profile(connection, person_id, invitee, moment)
    token = issue_link_token(connection, person_id, next_path=f"/membres/{inviter.city}/",
                             now=moment, lifetime=INVITATION_LIFETIME)
    # Never the invitee's name: it may have been typed by a visitor (a join request).
    queue_mail(connection, kind="member_invitation", to=invitee.email, now=moment, context={
        "city_name": inviter.city_name, "inviter": inviter.name, "requested": requested,
        "link": f"{inviter.public_url}/compte/lien/{token}", "days": INVITATION_DAYS,
        "members_url": f"{inviter.public_url}/membres/{inviter.city}/"})
    return person_id


def invite_many(connection: Connection, invitees: list[Invitee], inviter: Inviter,
                now: datetime | None = None) -> tuple[list[Invitee], list[tuple[Invitee, str]]]:
    """Invite each of `invitees` not left out by `why_not_invited`: (invited, (skipped,
    why)). The caller's one transaction holds them all."""
    invited: list[Invitee] = []
    skipped: list[tuple[Invitee, str]] = []
    for invitee in invitees:
        reason = why_not_invited(connection, invitee.email, inviter.city)
        if reason is not None:
            skipped.append((invitee, reason))
            continue
        invite(connection, invitee, inviter, now=now)
        invited.append(invitee)
    return invited, skipped


def suspend(connection: Connection, actor: Person, person_id: int, city: str,
            now: datetime | None = None) -> None:
    """Suspend every role of the person in `city`: from their next request, they are no
    longer a member there (accounts.load_person ignores suspended roles)."""
    held = _check_may_act(connection, actor, person_id, city, "suspendre")
    moment = now or datetime.now(UTC)
    connection.execute(update(roles).where(
        roles.c.person_id == person_id, roles.c.city == city, roles.c.suspended_at.is_(None))
        .values(suspended_at=moment))
    for role, suspended_at in held.items():
        if suspended_at is None:
            record_role_change(connection, city, person_id, role, "suspended", by=actor,
                               now=moment)


def reinstate(connection: Connection, actor: Person, person_id: int, city: str,
              now: datetime | None = None) -> None:
    """Lift a suspension: the person's roles in `city` count again from their next request."""
    held = _check_may_act(connection, actor, person_id, city, "rétablir")
    connection.execute(update(roles).where(roles.c.person_id == person_id, roles.c.city == city)
                       .values(suspended_at=None))
    for role, suspended_at in held.items():
        if suspended_at is not None:
            record_role_change(connection, city, person_id, role, "reinstated", by=actor,
                               now=now)


def remove(connection: Connection, actor: Person, person_id: int, city: str,
           now: datetime | None = None) -> None:
    """Take every role of the person in `city` away and keep a trace in `former_members`
    (reason "removed"); their account, and roles elsewhere, stay."""
    held = _check_may_act(connection, actor, person_id, city, "retirer")
    for role in held:
        revoke_role(connection, person_id, role, city, by=actor,
                    note="retiré·e de la liste des adhérents", now=now)
    connection.execute(insert(former_members).values(
        person_id=person_id, city=city, left_at=now or datetime.now(UTC), reason="removed"))
    # A move recorded from this city can no longer carry them anywhere (moves.py checks it
    # too): their pending moves from here are dropped.
    connection.execute(delete(moves).where(moves.c.person_id == person_id,
                                           moves.c.from_city == city,
                                           moves.c.joined_at.is_(None)))


def _check_may_act(connection: Connection, actor: Person, person_id: int, city: str,
                   verb: str) -> dict[str, datetime | None]:
    """The target's roles in `city`, if `actor` may change them: a city's admin (or the
    webmaster), never on themself; a city admin never on another admin of the city nor
    on the webmaster, whom only the webmaster may change."""
    if not actor.can("admin", city):
        raise NotAllowed("Seul·es les responsables de cette ville peuvent gérer ses adhérent·es.")
    if person_id == actor.id:
        raise NotAllowed(f"Vous ne pouvez pas vous {verb} vous-même : demandez-le à un·e autre "
                         "responsable, ou au webmaster national.")
    held = held_roles(connection, person_id, city)
    if not held:
        raise NotAMember("Cette personne ne fait pas (ou plus) partie des adhérent·es de cette "
                         "ville.")
    if actor.is_webmaster:
        return held
    webmaster = connection.execute(select(roles.c.id).where(
        roles.c.person_id == person_id, roles.c.city == NETWORK,
        roles.c.role == "webmaster")).first()
    if webmaster is not None:
        raise NotAllowed(f"Le webmaster national ne peut pas être {_participle(verb)} par une "
                         "ville.")
    if "admin" in held:
        raise NotAllowed(f"Cette personne est responsable de la ville : seul le webmaster "
                         f"national peut la {verb}.")
    return held


def _participle(verb: str) -> str:
    return {"suspendre": "suspendu", "rétablir": "rétabli", "retirer": "retiré"}[verb]


def _fill_profile(connection: Connection, person_id: int, invitee: Invitee,
                  now: datetime) -> None:
    """The phone and interests an admin typed, where the profile has none yet."""
    profile = connection.execute(select(profiles.c.phone, profiles.c.interests)
                                 .where(profiles.c.person_id == person_id)).first()
    if profile is None:
        connection.execute(insert(profiles).values(
            person_id=person_id, phone=invitee.phone, interests=invitee.interests,
            updated_at=now))
        return
    changes = {name: value for name, value, kept in (
        ("phone", invitee.phone, profile.phone), ("interests", invitee.interests,
                                                  profile.interests)) if value and not kept}
    if changes:
        connection.execute(update(profiles).where(profiles.c.person_id == person_id)
                           .values(**changes, updated_at=now))
