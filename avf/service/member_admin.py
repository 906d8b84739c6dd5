"""A city admin's pages (`/membres/<city>/gestion/…`): the members, the join requests
waiting for an answer, the relay log; invite, import, export, suspend, reinstate, remove,
approve, decline.

Only the city's admins and the national webmaster get in (`require_role(…, "admin",
city)`, on every request): others get a 403, signed-out visitors the sign-in form. Every
change is a POST checked by `protected_form` (or `protected_upload` for the import), then
made in one transaction; the rules of who may change whom are membership.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import SLUG_PATTERN, City
from avf.service.cities import city_of_request, city_page_context
from avf.service.csrf import protected_form, protected_upload
from avf.service.join_requests import (
    NOT_FOUND,
    PENDING,
    JoinRequest,
    approve,
    decline,
    find_request,
    pending_requests,
)
from avf.service.member_csv import ListProblem, decode_list, members_csv, read_member_list
from avf.service.member_forms import INVITATION_FIELDS, read_invitation, read_reason
from avf.service.member_roster import city_members, former_members_of, relay_log
from avf.service.membership import (
    AlreadyMember,
    Inviter,
    MembershipError,
    invite,
    invite_many,
    reinstate,
    remove,
    suspend,
)
from avf.service.people import Person
from avf.service.permissions import require_role
from avf.service.runtime import runtime
from avf.theme.filters import PARIS

# What the admin page says after a change (`?fait=…`): fixed texts, never echoed input.
DONE = {
    "invite": "C'est fait : l'invitation est partie par email.",
    "suspendu": "C'est fait : cette personne est suspendue. Elle n'a plus accès à l'espace "
                "adhérents, dès maintenant.",
    "retabli": "C'est fait : cette personne a de nouveau accès à l'espace adhérents.",
    "retire": "C'est fait : cette personne ne fait plus partie des adhérent·es. Elle figure "
              "dans la liste des anciens adhérents.",
    "accepte": "Demande acceptée : l'invitation est partie par email.",
    "deja": "Demande acceptée : cette personne était déjà adhérente, aucune invitation n'a "
            "été envoyée.",
    "refuse": "Demande refusée : la personne en est informée par email.",
}
UNKNOWN_CITY = "Cette ville ne fait pas partie du réseau."
CARD_BROKEN = ("La fiche de cette ville (city.yaml) est momentanément illisible : réessayez "
               "dans quelques minutes, ou prévenez le webmaster national.")


# --- The admin page -------------------------------------------------------------------

def manage_page(request: Request) -> Response:
    city, _ = admin_of_city(request)
    with runtime(request).engine.connect() as connection:
        members = city_members(connection, city.slug)
        context = {
            "members": members,
            "former": former_members_of(connection, city.slug),
            "requests": pending_requests(connection, city.slug),
            "relayed": relay_log(connection, city.slug),
        }
    return _render(request, city, "service/member_admin.html", {
        **context, "done": DONE.get(request.query_params.get("fait", ""), ""),
        "active_count": sum(1 for member in members if not member.suspended_at)})


async def to_manage_page(request: Request) -> Response:
    return RedirectResponse(f"/membres/{request.path_params['city']}/gestion/", status_code=308)


# --- Invite one person -------------------------------------------------------------------

def invitation_form(request: Request) -> Response:
    city, _ = admin_of_city(request)
    return _invitation_page(request, city, dict.fromkeys(INVITATION_FIELDS, ""), {})


async def invite_member(request: Request) -> Response:
    city, person = admin_of_city(request)
    form = await protected_form(request)
    return await run_in_threadpool(_invite_member, request, city, person, form)


def _invite_member(request: Request, city: City, person: Person, posted: FormData) -> Response:
    form, invitee = read_invitation(posted)
    if invitee is None:
        return _invitation_page(request, city, form.values, form.errors, status_code=400)
    state = runtime(request)
    try:
        with state.engine.begin() as connection:
            invite(connection, invitee, inviter_for(request, city, person))
    except AlreadyMember as refused:
        return _invitation_page(request, city, form.values, {}, refused=refused.message,
                                status_code=409)
    state.mail.wake()
    return _back(city, "invite")


def _invitation_page(request: Request, city: City, values: dict[str, str],
                     errors: dict[str, str], refused: str = "",
                     status_code: int = 200) -> Response:
    return _render(request, city, "service/member_invite.html",
                   {"values": values, "errors": errors, "refused": refused},
                   status_code=status_code)


# --- Import a list -----------------------------------------------------------------------

def import_form(request: Request) -> Response:
    city, _ = admin_of_city(request)
    return _render(request, city, "service/member_import.html", {"pasted": ""})


async def import_members(request: Request) -> Response:
    city, person = admin_of_city(request)
    upload = await protected_upload(request)
    pasted = str(upload.fields.get("liste") or "")
    uploaded = upload.files.get("fichier")
    return await run_in_threadpool(_import_members, request, city, person, pasted,
                                   uploaded[1] if uploaded else None)


def _import_members(request: Request, city: City, person: Person, pasted: str,
                    uploaded: bytes | None) -> Response:

    def form_again(problem: str, **context: object) -> Response:
        return _render(request, city, "service/member_import.html",
                       {"pasted": pasted, "problem": problem, **context}, status_code=400)

    if uploaded is not None and pasted.strip():
        return form_again("Vous avez à la fois choisi un fichier et collé une liste : "
                          "gardez l'un ou l'autre, puis importez à nouveau.")
    try:
        member_list = read_member_list(decode_list(uploaded) if uploaded is not None
                                       else pasted)
    except ListProblem as problem:
        return form_again(str(problem))
    if member_list.rejected:
        return form_again("", rejected=member_list.rejected,
                          ignored=member_list.ignored_columns,
                          checked=len(member_list.rows) + len(member_list.rejected))
    state = runtime(request)
    with state.engine.begin() as connection:  # the whole list, or nothing
        invited, skipped = invite_many(connection, [row for _, row in member_list.rows],
                                       inviter_for(request, city, person))
    state.mail.wake()
    lines = {row.email: line for line, row in member_list.rows}
    return _render(request, city, "service/member_import_done.html", {
        "invited": invited, "ignored": member_list.ignored_columns,
        "skipped": [(lines[row.email], row, why) for row, why in skipped]})


# --- Export ------------------------------------------------------------------------------

def export_members(request: Request) -> Response:
    city, _ = admin_of_city(request)
    with runtime(request).engine.connect() as connection:
        members = city_members(connection, city.slug)
    day = datetime.now(UTC).astimezone(PARIS).date().isoformat()
    return Response(members_csv(members), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="adherents-{city.slug}-{day}.csv"',
        "Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"})


# --- Suspend, reinstate, remove ----------------------------------------------------------

async def suspend_member(request: Request) -> Response:
    return await _change(request, suspend, "suspendu")


async def reinstate_member(request: Request) -> Response:
    return await _change(request, reinstate, "retabli")


def removal_page(request: Request) -> Response:
    city, _ = admin_of_city(request)
    person_id = request.path_params["person"]
    with runtime(request).engine.connect() as connection:
        found = city_members(connection, city.slug, person_id)
    if not found:
        raise HTTPException(404, "Cette personne ne fait pas (ou plus) partie des adhérent·es "
                                 "de cette ville.")
    return _render(request, city, "service/member_remove.html", {"member": found[0]})


async def remove_member(request: Request) -> Response:
    return await _change(request, remove, "retire")


async def _change(request: Request, change: Callable[..., None], done: str) -> Response:
    city, person = admin_of_city(request)
    await protected_form(request)
    return await run_in_threadpool(_apply_change, request, city, person, change, done)


def _apply_change(request: Request, city: City, person: Person, change: Callable[..., None],
                  done: str) -> Response:
    with runtime(request).engine.begin() as connection:
        refusal_as_page(change, connection, person, request.path_params["person"], city.slug)
    return _back(city, done)


# --- Join requests -------------------------------------------------------------------------

async def approve_request(request: Request) -> Response:
    city, person = admin_of_city(request)
    await protected_form(request)
    return await run_in_threadpool(_approve_request, request, city, person)


def _approve_request(request: Request, city: City, person: Person) -> Response:
    state = runtime(request)
    with state.engine.begin() as connection:
        invited = refusal_as_page(approve, connection, request.path_params["request"], person,
                                   inviter_for(request, city, person))
    state.mail.wake()
    return _back(city, "accepte" if invited else "deja")


def decline_page(request: Request) -> Response:
    city, _ = admin_of_city(request)
    return _render(request, city, "service/join_decline.html",
                   {"asked": _pending_request(request, city), "reason": ""})


async def decline_request(request: Request) -> Response:
    city, person = admin_of_city(request)
    form = await protected_form(request)
    return await run_in_threadpool(_decline_request, request, city, person, form)


def _decline_request(request: Request, city: City, person: Person,
                     posted: FormData) -> Response:
    reason, problem = read_reason(posted)
    if problem:
        return _render(request, city, "service/join_decline.html", {
            "asked": _pending_request(request, city), "reason": reason, "problem": problem},
            status_code=400)
    state = runtime(request)
    with state.engine.begin() as connection:
        refusal_as_page(decline, connection, request.path_params["request"], person, city,
                         reason, state.settings.public_url)
    state.mail.wake()
    return _back(city, "refuse")


def _pending_request(request: Request, city: City) -> JoinRequest:
    """The request a decline page is about: 404 unless it is this city's, 409 once it has
    been answered."""
    with runtime(request).engine.connect() as connection:
        asked = find_request(connection, request.path_params["request"], city.slug)
    if asked is None:
        raise HTTPException(404, NOT_FOUND)
    if asked.status != PENDING:
        raise HTTPException(409, "Cette demande a déjà reçu une réponse : rien à faire.")
    return asked


# --- Shared --------------------------------------------------------------------------------

def admin_of_city(request: Request) -> tuple[City, Person]:
    """The city of the path and the signed-in person, if they are its admin (or the
    webmaster): sign-in first, then 403, then 404 for a city the network lacks."""
    slug = request.path_params["city"]
    if not SLUG_PATTERN.match(slug):
        raise HTTPException(404, UNKNOWN_CITY)
    person = require_role(request, "admin", slug)
    return city_of_request(request, UNKNOWN_CITY, CARD_BROKEN), person


def refusal_as_page(action: Callable[..., object], *arguments: object) -> object:
    """Run a change; a MembershipError (not allowed, already decided…) becomes the one
    error handler's French page, and the transaction around it is rolled back."""
    try:
        return action(*arguments)
    except MembershipError as refused:
        raise HTTPException(refused.status_code, refused.message) from None


