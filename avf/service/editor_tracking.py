"""`/editeur/<city>/suivi/<job>`: "Mise en ligne en cours…" until the build that puts a
text online is done, then "En ligne" with the link to the page — or the build's errors,
in French. The page asks the browser to come back every few seconds (a `Refresh` header:
no script needed); `?format=json` gives the same for the editor's own script.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from avf.editor.addresses import address_of
from avf.editor.paths import CityFile, PathRefused, city_file
from avf.editor.workflow import status_of
from avf.service.editor_access import checkout, editor_of
from avf.service.editor_mail import title_of
from avf.service.editor_view import render_editor, text_url
from avf.service.repo import EVERY_CITY
from avf.service.runtime import runtime
from avf.store.schema import build_jobs

REFRESH_SECONDS = 2
UNKNOWN_JOB = "Cette mise en ligne n'existe pas."
ELSEWHERE = ("un problème dans une autre partie du réseau, que le webmaster du réseau "
             "peut voir")


def tracking_page(request: Request) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    state = runtime(request)
    with state.engine.connect() as connection:
        job = connection.execute(select(build_jobs).where(
            build_jobs.c.id == request.path_params["job"], build_jobs.c.kind == "build",
            build_jobs.c.city.in_((city, EVERY_CITY)))).mappings().first()
    if job is None:
        raise HTTPException(404, UNKNOWN_JOB)
    finished = job["status"] in ("done", "failed")
    file = _text_of(request, city)
    text = checkout(request).text(file) if file else None
    online = None
    if file and text is not None and status_of(text) == "published":
        online = address_of(state.settings.content_dir, file, text,
                            state.settings.pelican_settings)
    errors = json.loads(job["errors"] or "[]") if job["status"] == "failed" else []
    if job["city"] == EVERY_CITY and not person.is_webmaster:
        errors = errors_of(city, errors)
    if request.query_params.get("format") == "json":
        return JSONResponse({"status": job["status"], "finished": finished,
                             "url": online if job["status"] == "done" else None,
                             "errors": errors}, headers={"Cache-Control": "private, no-store"})
    response = render_editor(request, city, "service/editor/tracking.html", {
        "job": job, "finished": finished, "errors": errors, "online": online,
        "file": file, "title": title_of(file, text) if file else "",
        "edit_url": text_url(file) if file and text is not None else None,
        "published": text is not None and status_of(text) == "published"})
    if not finished:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


def errors_of(city: str, errors: list[dict[str, object]]) -> list[dict[str, object]]:
    """A whole-network build's errors as one city's editors see them: their city's, and
    a word that the rest is elsewhere — never another city's files and problems."""
    own = [error for error in errors if error.get("city") == city]
    if len(own) < len(errors):
        own.append({"file": None, "line": None, "message": ELSEWHERE})
    return own


def _text_of(request: Request, city: str) -> CityFile | None:
    """The text the action was about (`?texte=`), named safely; None if not one."""
    rel = request.query_params.get("texte", "")
    if not rel:
        return None
    try:
        file = city_file(runtime(request).settings.content_dir, city, rel)
    except PathRefused:
        return None
    return file if file.kind in ("post", "page") else None


routes = [Route("/editeur/{city}/suivi/{job:int}", tracking_page)]
