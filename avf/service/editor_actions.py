"""The editor's actions: the form's buttons (save, submit, publish, schedule, send back,
unpublish) on a new text or an existing one, and the deletion with its confirmation page.

Each POST is checked (`protected_form`), then handed to the workflow (avf.editor.workflow,
which checks the rules again, commits and journals). Whatever goes wrong — a refusal, a
problem of the text, someone else's change in between — the form comes back with
everything the person typed and the reason next to its field; a conflict shows both
versions. An action that builds goes on to the tracking page (editor_tracking).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.values import PARIS
from avf.editor.checkout import CheckoutError, EditConflict
from avf.editor.drafts import Draft, DraftError, read_draft, write_draft
from avf.editor.form import MAX_FIELD, draft_from_form, form_values
from avf.editor.paths import CityFile, PathRefused, new_text_file
from avf.editor.workflow import Invalid, Outcome, Refused, allowed_actions, may, status_of
from avf.service.csrf import protected_form
from avf.service.editor_access import author_of, checkout, editor_of, workflow
from avf.service.editor_mail import mail_context, notify, title_of
from avf.service.editor_pages import NOT_A_TEXT, actions_for_new, document_of
from avf.service.editor_view import (
    FormPage,
    city_name,
    conflict_context,
    place_problems,
    render_editor,
    render_form,
    text_url,
)
from avf.service.editor_writing import forget_after_save
from avf.service.people import Person
from avf.service.runtime import runtime

ALL_PHOTOS = "toutes"  # the value of the photo choice's « Voir toutes les photos » button
FORM_ACTIONS = ("save", "submit", "publish", "schedule", "send_back", "unpublish")
EXTRA_FIELDS = ("publish_date", "publish_time", "comment")
MAX_COMMENT = 4_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")


# --- A new text -------------------------------------------------------------------------

async def new_text_action(request: Request) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    form = await protected_form(request)
    return await run_in_threadpool(_create, request, person, city, form)


def _create(request: Request, person: Person, city: str, form: FormData) -> Response:
    kind = "page" if form.get("kind") == "page" else "post"
    page = FormPage(city=city, kind=kind, rel="", base="",
                    actions=actions_for_new(person, city, kind))
    values = posted_values(form, kind)
    if form.get("photos") == ALL_PHOTOS:
        return _with_all_photos(request, person, page, values)
    action = str(form.get("action", "save"))
    if action not in page.actions:
        page.refused = _not_allowed(kind)
        return render_form(request, person, page, values, 403)
    try:
        file = new_text_file(runtime(request).settings.content_dir, city, kind,
                             values["title"], values["date"], _today())
    except PathRefused as refused:
        page.errors["title"] = [str(refused)]
        return render_form(request, person, page, values, 400)
    draft = draft_from_form(form, Draft({"status": "draft"}, ""), kind)
    return _apply(request, person, file, page, values, form, action, draft)


# --- An existing text -------------------------------------------------------------------

async def text_action(request: Request) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    file = document_of(request, city, request.path_params["path"])
    form = await protected_form(request)
    return await run_in_threadpool(_edit, request, person, file, form)


def _edit(request: Request, person: Person, file: CityFile, form: FormData) -> Response:
    action = str(form.get("action", ""))
    if action == "delete":
        return RedirectResponse(f"/editeur/{file.city}/supprimer/{quote(file.rel)}",
                                status_code=303)
    committed = checkout(request).text(file)
    status = status_of(committed)
    page = FormPage(city=file.city, kind=file.kind, rel=file.rel,
                    base=str(form.get("base", "")), status=status,
                    actions=allowed_actions(person, file, status))
    values = posted_values(form, file.kind)
    if form.get("photos") == ALL_PHOTOS:
        return _with_all_photos(request, person, page, values)
    try:
        previous = read_draft(committed) if committed is not None else Draft({}, "")
    except DraftError:
        previous = Draft({}, "")
    return _apply(request, person, file, page, values, form, action,
                  draft_from_form(form, previous, file.kind))


def _apply(request: Request, person: Person, file: CityFile, page: FormPage,
           values: dict[str, str], form: FormData, action: str, draft: Draft) -> Response:
    """Hand the action to the workflow; the form again (with the reason) if it did not go."""
    if action not in FORM_ACTIONS:
        raise HTTPException(400, "Ce bouton n'existe pas : rechargez la page et réessayez.")
    if not values["title"].strip():
        page.errors["title"] = ["donnez un titre à votre texte"]
        return render_form(request, person, page, values, 400)
    text = write_draft(draft)
    publish_at = None
    if action == "schedule":
        publish_at = _publish_moment(values)
        if publish_at is None:
            page.errors["publish_date"] = ["choisissez le jour (et l'heure) de publication"]
            return render_form(request, person, page, values, 400)
    try:
        outcome = workflow(request).act(
            person, author_of(request, person), file, action, text=text, base=page.base,
            comment=values["comment"], publish_at=publish_at)
    except Refused as refused:
        page.refused = str(refused)
        return render_form(request, person, page, values, 403)
    except Invalid as invalid:
        place_problems(page, invalid.problems)
        return render_form(request, person, page, values, 400)
    except EditConflict as conflict:
        page.rel, page.base = file.rel, conflict.theirs_blob
        page.conflict = conflict_context(conflict, text)
        return render_form(request, person, page, values, 409)
    except CheckoutError as error:
        page.refused = (f"l'enregistrement n'a pas pu se faire ({error}). Ce que vous avez "
                        "écrit est toujours dans le formulaire : réessayez dans un moment")
        return render_form(request, person, page, values, 503)
    tell(request, person, file, action, values["comment"])
    forget_after_save(request, person, file, form)  # the autosave is now in the commit
    return after(file, outcome)


def form_again(request: Request, person: Person, city: str, form: FormData,
               changes: dict[str, str], notice: str) -> Response:
    """The edit form as it was posted, with `changes` and a notice, nothing saved: a step
    the page takes without script (a photo sent as the main photo is then chosen)."""
    kind = "page" if form.get("kind") == "page" else "post"
    rel = str(form.get("path", ""))
    if rel:
        file = document_of(request, city, rel)
        status = status_of(checkout(request).text(file))
        page = FormPage(city=city, kind=file.kind, rel=file.rel, base=str(form.get("base", "")),
                        status=status, actions=allowed_actions(person, file, status))
    else:
        page = FormPage(city=city, kind=kind, rel="", base="",
                        actions=actions_for_new(person, city, kind))
    values = {**posted_values(form, page.kind), **changes}
    values["autosave_key"] = str(form.get("autosave_key", ""))[:100]
    page.done = notice
    return render_form(request, person, page, values)


def _with_all_photos(request: Request, person: Person, page: FormPage,
                     values: dict[str, str]) -> Response:
    """« Voir toutes les photos » without script: the form again, as typed (nothing is
    saved), with every photo of the city to choose from."""
    page.all_photos = True
    return render_form(request, person, page, values)


def after(file: CityFile, outcome: Outcome) -> RedirectResponse:
    """Where an action leads: the tracking of its build, or the text (the list, when it is
    gone)."""
    if outcome.build_jobs:
        return RedirectResponse(f"/editeur/{file.city}/suivi/{outcome.build_jobs[0]}"
                                f"?texte={quote(file.rel)}", status_code=303)
    if outcome.action == "delete":
        return RedirectResponse(f"/editeur/{file.city}/?fait=delete", status_code=303)
    return RedirectResponse(f"{text_url(file)}?fait={outcome.action}", status_code=303)


def tell(request: Request, person: Person, file: CityFile, action: str, comment: str) -> None:
    """The mails the action calls for (editor_mail), queued then sent by the worker."""
    if action not in ("submit", "send_back", "publish"):
        return
    state = runtime(request)
    text = checkout(request).text(file)
    context = mail_context(state.settings.public_url, state.settings.content_dir,
                           state.settings.pelican_settings, city_name(request, file.city),
                           file, text, comment)
    with state.engine.begin() as connection:
        sent = notify(connection, person, file, action, title_of(file, text), context)
    if sent:
        state.mail.wake()


# --- Deleting ---------------------------------------------------------------------------

def delete_page(request: Request) -> Response:
    _person, file, committed = _deletable(request)
    return render_editor(request, file.city, "service/editor/delete.html", {
        "file": file, "title": title_of(file, committed), "base": checkout(request).blob(file),
        "published": status_of(committed) == "published"})


async def delete_action(request: Request) -> Response:
    city = request.path_params["city"]
    editor_of(request, city)
    form = await protected_form(request)
    return await run_in_threadpool(_delete, request, form)


def _delete(request: Request, form: FormData) -> Response:
    person, file, committed = _deletable(request)
    try:
        outcome = workflow(request).act(person, author_of(request, person), file, "delete",
                                        base=str(form.get("base", "")))
    except (Refused, Invalid, EditConflict, CheckoutError) as problem:
        reason = (", ".join(p.message for p in problem.problems)
                  if isinstance(problem, Invalid) else str(problem))
        return render_editor(request, file.city, "service/editor/delete.html", {
            "file": file, "title": title_of(file, committed), "refused": reason,
            "base": checkout(request).blob(file),
            "published": status_of(committed) == "published"}, status_code=409)
    return after(file, outcome)


def _deletable(request: Request) -> tuple[Person, CityFile, str]:
    city = request.path_params["city"]
    person = editor_of(request, city)
    file = document_of(request, city, request.path_params["path"])
    committed = checkout(request).text(file)
    if committed is None:
        raise HTTPException(404, NOT_A_TEXT)
    if not may(person, "delete", file, status_of(committed)):
        raise HTTPException(403, "Seul·e un·e responsable de la ville peut supprimer un texte.")
    return person, file, committed


# --- Helpers ----------------------------------------------------------------------------

def posted_values(form: FormData, kind: str) -> dict[str, str]:
    """Everything the person typed, to fill the form again as it was."""
    values = form_values(draft_from_form(form, None, kind))
    values["title"] = str(form.get("title", ""))[:MAX_FIELD]  # as typed, spaces included
    for name in ("date", "time", "event_start_date", "event_start_time", "event_end_date",
                 "event_end_time"):  # a date typed wrong is shown as typed
        values[name] = " ".join(str(form.get(name, "")).split())[:MAX_FIELD]
    for name in EXTRA_FIELDS:
        values[name] = str(form.get(name, ""))[:MAX_COMMENT]
    return values


def _publish_moment(values: dict[str, str]) -> datetime | None:
    day, time = values["publish_date"].strip(), values["publish_time"].strip() or "08:00"
    if not _DATE.match(day) or not _TIME.match(time):
        return None
    try:
        hours, minutes = (int(part) for part in time.split(":"))
        local = datetime.fromisoformat(day).replace(hour=hours, minute=minutes, tzinfo=PARIS)
    except ValueError:
        return None
    return local.astimezone(UTC)


def _today() -> datetime:
    return datetime.now(UTC).astimezone(PARIS)


def _not_allowed(kind: str) -> str:
    if kind == "page":
        return "les pages de la ville sont écrites par ses responsables"
    return "vous n'avez pas le droit de faire cela pour ce texte"


routes = [
    Route("/editeur/{city}/nouveau", new_text_action, methods=["POST"]),
    Route("/editeur/{city}/texte/{path:path}", text_action, methods=["POST"]),
    Route("/editeur/{city}/supprimer/{path:path}", delete_page, methods=["GET"]),
    Route("/editeur/{city}/supprimer/{path:path}", delete_action, methods=["POST"]),
]
