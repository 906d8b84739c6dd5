"""Routes of `/compte/`: ask for a sign-in link, use it, see one's account, sign out.

The flow itself is in signin.py, the guards other parts use in permissions.py. Handlers
that touch the store are plain functions (Starlette runs them in its thread pool); a POST
checks its form (CSRF) first, then does the same.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.service.accounts import InvalidEmail, normalize_email
from avf.service.csrf import protected_form
from avf.service.magiclinks import LIFETIME, link_is_usable, local_path
from avf.service.people import ROLE_LABELS, ROLES, Person
from avf.service.permissions import require_person
from avf.service.ratelimit import RateLimiter
from avf.service.runtime import Runtime, runtime
from avf.service.sessions import SessionCookie
from avf.service.signin import PER_ADDRESS, PER_IP, LinkSender, sign_in_with_link, sign_out
from avf.store.schema import NETWORK

# The token is in the link page's URL: it must never reach another site in a Referer. Not
# `no-referrer`: browsers then send `Origin: null` with the page's own form (Fetch
# standard), which the CSRF check rightly refuses, and « Me connecter » would fail.
TOKEN_PAGE_REFERRER = "same-origin"
TOO_MANY = ("Trop de demandes de lien de connexion en peu de temps. Par sécurité, patientez "
            "jusqu'à une heure avant de réessayer. Un lien déjà reçu par email reste valable "
            f"{int(LIFETIME.total_seconds() // 60)} minutes.")


def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request, local_path(request.query_params.get("suivant")))


async def ask_for_link(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_ask_for_link, request, form)


def _ask_for_link(request: Request, form: FormData) -> Response:
    state = runtime(request)
    next_path = local_path(str(form.get("suivant") or ""))
    typed = str(form.get("email") or "")
    limiter = RateLimiter(state.engine, state.settings.secret_key)
    if not limiter.allow(PER_IP, request.client.host if request.client else "?"):
        raise HTTPException(429, TOO_MANY, headers={"Retry-After": "900"})
    try:
        email = normalize_email(typed)
    except InvalidEmail as error:
        return _sign_in_page(request, next_path, typed, str(error), status_code=400)
    if not limiter.allow(PER_ADDRESS, email):
        raise HTTPException(429, TOO_MANY, headers={"Retry-After": "3600"})
    # Looked up and sent by another thread, so that no timing tells a known address.
    link_sender(request).submit(email, next_path)
    return state.templates.render(request, "service/link_sent.html", {
        "email": email, "minutes": int(LIFETIME.total_seconds() // 60)})


def link_sender(request: Request) -> LinkSender:
    return request.app.state.link_sender  # type: ignore[no-any-return]


def confirm_link(request: Request) -> Response:
    """The page the emailed link opens: a button to sign in (the token is not spent)."""
    state = runtime(request)
    with state.engine.connect() as connection:
        usable = link_is_usable(connection, request.path_params["token"])
    if not usable:
        return _invalid_link(request)
    response = state.templates.render(request, "service/link_confirm.html",
                                      {"action": request.url.path})
    response.headers["Referrer-Policy"] = TOKEN_PAGE_REFERRER
    return response


async def use_link(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_use_link, request)


def _use_link(request: Request) -> Response:
    state = runtime(request)
    signed_in = sign_in_with_link(state.engine, request.path_params["token"],
                                  replaces=request.state.session_id)
    if signed_in is None:
        return _invalid_link(request)
    response = RedirectResponse(signed_in.next_path, status_code=303)
    _cookie(state).set(response, signed_in.session_id)
    return response


def account(request: Request) -> Response:
    person = require_person(request)
    state = runtime(request)
    return state.templates.render(request, "service/account.html", {
        "places": _roles_by_place(person, state), "roles_count": len(person.roles)})


async def sign_out_now(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_sign_out, request)


def _sign_out(request: Request) -> Response:
    state = runtime(request)
    if request.state.session_id is not None:
        sign_out(state.engine, request.state.session_id)
    request.state.person = request.state.session_id = None
    response = state.templates.render(request, "service/signed_out.html")
    _cookie(state).clear(response)
    return response


async def to_account(request: Request) -> Response:
    return RedirectResponse("/compte/", status_code=308)


def _sign_in_page(request: Request, next_path: str, email: str = "", error: str = "",
                  status_code: int = 200) -> Response:
    return runtime(request).templates.render(request, "service/sign_in.html", {
        "next_path": next_path, "email": email, "error": error}, status_code=status_code)


def _invalid_link(request: Request) -> Response:
    response = runtime(request).templates.render(request, "service/link_invalid.html", {
        "minutes": int(LIFETIME.total_seconds() // 60)}, status_code=410)
    response.headers["Referrer-Policy"] = TOKEN_PAGE_REFERRER
    return response


def _roles_by_place(person: Person, state: Runtime) -> list[tuple[str, list[str]]]:
    """("Tout le réseau" or the city's name, role labels), the network first, then cities
    by name."""
    by_city: dict[str, list[str]] = {}
    order = {role: rank for rank, role in enumerate(ROLES)}
    for city, role in sorted(person.roles, key=lambda held: order.get(held[1], len(order))):
        by_city.setdefault(city, []).append(ROLE_LABELS.get(role, role))
    network = [("Tout le réseau", by_city.pop(NETWORK))] if NETWORK in by_city else []
    cities = sorted((state.cities.name(city), labels)
                    for city, labels in by_city.items())
    return network + cities


def _cookie(state: Runtime) -> SessionCookie:
    return SessionCookie(state.settings.secret_key, secure=state.settings.production)


routes = [
    Route("/compte", to_account),
    Route("/compte/", account),
    Route("/compte/connexion", sign_in_form, methods=["GET"]),
    Route("/compte/connexion", ask_for_link, methods=["POST"]),
    Route("/compte/lien/{token}", confirm_link, methods=["GET"]),
    Route("/compte/lien/{token}", use_link, methods=["POST"]),
    Route("/compte/deconnexion", sign_out_now, methods=["POST"]),
]
