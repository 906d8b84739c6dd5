"""A city's team of volunteers (its responsables and rédacteur·rice·s), changed by its
admins: invite someone into the team, take a role away, hand the city over to a new team.

Teams change every three years or so; the rules keep a city from ever being left without
an admin by one of its own: a city admin cannot take away the last active admin role of the
city (their own included) — only the webmaster can. Every change goes through
accounts.grant_role / revoke_role, so it is in the log of role changes (role_log), made by
the person who asked, in the caller's transaction (with the mails it queues).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from avf.mail import queue_mail
from avf.service.accounts import find_or_create_person, grant_role, person_id_for, revoke_role
from avf.service.magiclinks import INVITATION_LIFETIME, issue_link_token
from avf.service.membership import Inviter, MembershipError, NotAllowed, NotAMember, held_roles
from avf.service.people import ROLE_LABELS, Person
from avf.service.role_log import name_of
from avf.store.schema import NETWORK, people, roles

TEAM_ROLES = ("admin", "reporter")  # the roles the team page gives and takes
STAYS_MEMBER = "reste adhérent·e"


class AlreadyOnTeam(MembershipError):
    status_code = 409


class NotReady(MembershipError):
    status_code = 409


@dataclass(frozen=True)
class Volunteer:
    """One person of the team as the team page shows them."""

    person_id: int
    name: str
    email: str
    roles: frozenset[str]  # their team roles in the city (admin, reporter)
    suspended: bool
    granted_at: datetime  # when they got their highest team role
    last_seen_at: datetime | None

    @property
    def role(self) -> str:
        return "admin" if "admin" in self.roles else "reporter"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def has_signed_in(self) -> bool:
        return self.last_seen_at is not None


@dataclass(frozen=True)
class TeamInvitation:
    name: str
    email: str  # normalized
    role: str  # one of TEAM_ROLES


def team_of(connection: Connection, city: str) -> list[Volunteer]:
    """The city's admins then its reporters, each by name (suspended ones included)."""
    rows = connection.execute(
        select(people.c.id, people.c.display_name, people.c.email, people.c.last_seen_at,
               roles.c.role, roles.c.granted_at, roles.c.suspended_at)
        .join(roles, roles.c.person_id == people.c.id)
        .where(roles.c.city == city, roles.c.role.in_(TEAM_ROLES))).all()
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row.id, []).append(row)
    team = []
    for person_id, held in found.items():
        first = held[0]
        best = min(held, key=lambda row: TEAM_ROLES.index(row.role))
        team.append(Volunteer(
            person_id=person_id, name=first.display_name or first.email, email=first.email,
            roles=frozenset(row.role for row in held),
            suspended=any(row.suspended_at is not None for row in held),
            granted_at=best.granted_at, last_seen_at=first.last_seen_at))
    return sorted(team, key=lambda one: (TEAM_ROLES.index(one.role), one.name.lower()))


def invite_to_team(connection: Connection, invitation: TeamInvitation, inviter: Inviter,
                   now: datetime | None = None) -> int:
    """Give the invited person their role in the team (their account created if needed)
    and queue a 7-day sign-in link that opens the city's editor; return their id.
    AlreadyOnTeam, nothing changed, when they hold that role (or more) already."""
    actor = _admin_acting(inviter)
    moment = now or datetime.now(UTC)
    if invitation.role not in TEAM_ROLES:
        raise NotAllowed("Ce rôle ne se donne pas depuis la page de l'équipe.")
    known = person_id_for(connection, invitation.email)
    held = held_roles(connection, known, inviter.city) if known is not None else {}
    if any(suspended is not None for suspended in held.values()):
        raise AlreadyOnTeam(f"{invitation.email} est suspendu·e à {inviter.city_name} : "
                            "rétablissez d'abord cette personne dans la gestion des "
                            "adhérents. Rien n'a été changé.")
    if invitation.role in held or (invitation.role == "reporter" and "admin" in held):
        raise AlreadyOnTeam(f"{invitation.email} est déjà "
                            f"{ROLE_LABELS[_highest(held)].lower()} de {inviter.city_name} : "
                            "rien n'a été changé.")
    keeps_name = known is not None and bool(connection.execute(
        select(people.c.display_name).where(people.c.id == known)).scalar())
    person_id, _ = find_or_create_person(connection, invitation.email,
                                         "" if keeps_name else invitation.name, now=moment)
    grant_role(connection, person_id, invitation.role, inviter.city, now=moment, by=actor,
               action="invited")
    token = issue_link_token(connection, person_id, next_path=f"/editeur/{inviter.city}/",
                             now=moment, lifetime=INVITATION_LIFETIME)
    queue_mail(connection, kind="team_invitation", to=invitation.email, now=moment, context={
        "city_name": inviter.city_name, "inviter": inviter.name,
        "role": ROLE_LABELS[invitation.role].lower(), "is_admin": invitation.role == "admin",
        "link": f"{inviter.public_url}/compte/lien/{token}",
        "days": INVITATION_LIFETIME.days, **_urls(inviter)})
    return person_id


