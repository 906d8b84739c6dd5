"""The build queue: every build the service runs is a row of `build_jobs`, so a crash or a
restart loses nothing, and every build keeps its log.

Two kinds of jobs:
- **sync** (from a webhook or the post-receive hook): fetch the content, move the checkout
  to what was pushed, and request builds of the cities the push touched;
- **build** of one city, or of every city (`*`).

Bursts are coalesced without delaying a lone change: the first request for a city that
has been quiet for `build_delay` seconds builds at once; a request that follows another
within that time waits `build_delay` seconds for more. A request for a city already
waiting joins that job (and pushes its start back, up to COALESCE_CAP delays, so a steady
stream of pushes still gets built). So ten pushes in a row give at most two builds of a
city: the first push's, and one for all the others.
One worker thread runs the jobs, so a city is never built twice at once; the build lock on
`OUT/.lock` keeps command-line builds out of its way as well. Due build jobs go into one
`build_network` call, which skips cities that did not change.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, RowMapping, func, insert, select, update

from avf.build import BuildOptions, build_network
from avf.build.network import NetworkBuild, UsageError, output_lock
from avf.build.preview import Preview, build_preview
from avf.build.progress import describe, summary
from avf.build.publish import publish_theme
from avf.content import discover_cities
from avf.service.repo import EVERY_CITY, RepoError, sync, tracked_branch
from avf.service.settings import ServiceSettings
from avf.service.templating import theme_static_dir
from avf.store.schema import build_jobs
from avf.workers import BackgroundWorker

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # the post-receive hook queues from another process: look this often
COALESCE_CAP = 10  # a job waits for more requests at most this many build delays
REASON_LENGTH = 300  # the column's size


class BuildQueue(BackgroundWorker):
    """Requests (`request`, `request_sync`) from any thread or process; one worker
    (`start()`, or `run_due()` by hand in tests) that runs what is due."""

    name = "avf-builds"

    def __init__(self, engine: Engine, settings: ServiceSettings,
                 poll_seconds: float = POLL_SECONDS):
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.poll_seconds = poll_seconds
        # Coalescing reads then writes: this process's requests take turns.
        self._requests = threading.Lock()
        # Called after each build (the news round: what the build published, who is due).
        self.after_build: list[Callable[[], object]] = []

    # --- Requests ---------------------------------------------------------------------

    def request(self, cities: Iterable[str], reason: str, requested_by: str | None = None,
                commit: str | None = None, now: datetime | None = None,
                force: bool = False) -> list[int]:
        """Queue builds of `cities` ("*": every city); return the jobs that will run them.
        `force`: rebuild even what is up to date (a person pressed "Reconstruire")."""
        moment = now or datetime.now(UTC)
        delay = timedelta(seconds=self.settings.build_delay)
        wanted = list(dict.fromkeys(city for city in cities if city))
        if EVERY_CITY in wanted:
            wanted = [EVERY_CITY]  # one job covers them all
        ids = []
        with self._requests, self.engine.begin() as connection:
            for city in wanted:
                waiting = _waiting_for(connection, city)
                if waiting is None:
                    quiet = _quiet_since(connection, city, moment - delay)
                    ids.append(connection.execute(insert(build_jobs).values(
                        kind="build", city=city, reason=_clip(reason),
                        requested_by=requested_by, status="queued", requested_at=moment,
                        not_before=moment if quiet else moment + delay,
                        commit=commit, force=force)).inserted_primary_key[0])
                    continue
                latest = min(moment + delay, waiting["requested_at"] + delay * COALESCE_CAP)
                connection.execute(update(build_jobs).where(build_jobs.c.id == waiting["id"])
                                   .values(reason=_joined(waiting["reason"], reason),
                                           not_before=max(waiting["not_before"], latest),
                                           commit=commit or waiting["commit"],
                                           force=waiting["force"] or force,
                                           requested_by=waiting["requested_by"] or requested_by))
                ids.append(waiting["id"])
        self.wake()
        return sorted(set(ids))

    def request_sync(self, commit: str, reason: str, requested_by: str | None = None,
                     now: datetime | None = None, connection: Connection | None = None) -> int:
        """Queue a fetch of the content up to `commit`. Given a `connection`, the job is
        part of the caller's transaction: the caller wakes the worker after its commit."""
        moment = now or datetime.now(UTC)
        values = dict(kind="sync", city=EVERY_CITY, reason=_clip(reason),
                      requested_by=requested_by, status="queued", requested_at=moment,
                      not_before=moment, commit=commit)
        if connection is not None:
            return int(connection.execute(insert(build_jobs).values(**values))
                       .inserted_primary_key[0])
        with self.engine.begin() as own:
            job = int(own.execute(insert(build_jobs).values(**values)).inserted_primary_key[0])
        self.wake()
        return job

    def recover(self, now: datetime | None = None) -> int:
        """Queue again the jobs a crash or a stop left running; return how many."""
        with self.engine.begin() as connection:
            return connection.execute(
                update(build_jobs).where(build_jobs.c.status == "running").values(
                    status="queued", started_at=None, not_before=now or datetime.now(UTC),
                    log=build_jobs.c.log + "Reprise après un arrêt du service.\n")).rowcount

    # --- The worker -------------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        super().start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the job in progress (a build is never cut short; one still running
        at exit is queued again by `recover` on the next start)."""
        super().stop(timeout)

    def run_pass(self) -> list[int]:
        return self.run_due()

    def run_due(self, now: datetime | None = None) -> list[int]:
        """One pass: the due syncs, then one build of every due city; return the jobs run."""
        synced = self._run_syncs(now)  # may take a while: a fetch from the forge
        return [*synced, *self._run_builds(now or datetime.now(UTC))]

    def seconds_to_next(self) -> float:
        try:
            with self.engine.connect() as connection:
                due = connection.execute(select(func.min(build_jobs.c.not_before))
                                         .where(build_jobs.c.status == "queued")).scalar()
        except Exception:
            return self.poll_seconds
        if due is None:
            return self.poll_seconds
        wait = (due.replace(tzinfo=due.tzinfo or UTC) - datetime.now(UTC)).total_seconds()
        return min(self.poll_seconds, max(0.0, wait))

    # --- Sync jobs --------------------------------------------------------------------

    def _run_syncs(self, now: datetime | None) -> list[int]:
        jobs = self._claim("sync", now or datetime.now(UTC))
        for job in jobs:
            started = time.perf_counter()
            try:
                branch = tracked_branch(self.settings.content_dir, self.settings.git_branch)
                moved = sync(self.settings.content_dir, branch, str(job["commit"]),
                             hold=lambda: output_lock(self.settings.output_dir))
            except RepoError as error:
                self._finish(job, "failed", started, f"Synchronisation impossible : {error}.",
                             [{"file": self.settings.content_dir.name, "line": None,
                               "message": str(error)}])
                continue
            except Exception as error:  # GitPython or the disk: record it, keep running
                log.exception("sync job %s failed", job["id"])
                self._finish(job, "failed", started, f"Erreur : {error!r}",
                             [{"file": self.settings.content_dir.name, "line": None,
                               "message": f"la synchronisation s'est arrêtée : {error!r}"}])
                continue
            text = moved.describe()
            if moved.cities:
                builds = self.request(moved.cities, job["reason"], job["requested_by"],
                                      commit=moved.after, now=now)
                text += "\nConstruction(s) demandée(s) : " + ", ".join(
                    f"n° {build}" for build in builds) + "."
            self._finish(job, "done", started, text, [])
        return [job["id"] for job in jobs]

    # --- Build jobs -------------------------------------------------------------------

    def _run_builds(self, now: datetime) -> list[int]:
        jobs = self._claim("build", now)
        forced = [job for job in jobs if job["force"]]
        normal = [job for job in jobs if not job["force"]]
        # Forced jobs are built apart, so that forcing one city never forces the others.
        return [*self._build(forced, force=True), *self._build(normal, force=False)]

    def _build(self, jobs: Sequence[RowMapping], force: bool) -> list[int]:
        if not jobs:
            return []
        cities = self._cities_to_build(jobs)
        options = BuildOptions(content_dir=self.settings.content_dir,
                               output_dir=self.settings.output_dir, cities=cities,
                               jobs=self.settings.build_jobs,
                               settings_file=self.settings.pelican_settings,
                               site_url=self.settings.public_url, force=force)
        lines: list[str] = []
        started = time.perf_counter()
        try:
            build = build_network(
                options, on_result=lambda result: lines.append(describe(result)),
                on_wait=lambda: lines.append("Une autre construction est en cours sur ce "
                                             "dossier : attente de sa fin…"))
        except Exception as error:
            if not isinstance(error, UsageError):
                log.exception("build of jobs %s failed", [job["id"] for job in jobs])
            message = f"la construction n'a pas pu se faire : {error}"
            for job in jobs:
                self._finish(job, "failed", started, self._header(job, cities) + message,
                             [{"file": self.settings.content_dir.name, "line": None,
                               "message": message}])
            return [job["id"] for job in jobs]
        lines.append(summary(build.results, build.portal, build.seconds, len(build.unchanged)))
        for job in jobs:
            status, errors, note = self._outcome(job, build)
            self._finish(job, status, started,
                         self._header(job, cities) + note + "\n".join(lines), errors)
        self._after_build()
        return [job["id"] for job in jobs]

    def _after_build(self) -> None:
        for action in self.after_build:
            try:
                action()
            except Exception:  # the news must never stop the builds
                log.exception("after a build: %r failed", action)

    def _cities_to_build(self, jobs: Sequence[RowMapping]) -> tuple[str, ...]:
        """The cities of these jobs; () (every city) for a `*` job, or when a city's folder
        is gone: only a whole-network build takes a city offline."""
        wanted = {str(job["city"]) for job in jobs}
        if EVERY_CITY in wanted or wanted - set(discover_cities(self.settings.content_dir)):
            return ()
        return tuple(sorted(wanted))

    def _outcome(self, job: RowMapping, build: NetworkBuild,
                 ) -> tuple[str, list[dict[str, object]], str]:
        """A job's status, errors (file, line, French message) and a note for its log."""
        if job["city"] == EVERY_CITY:
            failed = build.failed
        else:
            failed = [result for result in build.results
                      if result.slug == job["city"] and result.status != "ok"]
        errors = [{"file": error.get("file"), "line": error.get("line"),
                   "message": error.get("message"), "city": result.slug}
                  for result in failed for error in result.errors]
        note = ""
        if job["city"] in build.unchanged:
            note = "Déjà à jour : rien à reconstruire.\n"
        elif (job["city"] != EVERY_CITY
              and not (self.settings.content_dir / str(job["city"])).is_dir()):
            note = "Cette ville n'est plus dans le contenu : retirée du réseau.\n"
        return ("failed" if failed else "done"), errors, note

    def _header(self, job: RowMapping, cities: tuple[str, ...]) -> str:
        what = "tout le réseau" if job["city"] == EVERY_CITY else job["city"]
        lines = [f"Construction n° {job['id']} : {what}.",
                 f"Demandée : {job['reason']}"
                 + (f" ({job['requested_by']})" if job["requested_by"] else "") + "."]
        if job["commit"]:
            lines.append(f"Version du contenu : {job['commit']}.")
        if cities != (job["city"],):
            lines.append("Construite avec : "
                         + (", ".join(cities) if cities else "tout le réseau") + ".")
        return "\n".join(lines) + "\n"

    # --- Rows -------------------------------------------------------------------------

    def _claim(self, kind: str, now: datetime) -> list[RowMapping]:
        """Mark the due jobs of `kind` running and return them. When a whole-network build
        is due, every waiting build comes with it: that build covers them."""
        with self.engine.begin() as connection:
            waiting = select(build_jobs).where(build_jobs.c.kind == kind,
                                               build_jobs.c.status == "queued")
            due = connection.execute(waiting.where(build_jobs.c.not_before <= now)
                                     .order_by(build_jobs.c.id)).mappings().all()
            if kind == "build" and any(job["city"] == EVERY_CITY for job in due):
                due = connection.execute(waiting.order_by(build_jobs.c.id)).mappings().all()
            claimed = []
            for job in due:
                taken = connection.execute(
                    update(build_jobs).where(build_jobs.c.id == job["id"],
                                             build_jobs.c.status == "queued")
                    .values(status="running", started_at=datetime.now(UTC)))
                if taken.rowcount == 1:
                    claimed.append(job)
        return claimed

    def _finish(self, job: RowMapping, status: str, started: float, text: str,
                errors: list[dict[str, object]]) -> None:
        """Record a job's outcome, and keep its log as a file beside the database."""
        text = job["log"] + text.rstrip("\n") + "\n"
        with self.engine.begin() as connection:
            connection.execute(update(build_jobs).where(build_jobs.c.id == job["id"]).values(
                status=status, finished_at=datetime.now(UTC),
                seconds=round(time.perf_counter() - started, 3), log=text,
                errors=json.dumps(errors, ensure_ascii=False)))
        try:
            self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
            (self.settings.logs_dir / f"{job['id']}.log").write_text(text, encoding="utf-8")
        except OSError:
            log.exception("could not write the log of job %s", job["id"])


