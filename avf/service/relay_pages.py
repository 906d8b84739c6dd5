"""Writing to a member through the service (`relay`): the form from a directory card, the
reply form a relayed mail links to, the page after sending, and blocking a sender.

| route | who |
| --- | --- |
| `GET/POST /membres/<city>/annuaire/<id>/ecrire` | the city's members, to someone listed |
| `GET/POST /membres/<city>/messages/<id>/repondre` | message `<id>`'s recipient, to its sender |
| `GET /membres/<city>/messages/envoye` | the page after sending |
| `GET/POST /membres/<city>/bloquer/<id>` | someone `<id>` wrote to in that city |

A message is checked in this order, each with its answer: the sender has a name (else a
page asking for one in their profile), the relay allows it (`relay.refusal`: 403 and the
typed text kept to copy), the text (400, the form again), the sender's rate limits (429,
text kept), then kept and queued in one transaction, and `303` to the sent page.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import City
from avf.service.csrf import protected_form
from avf.service.directory import DirectoryEntry, directory_entry
from avf.service.directory_pages import members_city, render_city_page
from avf.service.form_text import french_number, text_block
from avf.service.member_names import display_name_or_former
from avf.service.people import Person
from avf.service.ratelimit import RateLimiter
from avf.service.relay import (
    BODY_MAX,
    PER_DAY,
    PER_HOUR,
    MemberMessage,
    RelayRefused,
    block,
    has_blocked,
    load_message,
    refusal,
    relay_member_message,
    wrote_to,
)
from avf.service.runtime import runtime

RETRY_AFTER = 60 * 60  # seconds: the hourly window
EMPTY = "Écrivez votre message."
TOO_LONG = ("Votre message est trop long : {max} caractères au plus (il en compte {count}). "
            "Raccourcissez-le un peu.")
TOO_MANY = ("Vous avez envoyé beaucoup de messages en peu de temps : pour protéger les "
            "membres des envois en masse, les prochains attendront un peu. Réessayez dans une "
            "heure ; votre message est ci-dessous, pour le garder.")
SENDER_GONE = ("Cette personne n'a plus de compte sur le site : votre réponse ne peut plus "
               "lui être transmise.")
NOT_YOURS = "Ce message n'existe pas, ou il ne vous était pas adressé."


def write_page(request: Request) -> Response:
    city, sender = members_city(request)
    recipient = _listed(request, city)
    with runtime(request).engine.connect() as connection:
        why = refusal(connection, city.slug, sender.id, recipient.person_id, reply=False)
    return _form_page(request, city, sender, _write_context(city, recipient.person_id,
                                                            recipient.display_name), why=why)


async def write_message(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_write_message, request, form)


def _write_message(request: Request, form: FormData) -> Response:
    city, sender = members_city(request)
    recipient = _listed(request, city)
    return _relay(request, city, sender, form, recipient.person_id,
                  _write_context(city, recipient.person_id, recipient.display_name))


def reply_page(request: Request) -> Response:
    city, person = members_city(request)
    original, context = _reply_context(request, city, person)
    if original.sender_id is None:
        return _form_page(request, city, person, context, why=SENDER_GONE, status_code=410)
    with runtime(request).engine.connect() as connection:
        why = refusal(connection, city.slug, person.id, original.sender_id, reply=True)
    return _form_page(request, city, person, context, why=why)


async def reply_message(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_reply_message, request, form)


def _reply_message(request: Request, form: FormData) -> Response:
    city, person = members_city(request)
    original, context = _reply_context(request, city, person)
    if original.sender_id is None:
        return _form_page(request, city, person, context, why=SENDER_GONE,
                          message=text_block(form.get("message")), status_code=410)
    return _relay(request, city, person, form, original.sender_id, context,
                  in_reply_to=original.id)


def sent_page(request: Request) -> Response:
    city, _ = members_city(request)
    return render_city_page(request, city, "service/member_sent.html", {})


def block_page(request: Request) -> Response:
    city, person = members_city(request)
    sender_id, name = _sender_to_block(request, city, person)
    with runtime(request).engine.connect() as connection:
        already = has_blocked(connection, person.id, sender_id)
    return render_city_page(request, city, "service/member_block.html", {
        "name": name, "done": already, "action": request.url.path})


async def block_sender(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_block_sender, request)


def _block_sender(request: Request) -> Response:
    city, person = members_city(request)
    sender_id, name = _sender_to_block(request, city, person)
    with runtime(request).engine.begin() as connection:
        block(connection, person.id, sender_id)
    return render_city_page(request, city, "service/member_block.html",
                            {"name": name, "done": True, "action": request.url.path})


def _relay(request: Request, city: City, sender: Person, form: FormData, recipient_id: int,
           context: dict[str, object], in_reply_to: int | None = None) -> Response:
    """The checks of the module's docstring, then the message kept and mailed."""
    state = runtime(request)
    body = text_block(form.get("message"))
    if not sender.display_name:
        return _form_page(request, city, sender, context, message=body, status_code=400)
    with state.engine.connect() as connection:
        why = refusal(connection, city.slug, sender.id, recipient_id,
                      reply=in_reply_to is not None)
    if why is not None:
        return _form_page(request, city, sender, context, why=why, message=body,
                          status_code=403)
    error = _text_error(body)
    if error is not None:
        return _form_page(request, city, sender, context, message=body, error=error,
                          status_code=400)
    limiter = RateLimiter(state.engine, state.settings.secret_key)
    # Both attempts are recorded, whichever refuses (no short-circuit).
    allowed = [limiter.allow(limit, f"person:{sender.id}") for limit in (PER_HOUR, PER_DAY)]
    if not all(allowed):
        response = _form_page(request, city, sender, context, why=TOO_MANY, message=body,
                              status_code=429)
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response
    try:
        with state.engine.begin() as connection:
            relay_member_message(connection, city, sender, recipient_id, body,
                                 state.settings.public_url, in_reply_to=in_reply_to)
    except RelayRefused as refused:  # changed since the check above (a block, a suspension)
        return _form_page(request, city, sender, context, why=str(refused), message=body,
                          status_code=403)
    state.mail.wake()
    return RedirectResponse(f"/membres/{city.slug}/messages/envoye", status_code=303)


