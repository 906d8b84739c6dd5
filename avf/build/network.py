"""The network build, read top to bottom: plan → build cities → portal → publish → report."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from avf.build.city_settings import SiteTask
from avf.build.objects import collect_garbage
from avf.build.options import PROJECT_ROOT, BuildOptions
from avf.build.publish import (
    PublishError,
    online_cities,
    publish_city,
    publish_portal,
    publish_theme,
    retire_city,
)
from avf.build.report import CityResult, write_report
from avf.build.runner import SitePool
from avf.build.staging import staging_root, sweep_stale_stages
from avf.build.state import (
    BuildState,
    CityState,
    code_fingerprint,
    files_digest,
    fingerprint,
    hash_folder,
    is_expired,
    settle,
    stat_folder,
)
from avf.content import NETWORK_SLUG, CityContent, discover_cities, load_network
from avf.content.cards import read_city_card
from avf.content.model import city_site_url
from avf.content.problems import ContentError

NETWORK_NEWS_ON_CITY_HOMES = 5


class UsageError(Exception):
    """The build was asked something impossible (unknown city, missing folder)."""


@dataclass
class NetworkBuild:
    results: list[CityResult]
    portal: CityResult | None
    seconds: float
    report: Path
    unchanged: list[str] = field(default_factory=list)  # cities already up to date

    @property
    def failed(self) -> list[CityResult]:
        everything = [*self.results, *([self.portal] if self.portal else [])]
        return [result for result in everything if result.status != "ok"]

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class Plan:
    """What this build will do: the sites to build and the fingerprints to record."""

    now: str
    to_build: list[str]
    unchanged: list[str]
    news: list[dict[str, object]]
    network_print: str  # code, options and network news: shared by every site
    city_files: dict[str, dict[str, tuple[int, int, str]]]
    city_prints: dict[str, str]
    city_stats: dict[str, dict[str, tuple[int, int, str]]]
    theme_version: str = ""
    staging_root: Path | None = None  # build/staging.py, chosen once for every site
    # The cities online, read once (a link each) and kept up to date as the build
    # publishes and retires: a one-city build reads the network's links once, not thrice.
    online: set[str] = field(default_factory=set)


def build_network(options: BuildOptions,
                  on_result: Callable[[CityResult], None] | None = None,
                  on_plan: Callable[[int], None] | None = None,
                  on_wait: Callable[[], None] | None = None) -> NetworkBuild:
    """Build the cities that changed and the portal; one city's failure stops no other."""
    started = time.perf_counter()
    output = options.output_dir
    output.mkdir(parents=True, exist_ok=True)
    with output_lock(output, on_wait):
        state = BuildState(output)
        try:
            return _build_with_state(options, state, started, on_result, on_plan)
        finally:
            state.save_index()


