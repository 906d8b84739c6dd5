"""Pré-accueil: a newcomer writes to a city's welcome team before moving.

`GET /contact/<city>` shows the form beside the city's phone, address and opening hours;
`POST /contact/<city>` checks it, keeps the message and queues its mails (contact_relay),
then sends the visitor to `GET /contact/<city>/merci` (Post/Redirect/Get).

The form comes from two kinds of page. The service's own page carries a CSRF token; a
city's static site cannot (a static page knows no visitor) and posts without the field.
So: the Origin is always checked, and a form that carries `csrf_token` must also carry the
right one. A static form is then exactly as safe against forged posts as a tokened one
(browsers always name the Origin, and refuse to let another site forge it); robots that
post directly are met by the honeypot and the rate limits.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import City
from avf.service import csrf
from avf.service.cities import city_of_request, render_city_page
from avf.service.contact_form import (
    FIELDS,
    TRAP,
    ContactForm,
    caught_a_robot,
    read_contact_form,
)
from avf.service.contact_relay import relay_message
from avf.service.csrf import protected_form
from avf.service.ratelimit import Limit, RateLimiter
from avf.service.runtime import runtime

log = logging.getLogger(__name__)

# Counted per IP address, on messages that passed every check (a mistyped form costs nothing).
PER_CITY = Limit("contact-city", attempts=5, window=timedelta(hours=1))
OVERALL = Limit("contact", attempts=20, window=timedelta(days=1))
RETRY_AFTER = 60 * 60  # seconds: the per-city window
UNKNOWN_CITY = ("Nous ne connaissons pas cette ville. Cherchez l'AVF de votre future ville "
                "depuis l'accueil du réseau.")
CARD_BROKEN = ("Le formulaire de contact de cette ville est momentanément indisponible. "
               "Réessayez dans quelques heures, ou cherchez son téléphone depuis l'accueil "
               "du réseau.")


async def contact_page(request: Request) -> Response:
    city = _city(request)
    return _form_page(request, city, ContactForm(values={}, errors={}))


async def send_message(request: Request) -> Response:
    city = _city(request)
    # Origin, for every post: the service's own, or the city's domain (its static page).
    own_site = (city.site_url(""),) if city.domain else ()
    posted = await protected_form(request, token=False, origins=own_site)
    if csrf.FIELD in posted:
        await protected_form(request)  # the service's own page: its token must match too
    if caught_a_robot(posted):
        log.info("contact form for %s: honeypot filled in, nothing kept", city.slug)
        return _to_thanks(city)  # the same answer as a person gets: robots learn nothing
    form = read_contact_form(posted)
    if form.errors:
        return _form_page(request, city, form, status_code=400)
    rt = runtime(request)
    visitor = request.client.host if request.client else "unknown"
    limiter = RateLimiter(rt.engine, rt.settings.secret_key)
    # Both attempts are recorded, whichever refuses (no short-circuit).
    allowed = [await run_in_threadpool(limiter.allow, limit, who) for limit, who in (
        (PER_CITY, f"{city.slug}:{visitor}"), (OVERALL, visitor))]
    if not all(allowed):
        log.warning("contact form for %s: rate limit reached", city.slug)
        response = render_city_page(request, city, "service/contact_wait.html",
                           {"values": form.values}, status_code=429)
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response
    site_url = f"{city.site_url(rt.settings.public_url)}/"
    await run_in_threadpool(relay_message, rt.engine, city, form.message(), site_url)
    rt.mail.wake()
    return _to_thanks(city)


async def thanks_page(request: Request) -> Response:
    city = _city(request)
    return render_city_page(request, city, "service/contact_thanks.html", {})


def _city(request: Request) -> City:
    return city_of_request(request, UNKNOWN_CITY, CARD_BROKEN)


def _form_page(request: Request, city: City, form: ContactForm,
               status_code: int = 200) -> Response:
    values = {field.name: form.values.get(field.name, "") for field in FIELDS}
    return render_city_page(request, city, "service/contact.html",
                   {"values": values, "errors": form.errors, "trap": TRAP},
                   status_code=status_code)


def _to_thanks(city: City) -> Response:
    return RedirectResponse(f"/contact/{city.slug}/merci", status_code=303)


routes = [
    Route("/contact/{city}", contact_page, methods=["GET"]),
    Route("/contact/{city}", send_message, methods=["POST"]),
    Route("/contact/{city}/merci", thanks_page, methods=["GET"]),
]
