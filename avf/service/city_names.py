"""City names for people (« AVF Lyon »), read from each city's card in the content."""

from __future__ import annotations

from pathlib import Path

from avf.content.cards import read_city_card
from avf.content.model import SLUG_PATTERN
from avf.content.problems import ContentError


def city_name(content_dir: Path, slug: str) -> str:
    """The name on the city's card, or the slug itself when the card is missing or
    invalid (a page must not fail because a volunteer broke city.yaml)."""
    card = content_dir / slug / "city.yaml"
    if not SLUG_PATTERN.match(slug) or not card.is_file():
        return slug
    try:
        return read_city_card(card, f"{slug}/city.yaml", slug).name
    except (ContentError, OSError, ValueError):
        return slug
