"""A member's rights over their data (RGPD), as pages: `GET /compte/donnees.json`
downloads everything kept about them; `GET /compte/supprimer` explains what deleting the
account does, and its `POST` (with the box ticked) does it, signs out and says goodbye.
The work itself is in member_data."""

from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from avf.service.csrf import protected_form
from avf.service.member_data import delete_account, export_member_data
from avf.service.permissions import require_person
from avf.service.photos import photos_dir, remove_photo
from avf.service.runtime import runtime
from avf.service.sessions import SessionCookie

log = logging.getLogger(__name__)

CONFIRM_FIELD = "confirmer"
NOT_CONFIRMED = ("Cochez la case pour confirmer que vous voulez supprimer votre compte : "
                 "rien n'a été supprimé.")


def download_data(request: Request) -> Response:
    person = require_person(request)
    state = runtime(request)
    with state.engine.connect() as connection:
        data = export_member_data(connection, person.id, photos_dir(state.settings.data_dir))
    if data is None:
        raise HTTPException(401, "Votre session a pris fin : connectez-vous à nouveau.")
    return Response(json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                    media_type="application/json", headers={
                        "Content-Disposition": 'attachment; filename="mes-donnees-avf.json"',
                        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


def delete_page(request: Request) -> Response:
    person = require_person(request)
    return _delete_page(request, volunteer=_volunteer_roles(request, person.roles))


async def delete_now(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_delete_now, request, form)


def _delete_now(request: Request, form: FormData) -> Response:
    person = require_person(request)
    if form.get(CONFIRM_FIELD) != "oui":
        return _delete_page(request, volunteer=_volunteer_roles(request, person.roles),
                            error=NOT_CONFIRMED, status_code=400)
    state = runtime(request)
    with state.engine.begin() as connection:
        deleted = delete_account(connection, person.id)
    if deleted is not None:
        remove_photo(photos_dir(state.settings.data_dir), deleted.photo)
        log.info("account %d deleted by its owner", person.id)
    request.state.person = request.state.session_id = None
    response = state.templates.render(request, "service/account_deleted.html")
    SessionCookie(state.settings.secret_key, secure=state.settings.production).clear(response)
    return response


def _delete_page(request: Request, volunteer: list[str], error: str | None = None,
                 status_code: int = 200) -> Response:
    return runtime(request).templates.render(request, "service/account_delete.html", {
        "volunteer": volunteer, "error": error, "field": CONFIRM_FIELD},
        status_code=status_code)


def _volunteer_roles(request: Request, roles: frozenset[tuple[str, str]]) -> list[str]:
    """Where the person is more than a member (the page asks them to tell someone)."""
    cities = runtime(request).cities
    return sorted("tout le réseau (webmaster)" if role == "webmaster"
                  else f"{cities.name(city)} ({'responsable' if role == 'admin' else 'rédaction'})"
                  for city, role in roles if role in ("webmaster", "admin", "reporter"))


routes = [
    Route("/compte/donnees.json", download_data, methods=["GET"]),
    Route("/compte/supprimer", delete_page, methods=["GET"]),
    Route("/compte/supprimer", delete_now, methods=["POST"]),
]
