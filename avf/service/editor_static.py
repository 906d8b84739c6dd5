"""The web editor's browser side: the bundled script and styles (Milkdown Crepe, built by
`./run`'s node step from `editor-src/` into `editor_static/build/`), served at
`/editeur/static/<name>` with a name that changes with the content (so cached for a
year), and the Content-Security-Policy of every editor page and preview.

Without the bundle (no npm on the machine) the pages name no script: the form works with
its plain text area.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avf.service.static_headers import CACHE_IMMUTABLE, SECURITY_HEADERS

BUILD_DIR = Path(__file__).resolve().parent / "editor_static" / "build"
STATIC_PATH = "/editeur/static/"
# Editor pages and previews: only our own files run or load. Inline styles are allowed:
# ProseMirror and Crepe's menus position themselves with `style` attributes (floating-ui),
# which `style-src` also governs. `blob:` images: a photo chosen on the phone is shown
# before it is sent. `form-action 'self'`: forms post only to the service.
EDITOR_POLICY = ("default-src 'self'; img-src 'self' data: blob:; "
                 "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class EditorBundle:
    """The names of the built files, read from the build's manifest (again when it
    changes: `./run` may rebuild while the service runs)."""

    def __init__(self, folder: Path = BUILD_DIR):
        self.folder = folder
        self._seen: tuple[float, dict[str, str]] = (-1.0, {})

    def files(self) -> dict[str, str]:
        """{"js": "editor-<hash>.js", "css": "editor-<hash>.css"}, or {} without a build."""
        manifest = self.folder / "manifest.json"
        try:
            stamp = manifest.stat().st_mtime
        except OSError:
            return {}
        if stamp != self._seen[0]:
            try:
                names = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            found = {kind: name for kind, name in names.items()
                     if isinstance(name, str) and (self.folder / name).is_file()}
            self._seen = (stamp, found if len(found) == 2 else {})
        return self._seen[1]

    def urls(self) -> dict[str, str]:
        """The files' URLs for the page's `<script>` and `<link>` ({} without a build)."""
        return {kind: STATIC_PATH + name for kind, name in self.files().items()}


def editor_bundle(request: Request) -> EditorBundle:
    return request.app.state.editor_bundle  # type: ignore[no-any-return]


def static_file(request: Request) -> FileResponse:
    """A file of the bundle: only the names the manifest lists (nothing else of the
    folder, no path), cached for a year since the name changes with the content."""
    name = request.path_params["name"]
    bundle = editor_bundle(request)
    if name not in bundle.files().values():
        raise HTTPException(404)
    return FileResponse(bundle.folder / name, media_type=_TYPES[Path(name).suffix],
                        headers={"Cache-Control": CACHE_IMMUTABLE, **SECURITY_HEADERS})


class EditorPolicy:
    """Adds EDITOR_POLICY to every answer under /editeur/ (pages, previews, errors)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (path == "/editeur" or path.startswith("/editeur/")):
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.lower() != b"content-security-policy"]
                headers.append((b"content-security-policy", EDITOR_POLICY.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_policy)


routes = [Route(STATIC_PATH + "{name}", static_file, methods=["GET", "HEAD"])]
