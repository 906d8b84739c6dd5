"""Routes of « Je déménage » (`/compte/demenager`): a member names the city they leave and
the one they move to; that city's welcome team is told (moves.py says what it learns), and
the member is invited to join it in one click.

| route | what it does |
| --- | --- |
| `GET /compte/demenager` | the form, and the member's moves not joined yet |
| `POST /compte/demenager` | checks, records, queues the two mails, `303` to the join page |
| `GET /compte/demenager/<id>/rejoindre` | the join page, one button (where the mailed link leads) |
| `POST /compte/demenager/<id>/rejoindre` | joins the destination, `303` to its members' home |

For signed-in members of at least one city (a signed-out visitor is sent to sign in and
back); a move is only ever shown to its own member (another's id is a 404).
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content import discover_cities
from avf.service.csrf import protected_form
from avf.service.form_text import sort_key
from avf.service.moves import (
    Move,
    find_move,
    join_destination,
    join_path,
    pending_moves,
    record_move,
)
from avf.service.moving_form import MESSAGE_MAX, MoveForm, read_move_form
from avf.service.people import Person
from avf.service.permissions import require_person
from avf.service.ratelimit import Limit, RateLimiter
from avf.service.runtime import Runtime, runtime

# Each move mails a welcome team: a member cannot write to the whole network.
PER_PERSON = Limit("move", attempts=5, window=timedelta(days=1))
MEMBERS_ONLY = ("« Je déménage » sert aux adhérents d'une AVF qui partent s'installer "
                "ailleurs. Votre compte n'est adhérent d'aucune AVF : pour rejoindre celle de "
                "votre nouvelle ville, écrivez-lui depuis son site.")
TOO_MANY = ("Vous avez déjà signalé plusieurs déménagements aujourd'hui. Réessayez demain, "
            "ou contactez directement l'AVF de votre nouvelle ville depuis son site.")
SUSPENDED = ("Votre adhésion est suspendue : le changement de ville ne peut pas se faire "
             "en ligne. Contactez le responsable de votre AVF.")
LARGEST_ID = 2**62  # any id above cannot be a row (and would overflow the database's integer)
GONE = "Ce déménagement n'existe pas, ou il a été signalé depuis un autre compte."


def move_page(request: Request) -> Response:
    person = _mover(request)
    return _form_page(request, person, MoveForm(values={"depart": _only(person)}, errors={}))


async def submit_move(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_submit_move, request, form)


def _submit_move(request: Request, form: FormData) -> Response:
    person = _mover(request)
    state = runtime(request)
    checked = read_move_form(form, person.cities(), dict(_destinations(state)).keys())
    if checked.request is None:
        return _form_page(request, person, checked, status_code=400)
    if not RateLimiter(state.engine, state.settings.secret_key).allow(PER_PERSON,
                                                                      str(person.id)):
        raise HTTPException(429, TOO_MANY)
    destination = state.cities.get(checked.request.to_city)
    if destination is None:  # removed from the content since the form was read
        return _form_page(request, person, checked, status_code=400)
    move_id = record_move(state.engine, person, checked.request,
                          state.cities.name(checked.request.from_city), destination,
                          state.settings.public_url)
    state.mail.wake()
    return RedirectResponse(f"{join_path(move_id)}?envoye=1", status_code=303)


def join_page(request: Request) -> Response:
    person = require_person(request)
    state = runtime(request)
    move = _own_move(request, person)
    return state.templates.render(request, "service/move_join.html", {
        "move": move, "sent": request.query_params.get("envoye") == "1",
        "origin": state.cities.name(move.from_city),
        "destination": state.cities.name(move.to_city), "action": join_path(move.id)})


async def join(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_join, request)


def _join(request: Request) -> Response:
    person = require_person(request)
    move = _own_move(request, person)
    outcome = join_destination(runtime(request).engine, move)
    if outcome == "suspended":
        raise HTTPException(403, SUSPENDED)
    if outcome in ("not_member", "removed"):
        raise HTTPException(403, CANNOT_JOIN)
    return RedirectResponse(f"/membres/{move.to_city}/", status_code=303)


CANNOT_JOIN = ("Ce déménagement ne peut plus se faire en ligne : vous n'êtes plus adhérent·e "
               "de la ville que vous quittiez, ou la ville d'arrivée doit d'abord vous "
               "réinscrire. Contactez l'équipe d'accueil de votre nouvelle ville.")


def _mover(request: Request) -> Person:
    """The signed-in person, if they are a member of at least one city."""
    person = require_person(request)
    if not person.cities():
        raise HTTPException(403, MEMBERS_ONLY)
    return person


def _own_move(request: Request, person: Person) -> Move:
    move_id = request.path_params["move_id"]
    move = find_move(runtime(request).engine, person.id, move_id) \
        if move_id < LARGEST_ID else None
    if move is None:
        raise HTTPException(404, GONE)
    return move


def _only(person: Person) -> str:
    """The city the member leaves, preselected when they belong to one only."""
    cities = person.cities()
    return cities[0] if len(cities) == 1 else ""


def _form_page(request: Request, person: Person, form: MoveForm,
               status_code: int = 200) -> Response:
    state = runtime(request)
    return state.templates.render(request, "service/move.html", {
        "form": form, "origins": [(slug, state.cities.name(slug)) for slug in person.cities()],
        "destinations": _destinations(state), "message_max": MESSAGE_MAX,
        "pending": [(move, state.cities.name(move.to_city))
                    for move in pending_moves(state.engine, person.id)],
    }, status_code=status_code)


def _destinations(state: Runtime) -> list[tuple[str, str]]:
    """(slug, name) of every city of the network with a valid card, by name as people
    read it (accents and case aside: « Évry » between « Dijon » and « Fréjus »)."""
    cities = []
    for slug in discover_cities(state.settings.content_dir):
        city = state.cities.find(slug)
        if city is not None:
            cities.append((slug, city.name))
    return sorted(cities, key=lambda city: (sort_key(city[1]), city[0]))


routes = [
    Route("/compte/demenager", move_page, methods=["GET"]),
    Route("/compte/demenager", submit_move, methods=["POST"]),
    Route("/compte/demenager/{move_id:int}/rejoindre", join_page, methods=["GET"]),
    Route("/compte/demenager/{move_id:int}/rejoindre", join, methods=["POST"]),
]
