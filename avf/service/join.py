"""A visitor asks to join a city (« demande d'adhésion »): `GET /membres/<city>/adhesion`
shows the form, `POST` checks it, keeps the request and queues its mails
(join_requests.ask_to_join), then sends the visitor to `GET /membres/<city>/adhesion/merci`
(Post/Redirect/Get).

The form is the service's own page, so it always carries a CSRF token. Checked in order:
Origin and token (403), the honeypot (the same thank-you as a person gets, nothing kept),
the fields (the form again, 400), the rate limits per IP (429). Asking again while a
request waits gives the same thank-you and writes nothing, so nobody learns whether an
address has asked before, and nobody gets a second mail.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import City
from avf.service.cities import city_of_request, render_city_page
from avf.service.contact_form import TRAP, caught_a_robot
from avf.service.csrf import protected_form
from avf.service.join_requests import ask_to_join
from avf.service.member_forms import JOIN_FIELDS, read_join_request
from avf.service.permissions import current_person
from avf.service.ratelimit import Limit, RateLimiter
from avf.service.runtime import runtime

log = logging.getLogger(__name__)

# Counted per IP address, on requests that passed every check (a mistyped form costs nothing).
PER_CITY = Limit("join-city", attempts=5, window=timedelta(hours=1))
OVERALL = Limit("join", attempts=20, window=timedelta(days=1))
RETRY_AFTER = 60 * 60  # seconds: the per-city window
UNKNOWN_CITY = ("Nous ne connaissons pas cette ville. Cherchez l'AVF de votre ville depuis "
                "l'accueil du réseau.")
CARD_BROKEN = ("Les demandes d'adhésion de cette ville sont momentanément indisponibles. "
               "Réessayez dans quelques heures, ou appelez l'association.")
TOO_MANY = ("Trop de demandes d'adhésion envoyées depuis votre connexion en peu de temps. "
            "Patientez une heure avant de réessayer, ou appelez l'association.")


def join_page(request: Request) -> Response:
    city = _city(request)
    return _form_page(request, city, dict.fromkeys(JOIN_FIELDS, ""), {})


async def ask(request: Request) -> Response:
    city = _city(request)
    posted = await protected_form(request)
    if caught_a_robot(posted):
        log.info("join request for %s: honeypot filled in, nothing kept", city.slug)
        return _to_thanks(city)  # the same answer as a person gets: robots learn nothing
    form, join_request = read_join_request(posted)
    if join_request is None:
        return _form_page(request, city, form.values, form.errors, status_code=400)
    state = runtime(request)
    visitor = request.client.host if request.client else "unknown"
    limiter = RateLimiter(state.engine, state.settings.secret_key)
    # Both attempts are recorded, whichever refuses (no short-circuit).
    allowed = [await run_in_threadpool(limiter.allow, limit, who) for limit, who in (
        (PER_CITY, f"{city.slug}:{visitor}"), (OVERALL, visitor))]
    if not all(allowed):
        log.warning("join request for %s: rate limit reached", city.slug)
        raise HTTPException(429, TOO_MANY, headers={"Retry-After": str(RETRY_AFTER)})

    def keep() -> bool:
        with state.engine.begin() as connection:
            return ask_to_join(connection, city, join_request, state.settings.public_url)

    if await run_in_threadpool(keep):
        state.mail.wake()
    else:
        log.info("join request for %s: the same address already waits, nothing kept",
                 city.slug)
    return _to_thanks(city)


def thanks_page(request: Request) -> Response:
    city = _city(request)
    return render_city_page(request, city, "service/join_thanks.html", {})


def _city(request: Request) -> City:
    return city_of_request(request, UNKNOWN_CITY, CARD_BROKEN)


def _form_page(request: Request, city: City, values: dict[str, str], errors: dict[str, str],
               status_code: int = 200) -> Response:
    person = current_person(request)
    return render_city_page(request, city, "service/join.html", {
        "values": values, "errors": errors, "trap": TRAP,
        "already_member": person is not None and person.can("member", city.slug)},
        status_code=status_code)


def _to_thanks(city: City) -> Response:
    return RedirectResponse(f"/membres/{city.slug}/adhesion/merci", status_code=303)


routes = [
    Route("/membres/{city}/adhesion", join_page, methods=["GET"]),
    Route("/membres/{city}/adhesion", ask, methods=["POST"]),
    Route("/membres/{city}/adhesion/merci", thanks_page, methods=["GET"]),
]
