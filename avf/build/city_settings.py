"""The Pelican settings of one city (or of the portal), derived from the shared settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from avf.content import NETWORK_SLUG
from avf.content.model import City, city_site_url


@dataclass(frozen=True)
class SiteTask:
    """Everything a worker needs to build one site, picklable."""

    slug: str
    content_dir: Path
    output_dir: Path
    settings_file: Path
    base_url: str
    network_news: list[dict[str, object]] = field(default_factory=list)
    cities: list[dict[str, object]] = field(default_factory=list)  # portal only
    now: str | None = None
    theme_version: str = ""
    strict: bool = False  # warnings fail the site (`avf build --strict`)
    search: bool = True  # index the site with Pagefind
    precompress: bool = True  # write .gz/.br siblings of its text files
    custom_domains: bool = True  # cities' own domains are used (BuildOptions.custom_domains)
    preview: bool = False  # the editor's preview: no search index, not stored for publishing
    # Where the site is staged before it is stored (build/staging.py), chosen once per
    # network build by the calling process: a worker's environment may be older than the
    # build's, and Pagefind's index depends on the order a folder lists its files, so
    # every site of one output must be staged on the same kind of filesystem.
    staging_root: Path | None = None

    @property
    def is_portal(self) -> bool:
        return self.slug == NETWORK_SLUG

    @property
    def now_datetime(self) -> datetime:
        """The moment that counts as now for upcoming/past events."""
        return datetime.fromisoformat(self.now) if self.now else datetime.now(UTC)


def city_overrides(task: SiteTask, city: City, release: Path) -> dict[str, object]:
    """Settings that make the shared settings build `city` into `release`.

    A city with a `domain:` of its own gets it as SITEURL (every address of its pages,
    feeds, agendas and sitemap) and takes the theme from that domain's `/theme/` (nginx
    serves it there, see avf/deploy.py): no second host to reach before the first paint.
    """
    domain = city.domain if task.custom_domains else None
    site_url = city_site_url(task.base_url, city.slug, domain)
    theme_url = _theme_url(site_url if domain else task.base_url, task.theme_version)
    return {
        **_common(task, release),
        "THEME_URL": theme_url,
        "PATH": str(task.content_dir / city.slug),
        "SITEURL": site_url,
        "FEED_DOMAIN": site_url,
        "SITENAME": city.name,
        "SITESUBTITLE": city.tagline or "",
        "AVF_CITY": {**city.public_card(), "domain": domain},  # never the email address
        "AVF_MEMBERS_URL": f"{task.base_url}/membres/{city.slug}",
        "AVF_NETWORK_NEWS": task.network_news,
    }


def portal_overrides(task: SiteTask, settings: dict[str, object],
                     release: Path) -> dict[str, object]:
    """Settings for the national portal: the network's pages and news, the city directory."""
    return {
        **_common(task, release),
        "PATH": str(_network_folder(task, release)),
        "SITEURL": task.base_url,
        "FEED_DOMAIN": task.base_url,
        "SITENAME": "Accueil des Villes Françaises",
        "AVF_CITY": None,
        "AVF_CITIES": task.cities,
        "AVF_MEMBERS_URL": f"{task.base_url}/membres",
        "DIRECT_TEMPLATES": ["portal", "archives", "recherche", "accessibilite", "404"],
        "PORTAL_SAVE_AS": "index.html",
        "PAGE_URL": settings["NETWORK_PAGE_URL"],
        "PAGE_SAVE_AS": settings["NETWORK_PAGE_SAVE_AS"],
        "AGENDA_ICS_SAVE_AS": None,
    }


def _network_folder(task: SiteTask, release: Path) -> Path:
    """`content/_network`, or an empty folder: a network without pages of its own still
    gets its portal (the directory of cities)."""
    folder = task.content_dir / NETWORK_SLUG
    if folder.is_dir():
        return folder
    empty = release / "no-network-content"
    empty.mkdir(exist_ok=True)
    return empty


def _theme_url(root: str, version: str) -> str:
    return f"{root}/theme/{version}".rstrip("/")


def _common(task: SiteTask, release: Path) -> dict[str, object]:
    overrides: dict[str, object] = {
        "OUTPUT_PATH": str(release / "public"),
        "AVF_MEMBERS_OUTPUT": str(release / "members"),
        "AVF_NETWORK_URL": task.base_url,
        "THEME_URL": _theme_url(task.base_url, task.theme_version),
        "SITE_BASE_URL": task.base_url,
        "CACHE_CONTENT": False,
        # Media are copied, never hard-linked: output files become shared objects
        # (build/objects.py), which must not be the volunteers' own files.
        "STATIC_CREATE_LINKS": False,
        "LOAD_CONTENT_CACHE": False,
    }
    if task.now:
        overrides["AVF_NOW"] = task.now
    return overrides
