"""The team pages of the web editor: `/editeur/<city>/equipe` (the city's responsables and
rédacteur·rice·s, invite, take a role away) and `/editeur/<city>/equipe/passer-la-main`
(the outgoing admin's guided handover).

Only the city's admins and the national webmaster get in (`require_role(…, "admin",
city)`, on every request); reporters, members and strangers get a 403, signed-out visitors
the sign-in form. Every change is a POST checked by `protected_form`, made in one
transaction by team.py, which holds the rules (the last admin of a city stays).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import City
from avf.service.accounts import InvalidEmail, normalize_email
from avf.service.cities import render_city_page
from avf.service.csrf import protected_form
from avf.service.form_text import one_line
from avf.service.member_admin import admin_of_city, inviter_for, refusal_as_page
from avf.service.member_forms import EMAIL_MAX, NAME_MAX
from avf.service.membership import MembershipError
from avf.service.people import ROLE_LABELS, Person
from avf.service.ratelimit import Limit, RateLimiter
from avf.service.runtime import runtime
from avf.service.team import (
    TEAM_ROLES,
    TeamInvitation,
    check_removal,
    hand_over,
    invite_to_team,
    remove_from_team,
    successors,
    team_of,
)

INVITES = Limit("team-invite", attempts=20, window=timedelta(days=1))  # per admin
DONE = {  # what the team page says after a change (`?fait=…`): fixed texts
    "invite": "C'est fait : l'invitation est partie par email. Le lien est valable 7 jours.",
    "retire": "C'est fait : le rôle est retiré, dès maintenant.",
}
TOO_MANY = ("Vous avez envoyé beaucoup d'invitations aujourd'hui : pour protéger les "
            "adresses de chacun, attendez demain, ou demandez au webmaster national.")
ROLE_CHOICES = [("reporter", "Rédacteur·rice : écrit des articles, qu'un·e responsable "
                             "publie"),
                ("admin", "Responsable : publie, gère les pages, la fiche et l'équipe")]
BACK = {"equipe": "", "passer-la-main": "/passer-la-main"}  # where a posted invite returns


# --- The team page --------------------------------------------------------------------

def team_page(request: Request) -> Response:
    city, person = admin_of_city(request)
    return _team_page(request, city, person,
                      done=DONE.get(request.query_params.get("fait", ""), ""))


def _team_page(request: Request, city: City, person: Person, done: str = "",
               form: InviteForm | None = None, status_code: int = 200) -> Response:
    with runtime(request).engine.connect() as connection:
        team = team_of(connection, city.slug)
    return editor_page(request, city, "service/editor/team.html", {
        "team": team, "done": done, "me": person, "invite": form or InviteForm(),
        "role_choices": ROLE_CHOICES}, status_code=status_code)


# --- Invite ---------------------------------------------------------------------------

async def invite(request: Request) -> Response:
    city, person = admin_of_city(request)
    form = await protected_form(request)
    return await run_in_threadpool(_invite, request, city, person, form)


def _invite(request: Request, city: City, person: Person, posted: FormData) -> Response:
    back = str(posted.get("retour") or "equipe")
    back = back if back in BACK else "equipe"
    form = read_team_invitation(posted)
    invitation = form.invitation
    state = runtime(request)
    refused = ""
    if invitation is not None:
        limiter = RateLimiter(state.engine, state.settings.secret_key)
        if not limiter.allow(INVITES, f"{person.id}"):
            refused = TOO_MANY
    if invitation is not None and not refused:
        try:
            with state.engine.begin() as connection:
                invite_to_team(connection, invitation, inviter_for(request, city, person))
        except MembershipError as problem:
            refused = problem.message
        else:
            state.mail.wake()
            return RedirectResponse(f"/editeur/{city.slug}/equipe{BACK[back]}?fait=invite",
                                    status_code=303)
    status = 429 if refused == TOO_MANY else 409 if refused else 400
    shown = replace(form, refused=refused)
    if back == "passer-la-main":
        return _handover_page(request, city, person, form=shown, status_code=status)
    return _team_page(request, city, person, form=shown, status_code=status)


@dataclass(frozen=True)
class InviteForm:
    """The invite form as shown: what was typed, what to fix (French, per field), why it
    was refused; and the invitation when there was nothing to fix."""

    values: dict[str, str] = field(
        default_factory=lambda: {"nom": "", "email": "", "role": "reporter"})
    errors: dict[str, str] = field(default_factory=dict)
    refused: str = ""
    invitation: TeamInvitation | None = None


def read_team_invitation(posted: FormData) -> InviteForm:
    """The posted invite form, checked."""
    values = {"nom": one_line(posted.get("nom"))[:NAME_MAX + 1],
              "email": one_line(posted.get("email"))[:EMAIL_MAX + 1],
              "role": one_line(posted.get("role"))}
    errors: dict[str, str] = {}
    if not values["nom"]:
        errors["nom"] = "Indiquez son nom."
    elif len(values["nom"]) > NAME_MAX:
        errors["nom"] = f"Trop long : {NAME_MAX} caractères au plus."
    email = ""
    if not values["email"]:
        errors["email"] = "Indiquez son adresse email."
    else:
        try:
            email = normalize_email(values["email"])
        except InvalidEmail as problem:
            errors["email"] = f"{problem}."
    if values["role"] not in TEAM_ROLES:
        errors["role"] = "Choisissez son rôle : rédacteur·rice ou responsable."
    if errors:
        return InviteForm(values, errors)
    return InviteForm(values, errors, invitation=TeamInvitation(
        name=values["nom"], email=email, role=values["role"]))


# --- Take a role away ---------------------------------------------------------------------

def removal_page(request: Request) -> Response:
    city, person = admin_of_city(request)
    role = request.query_params.get("role", "")
    with runtime(request).engine.connect() as connection:
        volunteer = refusal_as_page(check_removal, connection, person, city.slug,
                                     request.path_params["person"], role)
    return editor_page(request, city, "service/editor/team_remove.html", {
        "volunteer": volunteer, "role": role, "role_label": ROLE_LABELS[role],
        "me": person})


async def remove(request: Request) -> Response:
    city, person = admin_of_city(request)
    form = await protected_form(request)
    return await run_in_threadpool(_remove, request, city, person, str(form.get("role") or ""))


def _remove(request: Request, city: City, person: Person, role: str) -> Response:
    with runtime(request).engine.begin() as connection:
        refusal_as_page(remove_from_team, connection, person, city.slug,
                         request.path_params["person"], role)
    if person.id == request.path_params["person"] and role == "admin" \
            and not person.is_webmaster:
        # Their own admin role gone, the team page is no longer theirs.
        return RedirectResponse(f"/editeur/{city.slug}/", status_code=303)
    return RedirectResponse(f"/editeur/{city.slug}/equipe?fait=retire", status_code=303)


# --- Hand over ------------------------------------------------------------------------------

def handover_page(request: Request) -> Response:
    city, person = admin_of_city(request)
    return _handover_page(request, city, person,
                          done=DONE.get(request.query_params.get("fait", ""), ""))


def _handover_page(request: Request, city: City, person: Person, done: str = "",
                   form: InviteForm | None = None, status_code: int = 200) -> Response:
    with runtime(request).engine.connect() as connection:
        newcomers = successors(connection, city.slug, person.id)
    outgoing = (city.slug, "admin") in person.roles
    return editor_page(request, city, "service/editor/handover.html", {
        "newcomers": newcomers, "ready": any(one.has_signed_in for one in newcomers),
        "outgoing": outgoing, "done": done, "me": person,
        "invite": form or InviteForm(values={"nom": "", "email": "", "role": "admin"}),
        "role_choices": ROLE_CHOICES}, status_code=status_code)


async def hand_over_city(request: Request) -> Response:
    city, person = admin_of_city(request)
    form = await protected_form(request)
    return await run_in_threadpool(_hand_over, request, city, person,
                                   form.get("rester_redacteur") == "1")


def _hand_over(request: Request, city: City, person: Person, stay_reporter: bool) -> Response:
    state = runtime(request)
    with state.engine.begin() as connection:
        ready = refusal_as_page(hand_over, connection, person, inviter_for(request, city, person),
                                 stay_reporter)
    state.mail.wake()
    return editor_page(request, city, "service/editor/handover_done.html", {
        "successors": ready, "stay_reporter": stay_reporter})


# --- Shared ---------------------------------------------------------------------------------

def editor_page(request: Request, city: City, template: str, context: dict[str, object],
            status_code: int = 200) -> Response:
    return render_city_page(request, city, template, {**context, "editor_city": city.slug},
                            status_code=status_code)


routes = [
    Route("/editeur/{city}/equipe", team_page, methods=["GET"]),
    Route("/editeur/{city}/equipe/inviter", invite, methods=["POST"]),
    Route("/editeur/{city}/equipe/{person:int}/retirer", removal_page, methods=["GET"]),
    Route("/editeur/{city}/equipe/{person:int}/retirer", remove, methods=["POST"]),
    Route("/editeur/{city}/equipe/passer-la-main", handover_page, methods=["GET"]),
    Route("/editeur/{city}/equipe/passer-la-main", hand_over_city, methods=["POST"]),
]
