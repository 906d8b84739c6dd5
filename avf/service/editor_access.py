"""What every page of the web editor starts with: who may edit which city, the file a URL
names (through `avf.editor.paths`, the security boundary), and the checkout and workflow
that write it. The pages themselves are in the `editor_*` modules.

Reporters, admins and the webmaster edit; members and strangers get the French 403 (or the
sign-in page). The network's own folder (`_network`) is the webmaster's alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request

from avf.content.loader import NETWORK_SLUG
from avf.editor.checkout import Author, Checkout, CheckoutError, volunteer_author
from avf.editor.paths import CityFile, PathRefused, city_file, city_folder
from avf.editor.workflow import Workflow
from avf.service.people import Person
from avf.service.permissions import require_role, require_webmaster
from avf.service.runtime import runtime


def editor_of(request: Request, city: str) -> Person:
    """The signed-in person, if they may write in `city` (reporter or more); the city must
    exist. 404 for an unknown city, 403 for another city's volunteer."""
    try:
        city_folder(runtime(request).settings.content_dir, city)
    except PathRefused:
        raise HTTPException(404, "Cette ville n'existe pas.") from None
    if city == NETWORK_SLUG:
        return require_webmaster(request)
    return require_role(request, "reporter", city)


def named_file(request: Request, city: str, rel: str) -> CityFile:
    """The file `rel` of `city`, named safely; a French 404 for anything else."""
    try:
        return city_file(runtime(request).settings.content_dir, city, rel)
    except PathRefused as refused:
        raise HTTPException(404, f"Ce fichier n'existe pas : {refused}.") from None


def checkout(request: Request) -> Checkout:
    settings = runtime(request).settings
    try:
        return Checkout(settings.content_dir, settings.git_branch)
    except CheckoutError as error:
        raise HTTPException(503, f"L'éditeur ne peut pas enregistrer : {error}.") from None


def workflow(request: Request) -> Workflow:
    state = runtime(request)
    return Workflow(state.settings.content_dir, state.engine, checkout(request),
                    state.builds.request)


def author_of(request: Request, person: Person) -> Author:
    """The person as the author of their commits (name + a no-reply address)."""
    host = urlsplit(runtime(request).settings.public_url).hostname or "avf.invalid"
    return volunteer_author(person.id, person.display_name, host)


def editable_cities(person: Person, all_cities: list[str]) -> list[str]:
    """The cities a person may write in, the network's folder first for the webmaster."""
    if person.is_webmaster:
        return [NETWORK_SLUG, *all_cities]
    return [city for city in person.cities("reporter") if city in all_cities]
