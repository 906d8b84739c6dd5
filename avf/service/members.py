"""Member-only pages: `/membres/<city>/…` serves `OUT/members/<city>/…` to the people who
may read that city's members' area (its members, reporters, admins; the webmaster).

`OUT/members/<city>` is a link to the city's current release (build/publish.py). A path
is served only if, once every link is resolved, it is still a file inside that release:
no `..`, no hidden file, no link leading out.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import SLUG_PATTERN
from avf.service.permissions import require_role
from avf.service.runtime import runtime

PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


def member_page(request: Request) -> Response:
    city = request.path_params["city"]
    path = request.path_params.get("path", "")
    if not SLUG_PATTERN.match(city):
        raise HTTPException(404)
    require_role(request, "member", city)
    target = member_file(runtime(request).settings.members_dir, city, path)
    if target is None:
        raise HTTPException(404, "Cette page de l'espace adhérents n'existe pas ou plus.")
    if target.name == "index.html" and path and not path.endswith(("/", "index.html")):
        # A folder asked without its slash: its page's relative links need the slash.
        return RedirectResponse(f"/membres/{city}/{path}/", status_code=308)
    return FileResponse(target, headers=PRIVATE)


def member_file(members_dir: Path, city: str, path: str) -> Path | None:
    """The file `path` names in the city's members' area (a folder's index.html), or None
    when there is none or the path would leave the area."""
    parts = [part for part in path.split("/") if part]
    if any(part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        return None
    area = (members_dir / city).resolve()
    if not area.is_dir():
        return None
    target = area.joinpath(*parts).resolve()
    if target.is_dir():
        target = (target / "index.html").resolve()
    return target if target.is_relative_to(area) and target.is_file() else None


async def to_folder(request: Request) -> Response:
    return RedirectResponse(f"/membres/{request.path_params['city']}/", status_code=308)


routes = [
    Route("/membres/{city}", to_folder),
    Route("/membres/{city}/{path:path}", member_page),
]
