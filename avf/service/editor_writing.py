"""The writing aids of the edit page: autosave (POST /editeur/<ville>/autosauvegarde, and
/ecarter to discard it), what `service/editor/_writing.html` needs to draw its part of the
form (`writing_context`, a template global), and the "mode d'emploi" (/editeur/aide/).

Autosave answers JSON to the page's script. It keeps the whole file as it would be saved
(`write_draft(draft_from_form(...))`) for people who may save that file, at most
AUTOSAVE_LIMIT times a minute per person and city.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from avf.editor.drafts import DraftError, read_draft, write_draft
from avf.editor.form import draft_from_form
from avf.editor.paths import CityFile, PathRefused, city_file
from avf.editor.workflow import may, status_of
from avf.service.autosaves import (
    MAX_TEXT,
    autosave_path,
    find_autosave,
    forget_autosave,
    french_moment,
    french_time,
    keep_autosave,
)
from avf.service.csrf import protected_form
from avf.service.editor_access import checkout, editor_of
from avf.service.editor_static import editor_bundle
from avf.service.people import Person
from avf.service.ratelimit import Limit, RateLimiter
from avf.service.runtime import runtime

AUTOSAVE_LIMIT = Limit("editor-autosave", attempts=30, window=timedelta(minutes=1))
TOO_OFTEN = ("Enregistrement automatique en pause quelques instants : votre texte est "
             "gardé sur cet appareil.")
TOO_LONG = "Ce texte est trop long pour être enregistré automatiquement."
REFUSED = "Vous ne pouvez pas modifier ce texte : il n'est pas enregistré automatiquement."


def editable_file(request: Request, person: Person, city: str, form: FormData
                   ) -> tuple[CityFile | None, str]:
    """The file the form edits (None for a new text) and its committed text; 403 when
    the person may not save it (a reporter and a published text, a page…)."""
    content_dir = runtime(request).settings.content_dir
    rel = str(form.get("path", ""))
    kind = "page" if form.get("kind") == "page" else "post"
    try:
        file = city_file(content_dir, city, rel or f"{kind}s/nouveau.md")
    except PathRefused:
        raise HTTPException(404, REFUSED) from None
    committed = checkout(request).text(file) if rel else None
    if file.kind not in ("post", "page") or not may(person, "save", file,
                                                       status_of(committed)):
        raise HTTPException(403, REFUSED)
    return (file if rel else None), committed or ""


async def autosave(request: Request) -> Response:
    city = request.path_params["city"]
    try:
        person = editor_of(request, city)
        form = await protected_form(request)
    except HTTPException as error:
        return JSONResponse({"saved": False, "message": error.detail},
                            status_code=error.status_code)
    return await run_in_threadpool(_autosave, request, person, city, form)


def _autosave(request: Request, person: Person, city: str, form: FormData) -> Response:
    state = runtime(request)
    try:
        file, committed = editable_file(request, person, city, form)
    except HTTPException as error:
        return JSONResponse({"saved": False, "message": error.detail},
                            status_code=error.status_code)
    path = autosave_path(file.rel if file else "", str(form.get("autosave_key", "")))
    if path is None:
        return JSONResponse({"saved": False, "message": REFUSED}, status_code=400)
    if not RateLimiter(state.engine, state.settings.secret_key).allow(
            AUTOSAVE_LIMIT, f"{person.id}:{city}"):
        return JSONResponse({"saved": False, "message": TOO_OFTEN}, status_code=429)
    try:
        previous = read_draft(committed) if committed else None
    except DraftError:
        previous = None
    kind = file.kind if file else ("page" if form.get("kind") == "page" else "post")
    text = write_draft(draft_from_form(form, previous, kind))
    if len(text) > MAX_TEXT:
        return JSONResponse({"saved": False, "message": TOO_LONG}, status_code=413)
    with state.engine.begin() as connection:
        moment = keep_autosave(connection, person.id, city, path,
                               str(form.get("base", ""))[:64], text)
    return JSONResponse({"saved": True, "time": french_time(moment),
                         "when": int(moment.timestamp() * 1000)})


async def discard(request: Request) -> Response:
    """"L'écarter": the person's unsaved version goes; back to the page (JSON for the
    script)."""
    city = request.path_params["city"]
    person = editor_of(request, city)
    form = await protected_form(request)
    rel = str(form.get("path", ""))
    path = autosave_path(rel, str(form.get("autosave_key", "")))
    if path is not None:
        def forget() -> None:
            with runtime(request).engine.begin() as connection:
                forget_autosave(connection, person.id, city, path)
        await run_in_threadpool(forget)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"discarded": path is not None})
    back = f"/editeur/{city}/texte/{quote(rel)}" if rel else f"/editeur/{city}/nouveau"
    return RedirectResponse(back, status_code=303)


def forget_after_save(request: Request, person: Person, file: CityFile,
                      form: FormData) -> None:
    """A committed save: the person's unsaved version of the file (and of the new text the
    form was, `new:<autosave_key>`) is gone. Called by the edit page's action handler."""
    paths = [file.rel]
    new = autosave_path("", str(form.get("autosave_key", "")))
    if new is not None and not form.get("path"):
        paths.append(new)
    with runtime(request).engine.begin() as connection:
        for path in paths:
            forget_autosave(connection, person.id, file.city, path)


def writing_context(request: Request) -> dict[str, object]:
    """What `_writing.html` draws: the bundle's files, the endpoints, and the person's
    unsaved version of the text the page edits (if newer than the committed one). The
    page's city and file come from its URL (`/editeur/<ville>/texte/<path>`, or
    `/editeur/<ville>/nouveau` for a new text)."""
    city = str(request.path_params.get("city", ""))
    rel = str(request.path_params.get("path", ""))
    person = getattr(request.state, "person", None)
    state = runtime(request)
    context: dict[str, object] = {
        "bundle": editor_bundle(request).urls(), "city": city, "path": rel,
        "autosave": None, "autosave_when": "", "committed_at": 0, "base": "",
        "photo_base": f"/editeur/{city}/photos/", "may_set_main_photo": True,
    }
    if not city or person is None:
        return context
    committed_at: datetime | None = None
    if rel:
        try:
            file = city_file(state.settings.content_dir, city, rel)
            work = checkout(request)
            last = work.last_change(file)
            context["base"] = work.blob(file)
        except (PathRefused, HTTPException):
            return context
        committed_at = last.when if last else None
        context["committed_at"] = int(committed_at.timestamp() * 1000) if committed_at else 0
    found = find_autosave(state.engine, person.id, city, rel, committed_at)
    if found is not None:
        context["autosave"] = found
        context["autosave_when"] = french_moment(found.saved_at)
    return context


def help_page(request: Request) -> Response:
    """The "mode d'emploi": how to write, add a photo, publish, remove a text."""
    return runtime(request).templates.render(request, "service/editor/help.html",
                                             {"editor_city": None})


routes = [
    Route("/editeur/aide/", help_page, methods=["GET"]),
    Route("/editeur/{city}/autosauvegarde", autosave, methods=["POST"]),
    Route("/editeur/{city}/autosauvegarde/ecarter", discard, methods=["POST"]),
]
