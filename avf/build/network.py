"""The network build, read top to bottom: plan → build cities → portal → publish → report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from avf.build.city_settings import SiteTask
from avf.build.options import BuildOptions
from avf.build.publish import (
    online_cities,
    publish_city,
    publish_portal,
    publish_theme,
    retire_city,
)
from avf.build.report import CityResult, write_report
from avf.build.runner import SitePool
from avf.content import NETWORK_SLUG, CityContent, discover_cities, load_network
from avf.content.cards import read_city_card
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

    @property
    def failed(self) -> list[CityResult]:
        everything = [*self.results, *([self.portal] if self.portal else [])]
        return [result for result in everything if result.status != "ok"]

    @property
    def ok(self) -> bool:
        return not self.failed


def build_network(options: BuildOptions,
                  on_result: Callable[[CityResult], None] | None = None,
                  on_plan: Callable[[int], None] | None = None) -> NetworkBuild:
    """Build the requested cities and the portal; one city's failure never stops the others."""
    started = time.perf_counter()
    output = options.output_dir

    # Plan: which cities, what every city shares (network news, theme).
    slugs = _plan(options)
    for gone in sorted(online_cities(output) - set(discover_cities(options.content_dir))):
        retire_city(output, gone)
    network = load_network(options.content_dir)
    news = broadcast_news(network, options)
    theme_static = Path(str(options.base_settings["THEME"])) / "static"
    publish_theme(output, theme_static)
    if on_plan:
        on_plan(len(slugs) + 1)

    with SitePool(options.jobs) as pool:
        # Build cities; each one goes online as soon as it is built.
        results: list[CityResult] = []
        for result in pool.build(_task(options, slug, news) for slug in slugs):
            if result.status == "ok" and result.release:
                publish_city(output, result.slug, Path(result.release))
            results.append(result)
            if on_result:
                on_result(result)

        # Portal: the network's pages and the directory of every city online.
        cards = _portal_cards(options, results)
        portal_task = _task(options, NETWORK_SLUG, news, cities=cards)
        portal = next(pool.build([portal_task]))
        if portal.status == "ok" and portal.release:
            publish_portal(output, Path(portal.release))
        if on_result:
            on_result(portal)

    # Report.
    seconds = time.perf_counter() - started
    report = write_report(output, results, portal, seconds)
    return NetworkBuild(sorted(results, key=lambda r: r.slug), portal, seconds, report)


def _plan(options: BuildOptions) -> list[str]:
    if not options.content_dir.is_dir():
        raise UsageError(f"le dossier de contenu « {options.content_dir} » n'existe pas")
    every_city = discover_cities(options.content_dir)
    unknown = sorted(set(options.cities) - set(every_city))
    if unknown:
        raise UsageError("ville inconnue : " + ", ".join(unknown)
                         + f" (villes disponibles : {len(every_city)} dans "
                         f"{options.content_dir})")
    return list(options.cities) or every_city


def _task(options: BuildOptions, slug: str, news: list[dict[str, object]],
          cities: list[dict[str, object]] | None = None) -> SiteTask:
    return SiteTask(slug=slug, content_dir=options.content_dir.resolve(),
                    output_dir=options.output_dir.resolve(),
                    settings_file=options.settings_file.resolve(), base_url=options.base_url,
                    network_news=news, cities=cities or [], now=options.now)


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


def _portal_cards(options: BuildOptions, results: list[CityResult]) -> list[dict[str, object]]:
    """Public cards of every city online, with the URL of its home."""
    built = {result.slug: result.card for result in results if result.card}
    cards = []
    for slug in sorted(online_cities(options.output_dir)):
        card = built.get(slug) or _read_card(options.content_dir, slug)
        if card is not None:
            cards.append({**card, "url": f"{options.base_url}/{slug}/"})
    return cards


def _read_card(content_dir: Path, slug: str) -> dict[str, object] | None:
    path = content_dir / slug / "city.yaml"
    if not path.is_file():
        return None
    try:
        return read_city_card(path, str(path), slug).public_card()
    except ContentError:
        return None