@contextmanager
def output_lock(output: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One build at a time per output folder (CLI, cron and service alike); the service
    also holds it while it moves the content checkout, so no build reads a half-moved one.
    Not re-entrant: a thread that takes it twice waits for itself."""
    output.mkdir(parents=True, exist_ok=True)
    with open(output / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build_with_state(options: BuildOptions, state: BuildState, started: float,
                      on_result: Callable[[CityResult], None] | None,
                      on_plan: Callable[[int], None] | None) -> NetworkBuild:
    output = options.output_dir

    # Plan: which cities changed since the last build, what every city shares.
    plan = _plan(options, state)
    plan.staging_root = staging_root(output)
    sweep_stale_stages(plan.staging_root)
    theme_static = Path(str(options.base_settings["THEME"])) / "static"
    plan.theme_version = publish_theme(output, theme_static)
    if on_plan:
        on_plan(len(plan.to_build) + 1)

    with SitePool(options.jobs) as pool:
        # Build cities; each one goes online as soon as it is built.
        results: list[CityResult] = []
        tasks = (_task(options, plan, slug) for slug in plan.to_build)
        for result in pool.build(tasks, expected=len(plan.to_build)):
            _record_city(output, state, plan, result)
            results.append(result)
            if on_result:
                on_result(result)

        # Retire cities that left the content, once everything else is safely online.
        _retire_missing(options, state, plan, results)

        # Portal: the network's pages and the directory of every city online.
        portal = _build_portal(options, state, plan, pool)
        if portal is not None and on_result:
            on_result(portal)

    # Report. Pruned releases took their unshared objects with them; a forced build
    # also sweeps the whole store, for anything a crash may have left behind.
    if options.force:
        collect_garbage(output)
    seconds = time.perf_counter() - started
    report = write_report(output, results, portal, seconds)
    return NetworkBuild(sorted(results, key=lambda r: r.slug), portal, seconds, report,
                        unchanged=plan.unchanged)


def _plan(options: BuildOptions, state: BuildState) -> Plan:
    if not options.content_dir.is_dir():
        raise UsageError(f"le dossier de contenu « {options.content_dir} » n'existe pas")
    every_city = discover_cities(options.content_dir)
    unknown = sorted(set(options.cities) - set(every_city))
    if unknown:
        raise UsageError("ville inconnue : " + ", ".join(unknown)
                         + f" (villes disponibles : {len(every_city)} dans "
                         f"{options.content_dir})")
    now = options.now or datetime.now(UTC).isoformat(timespec="seconds")
    news = broadcast_news(load_network(options.content_dir), options)
    code = code_fingerprint([PROJECT_ROOT / "avf", Path(str(options.base_settings["THEME"])),
                             *(Path(p) for p in options.base_settings["PLUGIN_PATHS"]),  # type: ignore[attr-defined]
                             *options.settings_sources])
    # "now" is not part of it: time changes a city only when one of its events passes,
    # which CityState.expires tells.
    # --strict is part of it: a city built with warnings must be checked again under it;
    # so are --no-search and --no-precompress, which change what a release holds.
    network_print = fingerprint(code, options.base_url, news,
                                *(["strict"] if options.strict else []),
                                *([] if options.search else ["no-search"]),
                                *([] if options.precompress else ["no-precompress"]))
    online = online_cities(options.output_dir)
    plan = Plan(now=now, to_build=[], unchanged=[], news=news, network_print=network_print,
                city_files={}, city_prints={}, city_stats={}, online=online)
    moment = datetime.fromisoformat(now)
    for slug in options.cities or every_city:
        folder = options.content_dir / slug
        stats = stat_folder(folder)
        plan.city_stats[slug] = stats
        if (options.force or slug not in online
                or state.built_for_another_network(slug, network_print)):
            plan.to_build.append(slug)
        elif state.looks_unchanged(slug, stats, network_print, moment):
            plan.unchanged.append(slug)  # the quick path: no file read
        elif _same_content(state, plan, slug, stats, moment):
            plan.unchanged.append(slug)  # touched, not changed: remember the new times
            state.note_index(slug, stats, network_print, state.city(slug).expires)  # type: ignore[union-attr]
        else:
            plan.to_build.append(slug)
    return plan


def _same_content(state: BuildState, plan: Plan, slug: str,
                  stats: dict[str, tuple[int, int, str]], moment: datetime) -> bool:
    """The slow test: hash the files whose size or change time moved, compare prints."""
    previous = state.city(slug)
    files = hash_folder(Path(), previous.files if previous else {},
                        previous.saved_ns if previous else 0, stats)
    city_print = fingerprint(plan.network_print, files_digest(files))
    plan.city_files[slug], plan.city_prints[slug] = files, city_print
    return (previous is not None and previous.fingerprint == city_print
            and not is_expired(previous, moment))


def _retire_missing(options: BuildOptions, state: BuildState, plan: Plan,
                    results: list[CityResult]) -> None:
    """Take offline the cities whose folder is gone — only when this looks like the whole
    network (it has `_network/`) and everything built: a wrong --content, an empty
    checkout or a renamed folder must never take sites offline."""
    if not (options.content_dir / NETWORK_SLUG).is_dir() or options.cities:
        return
    if any(result.status != "ok" for result in results):
        return
    present = set(discover_cities(options.content_dir))
    for gone in sorted(plan.online - present):
        retire_city(options.output_dir, gone)
        state.forget_city(gone)
        plan.online.discard(gone)


def _record_city(output: Path, state: BuildState, plan: Plan, result: CityResult) -> None:
    """Publish a built city and remember its fingerprint. A failed city keeps its
    previous release online and its card in the portal, and is rebuilt next time."""
    if result.status == "ok" and result.release:
        previous = state.city(result.slug)
        if previous is None or previous.card != result.card:
            state.set_portal(None)  # the directory changes; recorded before publishing
        publish_city(output, result.slug, Path(result.release))
        plan.online.add(result.slug)
        if result.slug not in plan.city_prints:  # built without the slow test (forced, new)
            _same_content(state, plan, result.slug, plan.city_stats[result.slug],
                          datetime.fromisoformat(plan.now))
        # A file saved while the city was building may not be online: mark it unsure, so
        # that the next build looks at it again.
        files = settle(plan.city_files[result.slug], plan.city_stats[result.slug])
        state.set_city(result.slug, CityState(
            fingerprint=fingerprint(plan.network_print, files_digest(files)), card=result.card,
            expires=result.expires, files=files))
        state.note_index(result.slug, plan.city_stats[result.slug], plan.network_print,
                         result.expires)
    else:
        state.invalidate_city(result.slug)


def _build_portal(options: BuildOptions, state: BuildState, plan: Plan,
                  pool: SitePool) -> CityResult | None:
    """Build and publish the portal if it changed: its files, the cities online, news.

    A city's card change marks the portal as changed when it is published (see
    `_record_city`), so deciding needs no city's state, whatever the network's size.
    """
    online = sorted(plan.online)
    network_files = hash_folder(options.content_dir / NETWORK_SLUG, {}, 0)
    portal_print = fingerprint(plan.network_print, files_digest(network_files), online)
    is_online = (options.output_dir / "public" / "index.html").exists()
    if portal_print == state.portal and is_online and not options.force:
        return None
    # `url`: the city's public address (its own domain when it has one), for the
    # directory, the map and the sitemap index; `network_url`: its sub-path on the
    # network's host, where the portal's search fetches its index (same origin, no CORS).
    cards = [{**card, "network_url": f"{options.base_url}/{slug}/",
              "url": city_site_url(options.base_url, slug, _domain(card, options)) + "/"}
             for slug in online if (card := _card(state, options.content_dir, slug))]
    task = SiteTask(slug=NETWORK_SLUG, content_dir=options.content_dir.resolve(),
                    output_dir=options.output_dir.resolve(),
                    settings_file=options.settings_file.resolve(), base_url=options.base_url,
                    network_news=plan.news, cities=cards, now=plan.now,
                    theme_version=plan.theme_version, strict=options.strict,
                    search=options.search, precompress=options.precompress,
                    staging_root=plan.staging_root)
    portal = next(pool.build([task], expected=1))
    if portal.status == "ok" and portal.release:
        try:
            publish_portal(options.output_dir, Path(portal.release))
            state.set_portal(portal_print)
            return portal
        except PublishError as error:
            portal.status = "failed"
            portal.errors.append({"file": f"{options.content_dir.name}/{NETWORK_SLUG}",
                                  "line": None, "message": str(error)})
    state.set_portal(None)
    return portal


def _domain(card: dict[str, object], options: BuildOptions) -> str | None:
    domain = card.get("domain")
    return domain if options.custom_domains and isinstance(domain, str) and domain else None


def _card(state: BuildState, content_dir: Path, slug: str) -> dict[str, object] | None:
    """The card of the city's release online; from its city.yaml if the state is lost."""
    city = state.city(slug)
    if city is not None and city.card:
        return city.card
    try:
        return read_city_card(content_dir / slug / "city.yaml", slug, slug).public_card()
    except (ContentError, OSError):
        return None


