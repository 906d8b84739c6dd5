"""Give the theme what a city home needs: the menu, the network's news, the city's card,
and write the home itself.

The card itself (AVF_CITY, without the email address) and the network news
(AVF_NETWORK_NEWS) come from the build as settings; this plugin derives the lists the
templates show, so that templates stay free of logic.

The home shows each post once: events under « Prochainement » while they are to come
(avf_agenda's `upcoming_events`), every other post under « Actualités », paginated
(`index-2.html`…). A past event leaves the home at the first build after its end (the
nightly one at the latest, see avf/build/state.py `expires`) and stays in the agenda's
archive, the archives, its tags and the feed. So the home is not Pelican's `index` direct
template, which paginates every post: it is written here with the news only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pelican import signals

from avf.content.activity import is_dormant


def add_menu(generator: Any) -> None:
    """Public pages in menu order (`order`, then title)."""
    generator.context["menu_pages"] = sorted(
        generator.pages,
        key=lambda page: (getattr(page, "order", 1000), page.title.lower()),
    )


def add_network_news(generator: Any) -> None:
    """The network's broadcast news, unless the city opted out (`network_news: false`)."""
    city = generator.settings.get("AVF_CITY") or {}
    news = generator.settings.get("AVF_NETWORK_NEWS", [])
    generator.context["network_news"] = news if city.get("network_news", True) else []


def add_activity(generator: Any) -> None:
    """`city_dormant`: nothing public published for six months (or ever), so the home leads
    with how to reach the city (avf.content.activity holds the rule)."""
    if not generator.settings.get("AVF_CITY"):
        generator.context["city_dormant"] = False
        return
    fixed = generator.settings.get("AVF_NOW")
    now = datetime.fromisoformat(fixed) if fixed else datetime.now(UTC)
    newest = max((article.date for article in generator.articles), default=None)
    generator.context["city_dormant"] = is_dormant(newest, now)


def write_home(generator: Any, writer: Any) -> None:
    """The city's home (`INDEX_SAVE_AS`), paginated over its news: posts without an event."""
    settings = generator.settings
    if not settings.get("AVF_CITY") or not settings.get("INDEX_SAVE_AS"):
        return
    news = [article for article in generator.articles if getattr(article, "event", None) is None]
    listed = {id(article) for article in news}
    writer.write_file(
        settings["INDEX_SAVE_AS"], generator.get_template("index"), generator.context,
        relative_urls=settings["RELATIVE_URLS"], articles=news,
        dates=[article for article in generator.dates if id(article) in listed], blog=True,
        template_name="index", page_name="index", url=settings.get("INDEX_URL", ""))


def register() -> None:
    signals.article_writer_finalized.connect(write_home)
    signals.page_generator_finalized.connect(add_menu)
    signals.article_generator_finalized.connect(add_network_news)
    signals.article_generator_finalized.connect(add_activity)
