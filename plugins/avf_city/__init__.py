"""Give the theme what a city home needs: the menu, the network's news, the city's card.

The card itself (AVF_CITY, without the email address) and the network news
(AVF_NETWORK_NEWS) come from the build as settings; this plugin derives the lists the
templates show, so that templates stay free of logic.
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


def register() -> None:
    signals.page_generator_finalized.connect(add_menu)
    signals.article_generator_finalized.connect(add_network_news)
    signals.article_generator_finalized.connect(add_activity)
