"""The national webmaster's dashboard (`/admin/`): every city's builds, errors and
publications, the network's figures, and rebuild buttons that ask the build queue.

Pages are plain functions (Starlette runs them in its thread pool): they read files and
the database, which must never block the event loop that serves everyone else."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.service.csrf import protected_form
from avf.service.overview import PARIS, CityRow, city_rows, network_figures
from avf.service.permissions import require_webmaster
from avf.service.runtime import runtime
from avf.store.schema import build_jobs

HISTORY = 30  # builds shown on a city's page
FILTERS = (("", "toutes"), ("echec", "en échec"), ("dormantes", "sans publication depuis 60 jours"),
           ("attente", "construction en attente"))
JOB_STATES = {"queued": "en attente", "running": "en cours", "done": "réussie",
              "failed": "en échec"}


def overview(request: Request) -> Response:
    require_webmaster(request)
    state = runtime(request)
    settings = state.settings
    now = datetime.now(UTC)
    today = now.astimezone(PARIS).date()
    rows = _named(request, city_rows(settings.content_dir, settings.output_dir, state.engine))
    figures = network_figures(rows, state.engine, now)
    chosen = request.query_params.get("filtre", "")
    shown = [row for row in rows if _matches(row, chosen, today)]
    # What needs the webmaster first: failing cities, then dormant ones, then the others.
    shown.sort(key=lambda row: (row.status != "failed", not row.is_dormant(today), row.name))
    return state.templates.render(request, "service/admin_index.html", {
        "rows": shown, "figures": figures, "today": today, "filters": FILTERS,
        "current_filter": chosen, "filter_label": dict(FILTERS).get(chosen, "")})


def city(request: Request) -> Response:
    require_webmaster(request)
    state = runtime(request)
    slug = request.path_params["city"]
    row = _row(request, slug)
    with state.engine.connect() as connection:
        history = connection.execute(
            select(build_jobs).where(build_jobs.c.kind == "build",
                                     build_jobs.c.city.in_((slug, "*")))
            .order_by(build_jobs.c.id.desc()).limit(HISTORY)).mappings().all()
    return state.templates.render(request, "service/admin_city.html", {
        "row": row, "history": history, "job_states": JOB_STATES,
        "today": datetime.now(UTC).astimezone(PARIS).date()})


def build_log(request: Request) -> Response:
    require_webmaster(request)
    state = runtime(request)
    with state.engine.connect() as connection:
        job = connection.execute(select(build_jobs).where(
            build_jobs.c.id == request.path_params["job"])).mappings().first()
    if job is None:
        raise HTTPException(404)
    return state.templates.render(request, "service/admin_build.html", {
        "job": job, "errors": json.loads(job["errors"] or "[]"), "job_states": JOB_STATES})


async def rebuild_city(request: Request) -> Response:
    person = require_webmaster(request)
    await protected_form(request)
    slug = request.path_params["city"]
    await run_in_threadpool(_row, request, slug)  # 404 for a city the network does not have
    await run_in_threadpool(runtime(request).builds.request, [slug],
                            "bouton « Reconstruire » du tableau de bord",
                            requested_by=person.email, force=True)
    return RedirectResponse(f"/admin/villes/{slug}", status_code=303)


async def rebuild_network(request: Request) -> Response:
    person = require_webmaster(request)
    await protected_form(request)
    await run_in_threadpool(runtime(request).builds.request, ["*"],
                            "bouton « Reconstruire tout le réseau »",
                            requested_by=person.email, force=True)
    return RedirectResponse("/admin/?filtre=attente", status_code=303)


def _row(request: Request, slug: str) -> CityRow:
    settings = runtime(request).settings
    for row in city_rows(settings.content_dir, settings.output_dir, runtime(request).engine):
        if row.slug == slug:
            return _named(request, [row])[0]
    raise HTTPException(404, "Cette ville ne fait pas partie du réseau.")


def _named(request: Request, rows: list[CityRow]) -> list[CityRow]:
    """A city never built yet has no name in the report: take it from its card."""
    for row in rows:
        if row.name == row.slug:
            row.name = runtime(request).cities.name(row.slug)
    return rows


def _matches(row, chosen: str, today) -> bool:  # type: ignore[no-untyped-def]
    return {"echec": row.status == "failed", "dormantes": row.is_dormant(today),
            "attente": row.queued}.get(chosen, True)


routes = [
    Route("/admin/", overview),
    Route("/admin/villes/{city:str}", city),
    Route("/admin/villes/{city:str}/reconstruire", rebuild_city, methods=["POST"]),
    Route("/admin/reconstruire", rebuild_network, methods=["POST"]),
    Route("/admin/constructions/{job:int}", build_log),
]
