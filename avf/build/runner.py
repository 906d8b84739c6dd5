"""Run site builds in a pool of worker processes that import Pelican once each.

Workers come from a fork server that preloaded Pelican and the plugins, so a new worker
starts in milliseconds. Pelican keeps growing state between runs, so workers are replaced
after a batch of sites; we do this ourselves, batch by batch, because the standard
library's `max_tasks_per_child` can leave the pool hanging on Python 3.11.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

from avf.build.city_settings import SiteTask
from avf.build.pelican_run import build_site, warm_up
from avf.build.report import CityResult

SITES_PER_WORKER = 40  # then the worker is replaced by a fresh one
PRELOAD = ["pelican", "pelican.generators", "pelican.readers", "markdown", "jinja2", "yaml",
           "avf.content", "avf.build.pelican_run"]


class SitePool:
    """Build workers, used as a context manager: `with SitePool(2) as pool`."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> SitePool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._close(cancel=error is not None)

    def build(self, tasks: Iterable[SiteTask], expected: int) -> Iterator[CityResult]:
        """Build every task, yielding results as they finish (not in order).

        A single site is built in this process: starting workers would cost more than the
        build (a volunteer's "Publier" rebuilds one city). Otherwise, a task whose worker
        died (killed, out of memory) is tried once more in a fresh pool, then reported
        as failed.
        """
        if expected <= 1:
            for task in tasks:
                yield build_in_process(task)
            return
        pending = list(tasks)
        retried: set[str] = set()
        while pending:
            batch, pending = pending[: self.jobs * SITES_PER_WORKER], pending[
                self.jobs * SITES_PER_WORKER:]
            executor = self._fresh_executor()
            futures = {executor.submit(build_site, task): task for task in batch}
            for future in as_completed(futures):
                task = futures[future]
                if _worker_died(future) and task.slug not in retried:
                    retried.add(task.slug)
                    pending.append(task)
                    continue
                yield _result_of(future, task)

    def _fresh_executor(self) -> ProcessPoolExecutor:
        self._close(cancel=False)
        self._executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=self._context,
                                             initializer=warm_up)
        return self._executor

    def _close(self, cancel: bool) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=cancel)
            self._executor = None


_warm = False
_IN_PROCESS = threading.Lock()


def build_in_process(task: SiteTask) -> CityResult:
    """Build one site in this process (Pelican imported once, then kept). Pelican keeps
    process-global state, so threads of one process (the service's build queue and its
    editor previews) take turns."""
    global _warm
    with _IN_PROCESS:
        if not _warm:
            warm_up()
            _warm = True
        return build_site(task)


def _worker_died(future: Future[CityResult]) -> bool:
    return isinstance(future.exception(), BrokenProcessPool)


def _result_of(future: Future[CityResult], task: SiteTask) -> CityResult:
    error = future.exception()
    if error is None:
        return future.result()
    return CityResult(task.slug, "failed", errors=[{
        "file": f"{task.content_dir.name}/{task.slug}", "line": None,
        "message": f"le processus de construction s'est arrêté : {error!r}",
    }])
