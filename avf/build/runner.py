"""Run site builds in a pool of worker processes that import Pelican once each.

Workers come from a fork server that preloaded Pelican and the plugins, so a new worker
starts in milliseconds; each is recycled after a number of sites to cap memory (Pelican
keeps growing state between runs).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from types import TracebackType

from avf.build.city_settings import SiteTask
from avf.build.pelican_run import build_site, warm_up
from avf.build.report import CityResult

SITES_PER_WORKER = 40  # then the worker is replaced by a fresh one
PRELOAD = ["pelican", "pelican.generators", "pelican.readers", "markdown", "jinja2", "yaml",
           "avf.content", "avf.build.pelican_run"]


class SitePool:
    """A pool of build workers, used as a context manager: `with SitePool(2) as pool`."""

    def __init__(self, jobs: int):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        self._executor = ProcessPoolExecutor(
            max_workers=max(1, jobs), mp_context=context, initializer=warm_up,
            max_tasks_per_child=SITES_PER_WORKER,
        )

    def __enter__(self) -> SitePool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._executor.shutdown(wait=True, cancel_futures=error is not None)

    def build(self, tasks: Iterable[SiteTask]) -> Iterator[CityResult]:
        """Build every task, yielding results as they finish (not in order)."""
        futures = {self._executor.submit(build_site, task): task for task in tasks}
        for future in as_completed(futures):
            yield _result_of(future, futures[future])


def _result_of(future: Future[CityResult], task: SiteTask) -> CityResult:
    try:
        return future.result()
    except Exception as error:  # the worker itself died (killed, out of memory...)
        return CityResult(task.slug, "failed", errors=[{
            "file": f"{task.content_dir.name}/{task.slug}", "line": None,
            "message": f"le processus de construction s'est arrêté : {error!r}",
        }])
