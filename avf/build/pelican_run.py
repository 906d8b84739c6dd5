"""Worker side of a build: validate a city, run Pelican on it into a fresh release folder.

Runs in a worker process that imported Pelican, the theme's filters and the plugins once
(`warm_up`); Pelican keeps process-global state (signals, loggers), so each city gets a new
Pelican object but nothing is shared between cities except imports.
"""

from __future__ import annotations

import copy
import logging
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from avf.build.city_settings import SiteTask, city_overrides, portal_overrides
from avf.build.images import CACHE_DIR, ImageCache
from avf.build.objects import store_release
from avf.build.publish import (
    PORTAL,
    discard,
    new_release,
    online_release,
    release_path,
    remove_release,
)
from avf.build.report import CityResult
from avf.build.search_index import (
    BUNDLE,
    KEY_FILE,
    SearchIndexError,
    link_index,
    start_index,
)
from avf.build.staging import new_stage, staging_root
from avf.build.templates_cache import FOLDER as TEMPLATE_CACHE
from avf.build.templates_cache import WORKER_TEMPLATES
from avf.content import CityContent, load_city, load_network
from avf.content.activity import dormant_from, newest_public_post
from avf.render.addresses import published_urls
from avf.theme.environment import JINJA_ENVIRONMENT, BuildEnvironment


class _Collector(logging.Handler):
    """Keeps Pelican's warnings and errors of the current city, to put them in the report."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_collector = _Collector()


def warm_up() -> None:
    """Import once per worker what every city needs."""
    import pelican.generators
    import pelican.settings
    from pelican.log import console

    pelican.generators.Environment = BuildEnvironment  # type: ignore[misc]

    console.quiet = True  # Pelican's own "Done: processed…" line; we print a summary

    pelican_logger = logging.getLogger("pelican")
    pelican_logger.handlers[:] = [_collector]
    pelican_logger.setLevel(logging.WARNING)
    pelican_logger.propagate = False


def build_site(task: SiteTask) -> CityResult:
    """Validate and build one city (or the portal); never raises."""
    started = time.perf_counter()
    try:
        result = _build(task)
    except Exception as error:  # one city's crash must not stop the network
        result = CityResult(task.slug, "failed", errors=[{
            "file": f"{task.content_dir.name}/{task.slug}", "line": None,
            "message": f"la construction a échoué : {type(error).__name__}: {error}",
        }])
    result.seconds = round(time.perf_counter() - started, 3)
    result.built_at = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def _build(task: SiteTask) -> CityResult:
    content = load_network(task.content_dir) if task.is_portal else load_city(
        task.content_dir, task.slug)
    warnings = [p.as_dict() for p in content.problems if p.severity == "warning"]
    if not content.is_valid or (not task.is_portal and content.city is None):
        return CityResult(task.slug, "failed", errors=[p.as_dict() for p in content.errors],
                          warnings=warnings)
    if task.strict and warnings:
        return CityResult(task.slug, "failed", errors=_strict(warnings))

    site = "_portal" if task.is_portal else task.slug
    # A preview is served from where it is built; a real build is staged in memory, then
    # stored on disk as links to objects (build/staging.py).
    if task.preview:
        release = stage = new_release(task.output_dir, site)
    else:
        release = release_path(task.output_dir, site)
        stage = new_stage(task.staging_root or staging_root(task.output_dir), site,
                          release.name)
    try:
        return _build_staged(task, content, warnings, stage, release)
    finally:
        if stage != release:
            discard(stage)


def _build_staged(task: SiteTask, content: CityContent, warnings: list[dict[str, object]],
                  stage: Path, release: Path) -> CityResult:
    """Build into `stage`; index, store it as `release` (see `_build`)."""
    from pelican import Pelican
    from pelican.settings import read_settings

    shared = _shared_settings(task.settings_file)
    if task.is_portal:
        overrides = portal_overrides(task, shared, stage)
    else:
        overrides = city_overrides(task, content.city, stage)  # type: ignore[arg-type]
    overrides["AVF_DOCUMENTS"] = {str(doc.source): doc for doc in content.documents}
    WORKER_TEMPLATES.use_folder(task.output_dir / TEMPLATE_CACHE)
    images = ImageCache(task.output_dir / CACHE_DIR)  # the avf_images plugin fills it
    overrides["AVF_IMAGE_CACHE"] = images
    # Escaping stays on whatever the settings file says: the theme writes volunteers'
    # plain text and marks its HTML `| safe` (avf/theme/environment.py). An environment
    # lives for one city's build, during which no template changes: Jinja need not check
    # each template's file again at every page (`auto_reload`, ~350 `stat`s a city).
    overrides["JINJA_ENVIRONMENT"] = {**shared.get("JINJA_ENVIRONMENT", JINJA_ENVIRONMENT),
                                      "autoescape": True, "auto_reload": False,
                                      "bytecode_cache": WORKER_TEMPLATES}
    settings = read_settings(path=None, override={**copy.deepcopy(shared), **overrides})
    # Where each text is published, for the links to it (plugins/avf_links).
    settings["AVF_DOCUMENT_URLS"] = published_urls(content.documents, settings)
    _collector.records.clear()
    try:
        Pelican(settings).run()
    except Exception:
        discard(stage)
        raise
    finally:
        _forget_rendered_content()
    records = [record for record in _collector.records if not _checked_by_us(record)]
    problems = [_from_log(record, task) for record in records]
    fatal = [_is_fatal(record) for record in records]
    errors = [p for p, is_error in zip(problems, fatal, strict=True) if is_error]
    warnings += [p for p, is_error in zip(problems, fatal, strict=True) if not is_error]
    if task.strict and warnings:
        errors += _strict(warnings)
    if errors:
        discard(stage)
        return CityResult(task.slug, "failed", errors=errors,
                          warnings=[] if task.strict else warnings)
    indexing = time.perf_counter()
    if task.preview:  # never published: no index, no shared objects
        return CityResult(task.slug, "ok", warnings=warnings, release=str(release))
    try:
        reused = _index_and_store(task, stage, release)
    except SearchIndexError as error:
        _abandon(stage, release, task.output_dir)
        return CityResult(task.slug, "failed", warnings=warnings, errors=[
            {"file": f"{task.content_dir.name}/{task.slug}", "line": None,
             "message": str(error)}])
    except OSError:
        _abandon(stage, release, task.output_dir)  # a full disk: nothing half-stored stays
        raise
    search_seconds = round(time.perf_counter() - indexing, 3)
    return CityResult(
        task.slug, "ok", pages=_count_pages(release), warnings=warnings,
        search_seconds=search_seconds, search_reused=reused,
        images={"processed": images.processed, "reused": images.reused},
        card=content.city.public_card() if content.city else None, release=str(release),
        expires=_next_change(content, task.now_datetime),
        **_publications(content),
    )


def _abandon(stage: Path, release: Path, output_dir: Path) -> None:
    """Remove a release that failed half-stored, with the objects only it made. Its stage
    goes first: on the output's disk, stored files are the stage's own (adopted), and an
    object still linked from the stage would look shared, and stay."""
    discard(stage)
    remove_release(release, output_dir)


def _index_and_store(task: SiteTask, stage: Path, release: Path) -> bool:
    """Index the stage's public pages (never members/: member pages stay unindexed) and
    store it as `release`; the pages are stored while Pagefind runs. True when the previous
    release's index was reused."""
    if not task.search:
        store_release(stage, release, task.output_dir, precompress=task.precompress)
        return False
    previous = online_release(task.output_dir, PORTAL if task.is_portal else task.slug)
    pending = start_index(stage, previous, task.theme_version)
    index = (f"public/{BUNDLE}", KEY_FILE)
    try:
        store_release(stage, release, task.output_dir, precompress=task.precompress,
                      leave=index)
        reused = pending.finish()
    finally:
        pending.stop()
    if pending.reused_from is not None:  # the same pages: the previous index, linked
        link_index(pending.reused_from, release, task.output_dir, task.precompress)
    store_release(stage, release, task.output_dir, precompress=task.precompress, only=index)
    return reused


