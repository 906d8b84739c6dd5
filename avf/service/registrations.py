"""Registering for an event ("Je m'inscris"), and the organisers' lists.

| route | who |
| --- | --- |
| `GET/POST /membres/<city>/inscriptions/<event>` | the city's members (admins, webmaster) |
| `GET /membres/<city>/inscriptions/<event>/liste` | the city's reporters and admins, webmaster |
| `GET /membres/<city>/inscriptions/<event>/liste.csv` | the same, as a spreadsheet |

`<event>` is the slug of an event post with `registration: true` in the city's last build
(event_data.py). The member's page shows the places left, their own standing and one
button; the form posts `action=inscrire` or `action=desinscrire` and is answered with a 303
back to the page. Registrations close when the event starts. Cancelling a place gives it
to the first on the waiting list, who is mailed, in the same transaction
(registration_store.py says how concurrent sign-ups never overbook). Emails appear on the
organisers' list for the city's admins only.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import City
from avf.mail import queue_mail
from avf.service.csrf import protected_form
from avf.service.directory_pages import members_city, render_city_page
from avf.service.event_data import RegistrableEvent
from avf.service.member_csv import spreadsheet_cell
from avf.service.members import MISSING, PRIVATE, check_members_url
from avf.service.people import Person
from avf.service.registration_store import (
    REGISTERED,
    WAITING,
    cancel,
    counts,
    event_transaction,
    register,
    registrants,
    standing,
)
from avf.service.runtime import runtime
from avf.store.schema import people
from avf.theme.filters import PARIS, event_when

CLOSED = ("Ce rendez-vous a commencé ou est passé : les inscriptions sont closes. Pour "
          "toute question, adressez-vous à votre AVF.")
UNKNOWN_ACTION = "Ce formulaire n'est pas valable : rechargez la page, puis recommencez."
LIST_HEADER = ("Nom", "Statut", "Depuis le")


def event_page(request: Request) -> Response:
    city, person, item = _event(request, "member")
    return _page(request, city, person, item, datetime.now(UTC))


async def change_registration(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_change, request, form)


def _change(request: Request, form: FormData, now: datetime | None = None) -> Response:
    city, person, item = _event(request, "member")
    moment = now or datetime.now(UTC)
    action = form.get("action")
    if action not in ("inscrire", "desinscrire"):
        return _page(request, city, person, item, moment, error=UNKNOWN_ACTION,
                     status_code=400)
    if not item.is_open(moment):
        return _page(request, city, person, item, moment, error=CLOSED, status_code=409)
    state = runtime(request)
    with event_transaction(state.engine, city.slug, item.slug) as connection:
        if action == "inscrire":
            _, promoted = register(connection, city.slug, item.slug, item.capacity,
                                   person.id, moment)
        else:
            promoted = cancel(connection, city.slug, item.slug, item.capacity, person.id,
                              moment)
        mail_promoted(connection, item, promoted, state.settings.public_url)
    if promoted:
        state.mail.wake()
    return RedirectResponse(request.url.path, status_code=303)


def list_page(request: Request) -> Response:
    city, person, item = _event(request, "reporter")
    with runtime(request).engine.connect() as connection:
        lines = registrants(connection, city.slug, item.slug)
    return render_city_page(request, city, "service/event_registrants.html", {
        "item": item, "when": event_when(item.event),
        "registered": [line for line in lines if line.status == REGISTERED],
        "waiting": [line for line in lines if line.status == WAITING],
        "show_emails": person.can("admin", city.slug)})


def list_csv(request: Request) -> Response:
    city, person, item = _event(request, "reporter")
    with runtime(request).engine.connect() as connection:
        lines = registrants(connection, city.slug, item.slug)
    with_emails = person.can("admin", city.slug)
    header = (LIST_HEADER[0], "Email", *LIST_HEADER[1:]) if with_emails else LIST_HEADER
    rows = []
    for line in lines:
        status = ("inscrit·e" if line.status == REGISTERED
                  else f"liste d'attente n° {line.position}")
        since = line.since.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
        rows.append((line.name, line.email, status, since) if with_emails
                    else (line.name, status, since))
    body = registrants_csv(header, rows)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        **PRIVATE,
        "Content-Disposition": f'attachment; filename="inscrits-{city.slug}-{item.slug}.csv"'})


def registrants_csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    """The list as French Excel opens it: UTF-8 with BOM, `;`, formulas kept as text."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_cell(cell) for cell in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def mail_promoted(connection: Connection, item: RegistrableEvent, person_ids: list[int],
                  public_url: str) -> None:
    """Tell each person moved from the waiting list that they have a place (in the
    transaction that moved them: the mail leaves only if the promotion is kept)."""
    if not person_ids:
        return
    addresses = connection.execute(select(people.c.email)
                                   .where(people.c.id.in_(person_ids))).scalars()
    for address in addresses:
        queue_mail(connection, kind="event_promoted", to=address,
                   context=mail_context(item, public_url))


def mail_context(item: RegistrableEvent, public_url: str) -> dict[str, object]:
    return {"title": item.title, "when": event_when(item.event), "place": item.event.place,
            "event_url": f"{public_url}{item.url}",
            "page_url": f"{public_url}{registration_path(item.city, item.slug)}"}


def registration_path(city: str, slug: str) -> str:
    return f"/membres/{city}/inscriptions/{slug}"


def _event(request: Request, role: str) -> tuple[City, Person, RegistrableEvent]:
    """The city, the signed-in person if they may act as `role` there, and the event of
    the URL (404 when the city's last build has no such registrable event)."""
    check_members_url(request, request.path_params["city"])
    city, person = members_city(request)
    if role != "member" and not person.can(role, city.slug):
        raise HTTPException(403, "Cette liste est réservée aux responsables et rédacteurs "
                                 f"de l'AVF. Vous êtes connecté·e en tant que {person.email}.")
    item = runtime(request).events_data.event(city.slug, request.path_params["event"])
    if item is None:
        raise HTTPException(404, MISSING)
    return city, person, item


def _page(request: Request, city: City, person: Person, item: RegistrableEvent,
          now: datetime, error: str | None = None, status_code: int = 200) -> Response:
    with runtime(request).engine.connect() as connection:
        mine = standing(connection, city.slug, item.slug, person.id)
        registered, waiting = counts(connection, city.slug, item.slug)
    left = None if item.capacity is None else max(item.capacity - registered, 0)
    return render_city_page(request, city, "service/event_registration.html", {
        "item": item, "when": event_when(item.event), "standing": mine,
        "places_left": left, "full": left == 0 or (left is not None and waiting > 0),
        "waiting_count": waiting, "open": item.is_open(now), "error": error,
        "action": request.url.path, "organiser": person.can("reporter", city.slug)},
        status_code=status_code)


routes = [
    Route("/membres/{city}/inscriptions/{event}", event_page),
    Route("/membres/{city}/inscriptions/{event}", change_registration, methods=["POST"]),
    Route("/membres/{city}/inscriptions/{event}/liste", list_page),
    Route("/membres/{city}/inscriptions/{event}/liste.csv", list_csv),
]
