"""Member-only pages: `/membres/<city>/…` serves `OUT/members/<city>/…` to the people who
may read that city's members' area (its members, reporters, admins; the webmaster). The
area's home, `/membres/<city>/` itself, is a service page (members_home.py).

`OUT/members/<city>` is a link to the city's current release (build/publish.py). A path
is served only if, once every link is resolved, it is still a file inside that release:
no `..`, no hidden file, no empty segment, no escaped separator, no link leading out.

Checks run in this order, so that a refusal tells nothing a stranger should not learn: the
URL's shape (404 for everyone: it names no file of anyone's), then who is asking (sign-in
or 403), then whether the file exists (404).

Behind the nginx of `deploy/` (`AVF_ACCEL_REDIRECT=1`), an allowed file is answered with
an empty body and `X-Accel-Redirect: /_avf_members/<city>/<path>`: nginx then sends the
bytes from its `internal` location, which no request from outside can reach.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import SLUG_PATTERN
from avf.service.permissions import require_role
from avf.service.runtime import runtime
from avf.service.static import url_parts
from avf.service.static_headers import content_type

PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
ACCEL_PREFIX = "/_avf_members/"  # nginx's internal location (deploy/nginx/avf.conf)
MISSING = "Cette page de l'espace adhérents n'existe pas ou plus."


def member_page(request: Request) -> Response:
    city = request.path_params["city"]
    path = request.path_params.get("path", "")
    check_members_url(request, city)
    require_role(request, "member", city)
    settings = runtime(request).settings
    found = member_file(settings.members_dir, city, path)
    if found is None:
        raise HTTPException(404, MISSING)
    if found.name == "index.html" and path and not path.endswith(("/", "index.html")):
        # A folder asked without its slash: its page's relative links need the slash.
        return RedirectResponse(f"/membres/{city}/{path}/", status_code=308)
    if settings.accel_redirect:
        return accel_response(settings.members_dir, city, found)
    return FileResponse(found, headers=PRIVATE, media_type=content_type(found.name))


def check_members_url(request: Request, city: str) -> None:
    """404 unless the URL is a well-formed one of a city's members' area (a city slug; no
    dot, empty or escaped segment); 400 for a NUL. Depends on the URL alone."""
    if not SLUG_PATTERN.match(city):
        raise HTTPException(404, MISSING)
    url_parts(request.scope["path"], request.scope.get("raw_path") or b"")


def member_file(members_dir: Path, city: str, path: str) -> Path | None:
    """The file `path` names in the city's members' area (a folder's index.html), or None
    when there is none or the path would leave the area."""
    parts = path.split("/")
    if parts and parts[-1] == "":
        parts.pop()  # a folder's trailing slash
    if any(part == "" or part.startswith(".") or "\\" in part or "\0" in part
           for part in parts):
        return None
    area = (members_dir / city).resolve()
    if not area.is_dir():
        return None
    target = area.joinpath(*parts).resolve()
    if target.is_dir():
        target = (target / "index.html").resolve()
    return target if target.is_relative_to(area) and target.is_file() else None


def accel_response(members_dir: Path, city: str, found: Path) -> Response:
    """An empty answer that tells nginx which file to send (from OUT/members, the same
    path the check resolved), with the member pages' private headers."""
    relative = found.relative_to((members_dir / city).resolve()).as_posix()
    return Response(b"", headers={
        **PRIVATE, "X-Accel-Redirect": f"{ACCEL_PREFIX}{city}/{quote(relative)}",
        "Content-Type": content_type(relative)})


async def to_folder(request: Request) -> Response:
    city = request.path_params["city"]
    check_members_url(request, city)
    return RedirectResponse(f"/membres/{city}/", status_code=308)


routes = [
    Route("/membres/{city}", to_folder),
    Route("/membres/{city}/{path:path}", member_page),
]
