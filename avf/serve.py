"""Serve the built public sites over HTTP until the companion service replaces this.

Only OUT/public is served: member-only pages (OUT/members) are never reachable here.
In watch mode (`signal` given), HTML pages get the live-reload script and
`/__avf/events` streams a message after each rebuild.
"""

from __future__ import annotations

import contextlib
import functools
import os
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from avf.livereload import EVENTS_PATH, HEARTBEAT, BuildSignal, inject


class PublicSiteHandler(SimpleHTTPRequestHandler):
    """Static files with French 404s; dot files (releases, temporary links) are hidden."""

    signal: BuildSignal | None = None
    error_message_format = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        "<title>%(message)s</title></head><body><main><h1>%(message)s</h1>"
        '<p>Cette page n\'existe pas ou plus. <a href="/">Retour à l\'accueil du réseau '
        "AVF</a></p></main></body></html>"
    )
    error_content_type = "text/html; charset=utf-8"

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        french = {404: "Page introuvable", 403: "Accès refusé", 405: "Méthode non permise"}
        super().send_error(code, french.get(code, message), explain)

    def do_GET(self) -> None:
        if self.signal is not None and self.path == EVENTS_PATH:
            self._stream_builds(self.signal)
            return
        if self.signal is not None and self._serve_with_reload():
            return
        super().do_GET()

    def send_head(self):  # type: ignore[no-untyped-def]
        if any(part.startswith(".") for part in self.path.split("?")[0].split("/")):
            self.send_error(404, "Page introuvable")
            return None
        return super().send_head()

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        """No folder listings: a folder without index.html is simply not a page."""
        self.send_error(404, "Page introuvable")
        return None

    def log_message(self, format: str, *args: object) -> None:
        return

    def _serve_with_reload(self) -> bool:
        """Serve an HTML page with the reload script; False for anything else."""
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        if not path.endswith(".html") or not os.path.isfile(path) or "/." in self.path:
            return False
        with open(path, "rb") as page:
            body = inject(page.read())
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        return True

    def _stream_builds(self, signal: BuildSignal) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = signal.builds
        with contextlib.suppress(OSError):
            while not signal.closed:
                now = signal.wait_after(seen, timeout=HEARTBEAT)
                message = b"event: build\ndata: %d\n\n" % now if now > seen else b": ping\n\n"
                seen = now
                self.wfile.write(message)
                self.wfile.flush()


def make_server(public_dir: Path, host: str, port: int,
                signal: BuildSignal | None = None) -> ThreadingHTTPServer:
    handler = functools.partial(
        type("Handler", (PublicSiteHandler,), {"signal": signal}), directory=str(public_dir))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_static(public_dir: Path, host: str, port: int) -> None:
    with make_server(public_dir, host, port) as server, \
            contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