def build_preview_site(settings: ServiceSettings, city: str, rel: str, text: str,
                       folder: Path, base_url: str, theme_version: str) -> Preview:
    """The editor's preview of one text: `city` built with it, into `folder` (never
    published; avf.build.preview)."""
    return build_preview(settings.content_dir, settings.output_dir, city, rel, text, folder,
                         base_url, theme_version)


def publish_theme_version(settings: ServiceSettings) -> str:
    """Publish the theme's static files (if this version is not online yet) and return its
    version, for the service's own pages. Under the build lock, like every write to OUT:
    the service writes there only through this module."""
    with output_lock(settings.output_dir):
        return publish_theme(settings.output_dir, theme_static_dir())


def _waiting_for(connection: Connection, city: str) -> RowMapping | None:
    """The queued build that a request for `city` can join: a whole-network one covers it."""
    candidates = connection.execute(
        select(build_jobs).where(build_jobs.c.kind == "build", build_jobs.c.status == "queued",
                                 build_jobs.c.city.in_((city, EVERY_CITY)))
        .order_by(build_jobs.c.id)).mappings().all()
    return next((job for job in candidates if job["city"] == EVERY_CITY),
                candidates[0] if candidates else None)


def _quiet_since(connection: Connection, city: str, moment: datetime) -> bool:
    """Whether no build of `city` (or of every city) was requested or started after
    `moment`: then a request is the first of its burst, and builds at once."""
    requested, started = connection.execute(
        select(func.max(build_jobs.c.requested_at), func.max(build_jobs.c.started_at))
        .where(build_jobs.c.kind == "build", build_jobs.c.city.in_((city, EVERY_CITY)))).one()
    return all(when is None or when <= moment for when in (requested, started))


def _joined(reasons: str, reason: str) -> str:
    return reasons if reason in reasons.split(" ; ") else _clip(f"{reasons} ; {reason}")


def _clip(text: str) -> str:
    return text if len(text) <= REASON_LENGTH else text[:REASON_LENGTH - 1] + "…"
