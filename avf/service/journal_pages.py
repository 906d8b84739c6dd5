"""The log of role changes, read: `/editeur/<city>/journal` for a city's admins (and the
webmaster), `/admin/roles` for the webmaster (the whole network, a city filter). Newest
first, fifty to a page, each change one French sentence with its date."""

from __future__ import annotations

from math import ceil

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from avf.content.model import SLUG_PATTERN
from avf.service.member_admin import admin_of_city
from avf.service.permissions import require_webmaster
from avf.service.role_log import PAGE_SIZE, role_changes_of
from avf.service.runtime import runtime
from avf.service.team_pages import editor_page
from avf.store.schema import NETWORK, role_changes

NETWORK_FILTER = "reseau"  # `?ville=reseau`: the network's own roles (the webmaster's)


def city_journal(request: Request) -> Response:
    city, _ = admin_of_city(request)
    page = _page_number(request)
    with runtime(request).engine.connect() as connection:
        changes, total = role_changes_of(connection, city.slug, page)
    return editor_page(request, city, "service/editor/journal.html", {
        "changes": changes, "total": total, **_pages(page, total)})


def network_journal(request: Request) -> Response:
    require_webmaster(request)
    page = _page_number(request)
    wanted = request.query_params.get("ville", "")
    city = NETWORK if wanted == NETWORK_FILTER else wanted if SLUG_PATTERN.match(wanted) \
        else None
    with runtime(request).engine.connect() as connection:
        changes, total = role_changes_of(connection, city, page)
        cities = list(connection.execute(select(role_changes.c.city).distinct()
                                         .order_by(role_changes.c.city)).scalars())
    return runtime(request).templates.render(request, "service/admin_roles.html", {
        "changes": changes, "total": total, "network": NETWORK_FILTER,
        "cities": [NETWORK_FILTER if one == NETWORK else one for one in cities],
        "city": NETWORK_FILTER if city == NETWORK else city or "",
        **_pages(page, total)})


def _page_number(request: Request) -> int:
    typed = request.query_params.get("page", "1")
    return int(typed) if typed.isdigit() and 0 < int(typed) < 100_000 else 1


def _pages(page: int, total: int) -> dict[str, int]:
    return {"page": page, "pages": max(1, ceil(total / PAGE_SIZE))}


routes = [
    Route("/editeur/{city}/journal", city_journal, methods=["GET"]),
    Route("/admin/roles", network_journal, methods=["GET"]),
]