def _task(options: BuildOptions, plan: Plan, slug: str) -> SiteTask:
    return SiteTask(slug=slug, content_dir=options.content_dir.resolve(),
                    output_dir=options.output_dir.resolve(),
                    settings_file=options.settings_file.resolve(), base_url=options.base_url,
                    network_news=plan.news, now=plan.now, theme_version=plan.theme_version,
                    strict=options.strict, search=options.search,
                    precompress=options.precompress, custom_domains=options.custom_domains,
                    staging_root=plan.staging_root)


def broadcast_news(network: CityContent, options: BuildOptions) -> list[dict[str, object]]:
    """The network's latest news marked `broadcast: true`, for every city's home."""
    article_url = str(options.base_settings["ARTICLE_URL"])
    posts = sorted(
        (doc for doc in network.published("post")
         if doc.broadcast and not doc.is_members_only and doc.date is not None),
        key=lambda doc: doc.date, reverse=True,  # type: ignore[arg-type,return-value]
    )
    return [
        {"title": doc.title, "url": f"{options.base_url}/{article_url.format(slug=doc.slug)}",
         "date": doc.date.isoformat(), "summary": doc.summary}  # type: ignore[union-attr]
        for doc in posts[:NETWORK_NEWS_ON_CITY_HOMES]
    ]
