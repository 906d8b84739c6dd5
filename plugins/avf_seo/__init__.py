"""What search engines read: a `sitemap.xml` per city, and at the network's root a sitemap
index of every city online plus `robots.txt`.

A city's sitemap lists its public addresses only: its home, agenda, archives, tags, standing
pages and posts. Member-only documents are out of Pelican's lists by then (avf_visibility),
and anything whose address is not under the city's own is left out too, so a member URL can
never be announced. `lastmod` is a document's `modified` date, else its date; a list page's
is that of the newest post it lists. Nothing depends on when the build ran: the same content
gives the same bytes (incremental builds equal cold ones).

The portal writes `sitemap.xml` as the index of `sitemap-reseau.xml` (its own pages and
news) and of each online city's `sitemap.xml`; it is rebuilt whenever the set of cities
online changes, so the index follows; a city with a domain of its own is listed at that
domain. Such a city is served at its domain's root, so it also gets its own `robots.txt`
(nothing of the service lives on that host: everything is allowed) naming its sitemap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pelican import signals
from pelican.generators import ArticlesGenerator, PagesGenerator

SITEMAP = "sitemap.xml"
PORTAL_SITEMAP = "sitemap-reseau.xml"  # the portal's own pages, listed in the index
ROBOTS = "robots.txt"
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Paths of the service that no search engine should crawl: members' pages, accounts, the
# dashboard, the future editor, webhooks, and the contact form's thank-you page. The
# contact form itself stays crawlable: a newcomer searching how to reach a city's
# welcome team should find it.
DISALLOWED = ("/membres/", "/compte/", "/admin/", "/editeur/", "/hooks/", "/contact/*/merci")


def write_sitemaps(generators: list[Any]) -> None:
    """After every generator read its content, before pages are written."""
    articles = next((g for g in generators if isinstance(g, ArticlesGenerator)), None)
    pages = next((g for g in generators if isinstance(g, PagesGenerator)), None)
    if articles is None or pages is None:
        return
    settings = articles.settings
    output = Path(settings["OUTPUT_PATH"])
    entries = site_entries(settings, articles, pages)
    city = settings.get("AVF_CITY")
    if city:
        _write(output / SITEMAP, urlset(entries))
        if city.get("domain"):
            _write(output / ROBOTS, domain_robots(settings["SITEURL"].rstrip("/")))
        return
    # The portal: its own sitemap, the network's index and robots.txt.
    base = settings["SITEURL"].rstrip("/")
    _write(output / PORTAL_SITEMAP, urlset(entries))
    cities = sorted(settings.get("AVF_CITIES") or [], key=lambda card: str(card["slug"]))
    _write(output / SITEMAP, sitemap_index(
        [f"{base}/{PORTAL_SITEMAP}"] + [f"{card['url']}{SITEMAP}" for card in cities]))
    _write(output / ROBOTS, robots(base))


def site_entries(settings: dict[str, Any], articles: Any, pages: Any,
                 ) -> list[tuple[str, datetime | None]]:
    """(absolute URL, lastmod) of every public address of one site, home first."""
    site = settings["SITEURL"].rstrip("/")
    posts = [a for a in articles.articles if is_public(a)]
    newest = _newest(posts)
    templates = settings.get("DIRECT_TEMPLATES", [])
    entries: list[tuple[str, datetime | None]] = [(f"{site}/", newest)]
    if "agenda" in templates and settings.get("AGENDA_URL"):
        events = [a for a in posts if getattr(a, "event", None) is not None]
        entries.append((f"{site}/{settings['AGENDA_URL']}", _newest(events)))
    if "archives" in templates and settings.get("ARCHIVES_SAVE_AS") and posts:
        entries.append((f"{site}/{settings['ARCHIVES_URL']}", newest))
    if "tags" in templates and settings.get("TAGS_SAVE_AS") and articles.tags:
        entries.append((f"{site}/{settings['TAGS_URL']}", newest))
    if settings.get("TAG_SAVE_AS"):
        for tag, tagged in sorted(articles.tags.items(), key=lambda item: item[0].url):
            listed = [a for a in tagged if is_public(a)]
            if listed:
                entries.append((f"{site}/{tag.url}", _newest(listed)))
    documents = [p for p in pages.pages if is_public(p)] + posts
    entries += sorted(((f"{site}/{doc.url}", _lastmod(doc)) for doc in documents),
                      key=lambda entry: entry[0])
    return [(url, moment) for url, moment in entries if url.startswith(f"{site}/")]


def is_public(document: Any) -> bool:
    return getattr(document, "visibility", "public") != "members" and \
        "://" not in str(document.url)  # member documents have absolute /membres/ URLs


def _lastmod(document: Any) -> datetime | None:
    return getattr(document, "modified", None) or getattr(document, "date", None)


def _newest(documents: Iterable[Any]) -> datetime | None:
    moments = [moment for moment in map(_lastmod, documents) if moment is not None]
    return max(moments) if moments else None


def urlset(entries: list[tuple[str, datetime | None]]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{NAMESPACE}">']
    for url, moment in entries:
        lastmod = f"<lastmod>{w3c(moment)}</lastmod>" if moment is not None else ""
        lines.append(f"<url><loc>{escape(url)}</loc>{lastmod}</url>")
    return "\n".join([*lines, "</urlset>", ""])


def sitemap_index(sitemaps: list[str]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{NAMESPACE}">']
    lines += [f"<sitemap><loc>{escape(url)}</loc></sitemap>" for url in sitemaps]
    return "\n".join([*lines, "</sitemapindex>", ""])


def robots(base: str) -> str:
    rules = "\n".join(f"Disallow: {path}" for path in DISALLOWED)
    return f"User-agent: *\n{rules}\nAllow: /\n\nSitemap: {base}/{SITEMAP}\n"


def domain_robots(site: str) -> str:
    """robots.txt at the root of a city's own domain: only its static site lives there."""
    return f"User-agent: *\nAllow: /\n\nSitemap: {site}/{SITEMAP}\n"


def w3c(moment: datetime) -> str:
    """A W3C datetime (what sitemaps take): seconds and offset, or a day for naive dates."""
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.replace(microsecond=0).isoformat()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def register() -> None:
    signals.all_generators_finalized.connect(write_sitemaps)
