"""`/membres/<city>/annuaire/`: the city's directory, for the people who may read its
members' area (its members, reporters and admins; the webmaster), and the photos of those
listed in it. What a card shows comes from `directory.DirectoryEntry`, which holds no
address; the write form and the relay are in relay_pages.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import SLUG_PATTERN, City
from avf.service.cities import city_of_request
from avf.service.cities import render_city_page as city_page
from avf.service.directory import directory_entries, directory_entry, photo_owner_listed
from avf.service.people import Person
from avf.service.permissions import require_role
from avf.service.photos import photo_file, photos_dir
from avf.service.runtime import runtime

PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
# A photo's name changes with each upload; a member's browser may keep it a while.
PHOTO_HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                 "X-Robots-Tag": "noindex"}
UNKNOWN_CITY = "Nous ne connaissons pas cette ville."
CARD_BROKEN = ("L'espace adhérents de cette ville est momentanément indisponible. Réessayez "
               "dans quelques heures.")


def members_city(request: Request) -> tuple[City, Person]:
    """The city of the URL and the signed-in person, if they may read its members' area:
    sign-in first (GET), 403 for others, 404 for an unknown city."""
    slug = request.path_params["city"]
    if not SLUG_PATTERN.match(slug):
        raise HTTPException(404, UNKNOWN_CITY)
    person = require_role(request, "member", slug)
    return city_of_request(request, UNKNOWN_CITY, CARD_BROKEN), person


def render_city_page(request: Request, city: City, template: str, context: dict[str, object],
                     status_code: int = 200) -> Response:
    """A members' page drawn as a page of the city's site, never cached by others."""
    response = city_page(request, city, template, context, status_code)
    response.headers.update(PRIVATE)
    return response


def directory_page(request: Request) -> Response:
    city, person = members_city(request)
    with runtime(request).engine.connect() as connection:
        entries = directory_entries(connection, city.slug)
        listed = directory_entry(connection, city.slug, person.id) is not None
    return render_city_page(request, city, "service/directory.html",
                            {"entries": entries, "viewer_listed": listed})


def directory_photo(request: Request) -> Response:
    """A listed member's photo, to the people who may read the directory it is in."""
    city, _ = members_city(request)
    name = request.path_params["name"]
    folder = photos_dir(runtime(request).settings.data_dir)
    path = photo_file(folder, name)
    with runtime(request).engine.connect() as connection:
        shown = path is not None and photo_owner_listed(connection, city.slug, name)
    if path is None or not shown:
        raise HTTPException(404, "Cette photo n'existe pas ou plus.")
    return FileResponse(path, media_type="image/jpeg", headers=PHOTO_HEADERS)


async def to_directory(request: Request) -> Response:
    slug = request.path_params["city"]
    if not SLUG_PATTERN.match(slug):
        raise HTTPException(404, UNKNOWN_CITY)
    return RedirectResponse(f"/membres/{slug}/annuaire/", status_code=308)


routes = [
    Route("/membres/{city}/annuaire", to_directory),
    Route("/membres/{city}/annuaire/", directory_page, methods=["GET"]),
    Route("/membres/{city}/annuaire/photos/{name}", directory_photo, methods=["GET"]),
]
