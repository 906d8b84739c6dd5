"""The city card form of the web editor (`/editeur/{city}/fiche`): `city.yaml` as plain
French fields for the city's admins and the webmaster, checked exactly as the build checks
it before anything is written, committed as the person, then the city rebuilt through the
queue. A card changed by someone else meanwhile is never overwritten: both versions are
shown and the person saves again knowingly.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import ACCENTS
from avf.editor.card_form import CardUnreadable, candidate, card_fields, card_values
from avf.editor.checkout import Change, Checkout, EditConflict
from avf.editor.differences import Difference, compare_cards
from avf.editor.paths import CARD, CityFile
from avf.service.csrf import protected_form
from avf.service.editor_access import author_of, checkout, editor_of, named_file
from avf.service.editor_history import (
    TRACKING_PATH,
    history_url,
    journal,
    may_edit_card,
    render_editor_page,
)
from avf.service.people import Person
from avf.service.runtime import runtime

SAVED_MESSAGE = "Fiche de la ville mise à jour"


def card_page(request: Request) -> Response:
    person, file, repository = _opened(request)
    text = repository.text(file) or ""
    try:
        values = card_values(card_fields(text))
    except CardUnreadable as error:
        return _form(request, person, file, {}, repository.blob(file), status_code=409,
                     problems={None: f"la fiche ne peut pas être lue ({error}) : demandez "
                                     "au webmaster de la réparer"})
    notice = {"rien": "Rien n'a changé : la fiche est déjà ainsi."}.get(
        request.query_params.get("note", ""), "")
    return _form(request, person, file, values, repository.blob(file), notice=notice)


async def save_card(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_save_card, request, form)


def _save_card(request: Request, form: FormData) -> Response:
    person, file, repository = _opened(request)
    values = {name: str(value) for name, value in form.items() if isinstance(value, str)}
    base = values.get("base", "")
    committed = repository.text(file) or ""
    try:
        previous = card_fields(committed)  # what the form does not show is kept from it
    except CardUnreadable as error:
        raise HTTPException(409, f"La fiche ne peut pas être lue ({error}) : demandez au "
                                 "webmaster de la réparer.") from None
    content_dir = runtime(request).settings.content_dir
    card = candidate(content_dir, file.city, values, previous, person.is_webmaster)
    if card.problems:
        return _form(request, person, file, values, base, problems=card.problems,
                     status_code=422)
    author = author_of(request, person)
    changed = [change.label for change in compare_cards(committed, card.text).fields]
    message = (f"{SAVED_MESSAGE} ({file.city})\n\nFichier : {file.city}/{CARD}\n"
               f"Informations modifiées : {', '.join(changed) or 'mise en forme'}")
    try:
        saved = repository.save([Change(file, card.text, base or None)], author, message)
    except EditConflict as conflict:
        return _form(request, person, file, values, conflict.theirs_blob, status_code=409,
                     conflict=(conflict, compare_cards(card.text, conflict.theirs)))
    if saved.commit is None:
        return RedirectResponse(f"/editeur/{file.city}/fiche?note=rien", 303)
    jobs = runtime(request).builds.request([file.city], f"éditeur : {SAVED_MESSAGE.lower()}",
                                           requested_by=author.email)
    journal(request, person, file, "save", saved.commit, jobs)
    if jobs:
        return RedirectResponse(TRACKING_PATH.format(city=file.city, job=jobs[0]), 303)
    return RedirectResponse(history_url(file), 303)


# --- Steps ------------------------------------------------------------------------------

def _opened(request: Request) -> tuple[Person, CityFile, Checkout]:
    city = request.path_params["city"]
    person = editor_of(request, city)
    if not may_edit_card(person, city):
        raise HTTPException(403, "La fiche de la ville est modifiée par ses responsables "
                                 "et le webmaster.")
    return person, named_file(request, city, CARD), checkout(request)


def _form(request: Request, person: Person, file: CityFile, values: dict[str, str],
          base: str, problems: dict[str | None, str] | None = None, notice: str = "",
          conflict: tuple[EditConflict, Difference] | None = None,
          status_code: int = 200) -> Response:
    return render_editor_page(request, file.city, "service/editor/card.html", {
        "values": values, "base": base, "problems": problems or {}, "notice": notice,
        "accents": ACCENTS, "may_edit_domain": person.is_webmaster,
        "conflict": conflict[0] if conflict else None,
        "conflict_difference": conflict[1] if conflict else None,
        "history_url": history_url(file), "city": file.city}, status_code)


routes = [
    Route("/editeur/{city}/fiche", card_page, methods=["GET"]),
    Route("/editeur/{city}/fiche", save_card, methods=["POST"]),
]
