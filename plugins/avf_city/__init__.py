"""Give the theme what a city home needs: the menu, the network's news, the city's card.

The card itself (AVF_CITY, without the email address) and the network news
(AVF_NETWORK_NEWS) come from the build as settings; this plugin derives the lists the
templates show, so that templates stay free of logic.
"""

from __future__ import annotations

from typing import Any

from pelican import signals


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


def register() -> None:
    signals.page_generator_finalized.connect(add_menu)
    signals.article_generator_finalized.connect(add_network_news)
