"""Serve the built public sites over HTTP until the companion service replaces this.

Only OUT/public is served: member-only pages (OUT/members) are never reachable here.
"""

from __future__ import annotations

import contextlib
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class PublicSiteHandler(SimpleHTTPRequestHandler):
    """Static files with French 404s; dot files (releases, temporary links) are hidden."""

    def send_head(self):  # type: ignore[no-untyped-def]
        if any(part.startswith(".") for part in self.path.split("?")[0].split("/")):
            self.send_error(404, "Page introuvable")
            return None
        return super().send_head()

    def log_message(self, format: str, *args: object) -> None:
        return


def serve_static(public_dir: Path, host: str, port: int) -> None:
    handler = functools.partial(PublicSiteHandler, directory=str(public_dir))
    with ThreadingHTTPServer((host, port), handler) as server, \
            contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
