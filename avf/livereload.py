"""Live reload for `avf watch`: pages served in watch mode reload when a rebuild lands.

The dev server adds a few lines of script to each HTML page it serves; the script listens
to a Server-Sent Events stream (`/__avf/events`) and reloads the page on each new build.
Published files are never changed: the script exists only in the dev server's responses.
"""

from __future__ import annotations

import threading

EVENTS_PATH = "/__avf/events"
SCRIPT = (
    "<script>new EventSource('" + EVENTS_PATH + "').addEventListener('build',"
    "function(){location.reload()})</script>"
).encode()
HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle stream


class BuildSignal:
    """A counter of finished builds that event streams wait on."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.builds = 0
        self.closed = False

    def notify(self) -> None:
        with self._condition:
            self.builds += 1
            self._condition.notify_all()

    def wait_after(self, seen: int, timeout: float) -> int:
        """Block until a build newer than `seen` (or the timeout); return the count."""
        with self._condition:
            self._condition.wait_for(lambda: self.builds > seen or self.closed, timeout)
            return self.builds

    def close(self) -> None:
        with self._condition:
            self.closed = True
            self._condition.notify_all()


def inject(html: bytes) -> bytes:
    """The page with the reload script just before </body> (or at the end)."""
    marker = html.rfind(b"</body>")
    return html + SCRIPT if marker < 0 else html[:marker] + SCRIPT + html[marker:]