def _text_error(body: str) -> str | None:
    if not body:
        return EMPTY
    if len(body) > BODY_MAX:
        return TOO_LONG.format(max=french_number(BODY_MAX), count=french_number(len(body)))
    return None


def _form_page(request: Request, city: City, sender: Person, context: dict[str, object],
               why: str | None = None, message: str = "", error: str | None = None,
               status_code: int | None = None) -> Response:
    return render_city_page(request, city, "service/member_write.html", {
        **context, "refusal": why, "message": message, "error": error,
        "needs_name": not sender.display_name,
    }, status_code=status_code or (403 if why else 200))


def _listed(request: Request, city: City) -> DirectoryEntry:
    with runtime(request).engine.connect() as connection:
        entry = directory_entry(connection, city.slug, request.path_params["person_id"])
    if entry is None:
        raise HTTPException(404, "Ce membre n'apparaît pas (ou plus) dans l'annuaire de "
                                 "votre AVF.")
    return entry


def _write_context(city: City, person_id: int, name: str) -> dict[str, object]:
    return {"heading": f"Écrire à {name}", "recipient_name": name, "original": None,
            "action": f"/membres/{city.slug}/annuaire/{person_id}/ecrire"}


def _reply_context(request: Request, city: City, person: Person,
                   ) -> tuple[MemberMessage, dict[str, object]]:
    """The message replied to (only its recipient may answer it) and the page's context."""
    with runtime(request).engine.connect() as connection:
        original = load_message(connection, request.path_params["message_id"])
        if original is None or original.city != city.slug or original.recipient_id != person.id:
            raise HTTPException(404, NOT_YOURS)
        name = display_name_or_former(connection, original.sender_id)
    return original, {"heading": f"Répondre à {name}", "recipient_name": name,
                      "original": original,
                      "action": f"/membres/{city.slug}/messages/{original.id}/repondre"}


def _sender_to_block(request: Request, city: City, person: Person) -> tuple[int, str]:
    """The person to block and their name, if they wrote to the signed-in person in this
    city (the only way the block link is given); 404 otherwise, telling nothing of them."""
    sender_id = request.path_params["person_id"]
    with runtime(request).engine.connect() as connection:
        if sender_id == person.id or not wrote_to(connection, city.slug, sender_id, person.id):
            raise HTTPException(404, "Cette personne ne vous a pas écrit par l'annuaire de "
                                     "cette ville.")
        return sender_id, display_name_or_former(connection, sender_id)


routes = [
    Route("/membres/{city}/annuaire/{person_id:int}/ecrire", write_page, methods=["GET"]),
    Route("/membres/{city}/annuaire/{person_id:int}/ecrire", write_message, methods=["POST"]),
    Route("/membres/{city}/messages/envoye", sent_page, methods=["GET"]),
    Route("/membres/{city}/messages/{message_id:int}/repondre", reply_page, methods=["GET"]),
    Route("/membres/{city}/messages/{message_id:int}/repondre", reply_message,
          methods=["POST"]),
    Route("/membres/{city}/bloquer/{person_id:int}", block_page, methods=["GET"]),
    Route("/membres/{city}/bloquer/{person_id:int}", block_sender, methods=["POST"]),
]
