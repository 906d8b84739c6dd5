"""The preview: POST /editeur/<ville>/apercu with the edit form → the page exactly as the
site would show it, built by the real build (`queue.build_preview_site`) into
`AVF_DATA_DIR/previews/<jeton>/`, then served at /editeur/<ville>/apercu/<jeton>/… to the
person who asked only, never cached nor indexed, with an "Aperçu — pas encore publié"
banner. Previews older than PREVIEW_LIFETIME are removed when a new one is made.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from avf.content.values import PARIS
from avf.editor.drafts import DraftError, read_draft, write_draft
from avf.editor.form import draft_from_form
from avf.editor.paths import PathRefused, new_text_file
from avf.service.csrf import protected_form
from avf.service.editor_access import editor_of
from avf.service.editor_writing import editable_file
from avf.service.people import Person
from avf.service.queue import build_preview_site
from avf.service.ratelimit import Limit, RateLimiter
from avf.service.runtime import runtime
from avf.service.static_headers import CONTENT_TYPES, DEFAULT_TYPE, TEXT_TYPES, extension

PREVIEW_LIFETIME = 60 * 60  # seconds: long enough to look, short enough to forget
# Each preview builds the whole city in the service's process and keeps a copy for an
# hour: a person asking for them in a loop would take the machine's time and disk.
PREVIEW_LIMIT = Limit("editor-preview", attempts=30, window=timedelta(minutes=10))
TOO_MANY = ("Vous avez demandé beaucoup d'aperçus : attendez quelques minutes avant d'en "
            "demander un autre. Votre texte n'est pas perdu.")
OWNER = "owner.json"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
BANNER = ('<div class="avf-preview-banner" role="note" style="background:#7a2e00;'
          'color:#fff;padding:.8rem 1rem;font-size:1.2rem;font-weight:bold;'
          'text-align:center;position:sticky;top:0;z-index:100">'
          "Aperçu — pas encore publié</div>")
FAILED = "service/editor/preview_failed.html"


def previews_dir(request: Request) -> Path:
    return runtime(request).settings.data_dir / "previews"


async def make_preview(request: Request) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    form = await protected_form(request)
    return await run_in_threadpool(_make_preview, request, person, city, form)


def _make_preview(request: Request, person: Person, city: str, form: FormData) -> Response:
    state = runtime(request)
    file, committed = editable_file(request, person, city, form)
    if not RateLimiter(state.engine, state.settings.secret_key).allow(PREVIEW_LIMIT,
                                                                       str(person.id)):
        raise HTTPException(429, TOO_MANY)
    kind = file.kind if file else ("page" if form.get("kind") == "page" else "post")
    try:
        previous = read_draft(committed) if committed else None
    except DraftError:
        previous = None
    draft = draft_from_form(form, previous, kind)
    rel = file.rel if file else _new_rel(state.settings.content_dir, city, kind,
                                         draft.title, str(form.get("date", "")))
    folder = previews_dir(request)
    _forget_old(folder)
    token = secrets.token_urlsafe(16)
    here = folder / token
    here.mkdir(parents=True)
    (here / OWNER).write_text(json.dumps({"person": person.id, "city": city}))
    theme_version = str(state.templates.environment.globals["THEME_URL"]).rsplit("/", 1)[-1]
    preview = build_preview_site(state.settings, city, rel, write_draft(draft), here / "site",
                                 f"/editeur/{city}/apercu/{token}", theme_version)
    if preview.errors or not preview.page:
        shutil.rmtree(here, ignore_errors=True)
        return state.templates.render(request, FAILED, {
            "editor_city": city, "errors": preview.errors}, status_code=422)
    (here / "page").write_text(preview.page)
    tree, _, inside = preview.page.partition("/")
    prefix = f"membres/{city}" if tree == "members" else city
    inside = inside.removesuffix("index.html")
    return RedirectResponse(f"/editeur/{city}/apercu/{token}/{prefix}/{inside}",
                            status_code=303, headers={"Cache-Control": "no-store"})


def _new_rel(content_dir: Path, city: str, kind: str, title: str, day: str) -> str:
    """The name a new text would get, as saving it would name it (`new_text_file`)."""
    try:
        return new_text_file(content_dir, city, kind,  # type: ignore[arg-type]
                             title or "Aperçu", day, datetime.now(UTC).astimezone(PARIS)).rel
    except PathRefused:
        raise HTTPException(400, "Ce texte ne peut pas être prévisualisé : donnez-lui un "
                                 "titre valable.") from None


def show_preview(request: Request) -> Response:
    """A file of the person's preview: its pages (with the banner), photos, the theme."""
    city, token = request.path_params["city"], request.path_params["token"]
    person = editor_of(request, city)
    here = previews_dir(request) / token
    try:
        owner = json.loads((here / OWNER).read_text()) if _TOKEN.match(token) else {}
    except (OSError, ValueError):
        owner = {}
    if owner.get("person") != person.id or owner.get("city") != city:
        raise HTTPException(404, "Cet aperçu n'existe plus : demandez-en un nouveau depuis "
                                 "votre texte (bouton « Voir l'aperçu »).")
    target = _file_of(request, here, city, request.path_params["rest"])
    if target is None:
        raise HTTPException(404, "Cette page ne fait pas partie de l'aperçu.")
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    suffix = extension(target.name)
    media_type = CONTENT_TYPES.get(suffix, DEFAULT_TYPE)
    if media_type == "text/html":
        page = target.read_text(encoding="utf-8")
        page = re.sub(r"(<body[^>]*>)", lambda found: found.group(1) + BANNER, page, count=1)
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)
    if media_type in TEXT_TYPES:
        media_type += "; charset=utf-8"
    return FileResponse(target, media_type=media_type, headers=headers)


def _file_of(request: Request, here: Path, city: str, rest: str) -> Path | None:
    """The file `rest` names inside the preview (or the published theme), never outside."""
    parts = rest.split("/")
    if any(part in ("..", ".") or part.startswith(".") for part in parts if part):
        return None
    release = next((here / "site" / "out" / ".releases" / city).glob("*/"), None)
    if parts[0] == "theme":
        root, inside = runtime(request).settings.public_dir / "theme", parts[1:]
    elif release is not None and parts[0] == city:
        root, inside = release / "public", parts[1:]
    elif release is not None and parts[:2] == ["membres", city]:
        root, inside = release / "members", parts[2:]
    else:
        return None
    target = root.joinpath(*[part for part in inside if part])
    if target.is_dir():
        target = target / "index.html"
    try:
        if not target.resolve().is_relative_to(root.resolve()) or not target.is_file():
            return None
    except OSError:
        return None
    return target


def _forget_old(folder: Path) -> None:
    """Remove previews older than PREVIEW_LIFETIME."""
    if not folder.is_dir():
        return
    limit = time.time() - PREVIEW_LIFETIME
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < limit:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


routes = [
    Route("/editeur/{city}/apercu", make_preview, methods=["POST"]),
    Route("/editeur/{city}/apercu/{token}/{rest:path}", show_preview, methods=["GET"]),
]
