"""Every accent a city may choose keeps WCAG 2.1 AA contrast (4.5:1 for normal text): white
text on it (header, buttons) and itself as link colour on white and on the grey of the
contact cards. Read from the theme's CSS, so a colour changed there is checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from avf.content.model import ACCENTS

CSS = Path(__file__).resolve().parents[1] / "themes" / "avf" / "static" / "css" / "avf.css"
WHITE = "#ffffff"
CARD_GREY = "#f3f4f7"  # .contact-card and .notice backgrounds, where links sit too
AA_NORMAL_TEXT = 4.5


def accents() -> dict[str, str]:
    rules = re.findall(r"\.accent-([a-z]+)\s*\{\s*--accent:\s*(#[0-9a-fA-F]{6})\s*;\s*\}",
                       CSS.read_text(encoding="utf-8"))
    return {name: colour.lower() for name, colour in rules}


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour written #rrggbb."""
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_formula_gives_the_known_ratios() -> None:
    assert contrast("#000000", WHITE) == pytest.approx(21.0)
    assert contrast(WHITE, WHITE) == pytest.approx(1.0)
    assert contrast("#767676", WHITE) == pytest.approx(4.54, abs=0.01)  # the classic AA grey


def test_every_accent_of_the_model_is_defined_in_the_css_and_nothing_else() -> None:
    assert sorted(accents()) == sorted(ACCENTS)


@pytest.mark.parametrize("name", ACCENTS)
def test_an_accent_passes_contrast_under_white_text_and_as_a_link(name: str) -> None:
    colour = accents()[name]
    assert contrast(WHITE, colour) >= AA_NORMAL_TEXT, f"white text on {name} ({colour})"
    assert contrast(colour, WHITE) >= AA_NORMAL_TEXT, f"{name} links on white"
    assert contrast(colour, CARD_GREY) >= AA_NORMAL_TEXT, f"{name} links on the cards' grey"