def check_removal(connection: Connection, actor: Person, city: str, person_id: int,
                  role: str) -> Volunteer:
    """The volunteer whose `role` `actor` wants to take away, if they may: a city admin
    (or the webmaster), never on the webmaster, and never taking away the city's last
    active admin role — which only the webmaster may do."""
    if not actor.can("admin", city):
        raise NotAllowed("Seul·es les responsables de cette ville peuvent gérer son équipe.")
    found = next((one for one in team_of(connection, city)
                  if one.person_id == person_id and role in one.roles), None)
    if role not in TEAM_ROLES or found is None:
        raise NotAMember("Cette personne n'a pas (ou plus) ce rôle dans l'équipe.")
    if actor.is_webmaster:
        return found
    if _is_webmaster(connection, person_id):
        raise NotAllowed("Le rôle du webmaster national ne peut pas être retiré par une ville.")
    if role == "admin" and not _other_active_admins(connection, city, person_id):
        if person_id == actor.id:
            raise NotAllowed("Vous êtes le ou la seul·e responsable en activité : invitez "
                             "d'abord votre successeur (« Passer la main »), ou demandez au "
                             "webmaster national.")
        raise NotAllowed("C'est le ou la dernier·ère responsable en activité de la ville : "
                         "seul le webmaster national peut lui retirer ce rôle.")
    return found


def remove_from_team(connection: Connection, actor: Person, city: str, person_id: int,
                     role: str, now: datetime | None = None) -> None:
    """Take `role` away (check_removal's rules); someone left with no role in the city
    stays one of its members."""
    check_removal(connection, actor, city, person_id, role)
    moment = now or datetime.now(UTC)
    revoke_role(connection, person_id, role, city, by=actor, now=moment)
    _stay_member(connection, person_id, city, actor, moment)


def successors(connection: Connection, city: str, outgoing_id: int) -> list[Volunteer]:
    """The city's other active admins: those the outgoing admin hands the city to."""
    return [one for one in team_of(connection, city)
            if one.person_id != outgoing_id and "admin" in one.roles and not one.suspended]


def hand_over(connection: Connection, outgoing: Person, inviter: Inviter, stay_reporter: bool,
              now: datetime | None = None) -> list[Volunteer]:
    """The outgoing admin gives up their admin role (and their reporter role unless they
    stay one) once a new admin has signed in at least once; the new admins and the
    webmaster are told by mail. Return the new admins who have signed in."""
    city, moment = inviter.city, now or datetime.now(UTC)
    held = held_roles(connection, outgoing.id, city)
    if "admin" not in held or held["admin"] is not None:  # absent, or suspended
        raise NotReady("Vous n'êtes pas responsable en activité de cette ville : vous n'avez "
                       "rien à transmettre.")
    ready = [one for one in successors(connection, city, outgoing.id) if one.has_signed_in]
    if not ready:
        raise NotReady("Aucun·e des nouveaux·elles responsables ne s'est encore connecté·e : "
                       "attendez qu'au moins une personne ait ouvert le lien reçu par email "
                       "(étape 2), puis revenez ici.")
    note = "passe la main à " + ", ".join(one.name for one in ready)
    revoke_role(connection, outgoing.id, "admin", city, by=outgoing, action="handed_over",
                note=note, now=moment)
    if stay_reporter:
        grant_role(connection, outgoing.id, "reporter", city, moment, by=outgoing,
                   note="reste rédacteur·rice après avoir passé la main")
    else:
        revoke_role(connection, outgoing.id, "reporter", city, by=outgoing,
                    action="handed_over", note=note, now=moment)
    _stay_member(connection, outgoing.id, city, outgoing, moment)
    context = {"city_name": inviter.city_name, "outgoing": name_of(outgoing),
               "successors": [one.name for one in ready], **_urls(inviter)}
    for one in successors(connection, city, outgoing.id):
        queue_mail(connection, kind="team_handover", to=one.email, now=moment,
                   context=context)
    for address in _webmasters(connection):
        queue_mail(connection, kind="team_handover_webmaster", to=address, now=moment,
                   context=context)
    return ready


def _admin_acting(inviter: Inviter) -> Person:
    if inviter.by is None or not inviter.by.can("admin", inviter.city):
        raise NotAllowed("Seul·es les responsables de cette ville peuvent gérer son équipe.")
    return inviter.by


def _urls(inviter: Inviter) -> dict[str, str]:
    base = inviter.public_url
    return {"editor_url": f"{base}/editeur/{inviter.city}/", "help_url": f"{base}/editeur/aide/",
            "journal_url": f"{base}/editeur/{inviter.city}/journal",
            "team_url": f"{base}/editeur/{inviter.city}/equipe"}


def _highest(held: dict[str, datetime | None]) -> str:
    return next(role for role in ("admin", "reporter", "member") if role in held)


def _stay_member(connection: Connection, person_id: int, city: str, by: Person,
                 now: datetime) -> None:
    """Someone who leaves the team keeps belonging to the association."""
    if not held_roles(connection, person_id, city):
        grant_role(connection, person_id, "member", city, now, by=by, note=STAYS_MEMBER)


def _other_active_admins(connection: Connection, city: str, person_id: int) -> bool:
    return connection.execute(select(roles.c.id).where(
        roles.c.city == city, roles.c.role == "admin", roles.c.suspended_at.is_(None),
        roles.c.person_id != person_id)).first() is not None


def _is_webmaster(connection: Connection, person_id: int) -> bool:
    return connection.execute(select(roles.c.id).where(
        roles.c.person_id == person_id, roles.c.city == NETWORK,
        roles.c.role == "webmaster")).first() is not None


def _webmasters(connection: Connection) -> list[str]:
    return list(connection.execute(
        select(people.c.email).join(roles, roles.c.person_id == people.c.id)
        .where(roles.c.city == NETWORK, roles.c.role == "webmaster",
               roles.c.suspended_at.is_(None)).order_by(people.c.email)).scalars())