def _strict(warnings: list[dict[str, object]]) -> list[dict[str, object]]:
    """Warnings as errors, for `avf build --strict` (a check before publishing)."""
    return [{**warning, "severity": "error",
             "message": f"{warning['message']} (avertissement bloquant : avf build --strict)"}
            for warning in warnings]


def _publications(content: CityContent) -> dict[str, object]:
    """How many posts the city has published, by visibility, and when it last did."""
    posts = [doc for doc in content.documents
             if doc.kind == "post" and doc.is_published and doc.date is not None]
    newest = max((doc.date for doc in posts), default=None)  # type: ignore[type-var]
    return {
        "publications": {"public": sum(doc.visibility == "public" for doc in posts),
                         "members": sum(doc.visibility == "members" for doc in posts)},
        "last_published": newest.date().isoformat() if newest else None,
    }


def _forget_rendered_content() -> None:
    """Empty Pelican's memo of every post's rendered HTML.

    `Content.get_content` and `get_summary` are memoized on the class, keyed by the
    content object: a worker would keep every city it ever built (the leak stock Pelican
    shows when it builds many sites in one process, ~6 MiB per city of 100 posts).
    """
    from pelican.contents import Content

    for name in ("get_content", "get_summary"):
        memo = Content.__dict__.get(name)
        if memo is not None and isinstance(getattr(memo, "cache", None), dict):
            memo.cache.clear()


@cache
def _shared_settings(settings_file: Path) -> dict[str, Any]:
    """The shared settings file, read once per worker (it is the same for every city)."""
    from pelican.settings import get_settings_from_file

    return get_settings_from_file(str(settings_file))


def _next_change(content: CityContent, now: datetime) -> str | None:
    """When the city's pages change by themselves: the next event passes (its home and
    agenda change), or the city turns dormant (its home leads with its contact card)."""
    moments = [doc.event.finishes for doc in content.documents
               if doc.is_published and doc.event and doc.event.finishes > now]
    if content.city is not None:
        dormant = dormant_from(newest_public_post(content.documents), now)
        if dormant is not None:
            moments.append(dormant)
    return min(moments).isoformat() if moments else None


def _checked_by_us(record: logging.LogRecord) -> bool:
    """Pelican's "Empty alt attribute" warning: avf.content already gave it, with the line,
    and accepts an `alt=""` written on purpose (a decorative image)."""
    return str(record.msg).startswith("Empty alt attribute")


def _is_fatal(record: logging.LogRecord) -> bool:
    """Errors, and a link Pelican could not resolve (it would publish a broken link)."""
    return record.levelno >= logging.ERROR or "Unable to find" in str(record.msg)


def _from_log(record: logging.LogRecord, task: SiteTask) -> dict[str, object]:
    message = record.getMessage()
    if "Unable to find" in str(record.msg):
        message = (f"un lien ne mène à aucune page ({message}) ; vérifiez les liens des "
                   "articles et des pages de la ville")
    return {"file": f"{task.content_dir.name}/{task.slug}", "line": None, "message": message}


def _count_pages(release: Path) -> int:
    return sum(1 for _ in release.rglob("*.html"))