def inviter_for(request: Request, city: City, person: Person) -> Inviter:
    return Inviter(city=city.slug, city_name=city.name, name=person.display_name,
                   public_url=runtime(request).settings.public_url, by=person)


def _back(city: City, done: str) -> Response:
    return RedirectResponse(f"/membres/{city.slug}/gestion/?fait={done}", status_code=303)


def _render(request: Request, city: City, template: str, context: dict[str, object],
            status_code: int = 200) -> Response:
    return runtime(request).templates.render(
        request, template, {**city_page_context(city), **context}, status_code=status_code)


routes = [
    Route("/membres/{city}/gestion", to_manage_page),
    Route("/membres/{city}/gestion/", manage_page),
    Route("/membres/{city}/gestion/inviter", invitation_form, methods=["GET"]),
    Route("/membres/{city}/gestion/inviter", invite_member, methods=["POST"]),
    Route("/membres/{city}/gestion/importer", import_form, methods=["GET"]),
    Route("/membres/{city}/gestion/importer", import_members, methods=["POST"]),
    Route("/membres/{city}/gestion/adherents.csv", export_members),
    Route("/membres/{city}/gestion/adherents/{person:int}/suspendre", suspend_member,
          methods=["POST"]),
    Route("/membres/{city}/gestion/adherents/{person:int}/retablir", reinstate_member,
          methods=["POST"]),
    Route("/membres/{city}/gestion/adherents/{person:int}/retirer", removal_page,
          methods=["GET"]),
    Route("/membres/{city}/gestion/adherents/{person:int}/retirer", remove_member,
          methods=["POST"]),
    Route("/membres/{city}/gestion/demandes/{request:int}/accepter", approve_request,
          methods=["POST"]),
    Route("/membres/{city}/gestion/demandes/{request:int}/refuser", decline_page,
          methods=["GET"]),
    Route("/membres/{city}/gestion/demandes/{request:int}/refuser", decline_request,
          methods=["POST"]),
]
