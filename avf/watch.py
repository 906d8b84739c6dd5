"""`avf watch`: rebuild a city as soon as one of its files changes, and reload the browser.

The watching process stays warm (Pelican imported, templates compiled), so a changed post
is online in its city a fraction of a second later. A change of the network's own content
rebuilds whatever it affects (the incremental build decides), since network news appear on
every city. A change of code — the theme, the plugins, the settings or avf itself — makes
`watch` return CODE_CHANGED: a warm process holds the old code, so the caller starts a
fresh one, which rebuilds what the change affects.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from avf.build import BuildOptions, build_network
from avf.build.network import NetworkBuild
from avf.content import NETWORK_SLUG

SETTLE = 0.25  # seconds without new events before building (editors save in bursts)
EVERYTHING = "*"
CODE_CHANGED = "code"


class ChangeCollector(FileSystemEventHandler):
    """Turns file events into what to rebuild: a city slug, or EVERYTHING."""

    def __init__(self, content_dir: Path, shared_paths: list[Path], changes: queue.Queue[str]):
        self.content_dir = content_dir.resolve()
        self.shared_paths = [path.resolve() for path in shared_paths]
        self.changes = changes

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                target = self.affected(Path(str(raw)))
                if target:
                    self.changes.put(target)

    def affected(self, path: Path) -> str | None:
        path = path.resolve()
        if any(part.startswith(".") for part in path.parts[-1:]):
            return None  # editors' swap and temporary files
        if path.is_relative_to(self.content_dir):
            parts = path.relative_to(self.content_dir).parts
            if not parts:
                return None
            return EVERYTHING if parts[0] == NETWORK_SLUG else parts[0]
        if any(path.is_relative_to(shared) for shared in self.shared_paths):
            return CODE_CHANGED if path.suffix not in (".pyc", ".pyo") else None
        return None


def watch(options: BuildOptions, shared_paths: list[Path],
          on_build: Callable[[NetworkBuild], None], stop: threading.Event,
          on_error: Callable[[Exception], None] = lambda error: None) -> str | None:
    """Build once, then rebuild on every change until `stop` is set (returns None) or
    code changed (returns CODE_CHANGED). A failed rebuild is reported, not fatal."""
    _build(options, on_build, on_error)
    changes: queue.Queue[str] = queue.Queue()
    observer = Observer()
    collector = ChangeCollector(options.content_dir, shared_paths, changes)
    observer.schedule(collector, str(options.content_dir), recursive=True)
    for path in shared_paths:
        observer.schedule(collector, str(path if path.is_dir() else path.parent),
                          recursive=path.is_dir())
    observer.start()
    try:
        while not stop.is_set():
            targets = _settled(changes, stop)
            if CODE_CHANGED in targets:
                return CODE_CHANGED
            if targets:
                cities = () if EVERYTHING in targets else tuple(sorted(targets))
                existing = tuple(c for c in cities if (options.content_dir / c).is_dir())
                if cities and not existing:
                    cities = ()  # a city folder was removed: the full build retires it
                _build(replace(options, cities=existing or cities), on_build, on_error)
    finally:
        observer.stop()
        observer.join()
    return None


def _build(options: BuildOptions, on_build: Callable[[NetworkBuild], None],
           on_error: Callable[[Exception], None]) -> None:
    try:
        on_build(build_network(options))
    except Exception as error:  # the next save gets another chance; watching goes on
        on_error(error)


def _settled(changes: queue.Queue[str], stop: threading.Event) -> set[str]:
    """Wait for a change, then for the burst of changes to settle; return them all."""
    try:
        targets = {changes.get(timeout=0.5)}
    except queue.Empty:
        return set()
    deadline = time.monotonic() + SETTLE
    while not stop.is_set():
        try:
            targets.add(changes.get(timeout=max(0.0, deadline - time.monotonic())))
            deadline = time.monotonic() + SETTLE
        except queue.Empty:
            return targets
    return targets
