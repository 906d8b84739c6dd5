"""A background worker: a thread that does one pass of its work, then sleeps until it is
woken or its next pass is due, until it is stopped. The service's mail sender, build queue
and housekeeping are each one."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class BackgroundWorker:
    """Subclasses give `run_pass()` (one pass of the work) and may give `seconds_to_next()`
    (how long to sleep after a pass unless woken; `poll_seconds` by default)."""

    name = "avf-worker"
    poll_seconds = 10.0

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pass(self) -> object:
        raise NotImplementedError

    def seconds_to_next(self) -> float:
        return self.poll_seconds

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the pass in progress (never cut short)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """Do a pass now (e.g. a request queued work and committed it)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pass()
            except Exception:  # the database itself failed: log, keep the thread alive
                log.exception("%s: pass failed", self.name)
            self._wake.wait(self.seconds_to_next())
            self._wake.clear()
