"""Keyboard alone and 200 % zoom, in Debian's Chromium (Playwright) on the built sample.

- **Keyboard**: on a city home and the portal, the first Tab lands on the skip link, which
  leads into the main content; Tab then reaches every link, field and button of the page,
  in order, and each one shows a focus outline (at least 2 px, contrasting 3:1 with what
  surrounds it — WCAG 2.4.7, and 2.4.11's bar of WCAG 2.2).
- **200 % zoom**: a 1280 px window zoomed to 200 % lays pages out in 640 CSS pixels (at a
  device scale of 2); home, post, event and portal must then need no horizontal scrolling
  (WCAG 1.4.4, 1.4.10) — nor at 320 px, a phone at 400 %.
- **On a phone**, the portal's directory filter is a big field with a visible label: at
  least 44 px high (a finger-sized target) with text of at least 18 px.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser_helpers import CHROMIUM, require

from tests.test_accessibility import TIMEOUT, served  # noqa: F401

KEYBOARD_PAGES = ("lyon/", "")  # a city home, the portal
ZOOM_PAGES = ("lyon/", "lyon/actualites/cafe-accueil.html",
              "lyon/actualites/fete-des-lumieres.html", "")
# What a keyboard user can reach: everything focusable that is shown and not taken out of
# the tab order on purpose (the map's dots are pointer-only, the directory lists them).
INTERACTIVE = ("a[href], button, input:not([type=hidden]), select, textarea, "
               "[tabindex]:not([tabindex='-1'])")

MARK_INTERACTIVE = """selector => {
  const shown = el => el.getClientRects().length > 0 && !el.closest('[hidden], [inert]')
      && getComputedStyle(el).visibility !== 'hidden' && el.tabIndex >= 0
      && !el.closest('[aria-hidden=true]');
  const all = [...document.querySelectorAll(selector)].filter(shown);
  all.forEach((el, i) => el.setAttribute('data-kb', String(i)));
  return all.length;
}"""

DESCRIBE_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  let around = el.parentElement, background = 'rgb(255, 255, 255)';
  while (around) {
    const colour = getComputedStyle(around).backgroundColor;
    if (colour && colour !== 'transparent' && !/, 0\\)$/.test(colour)) {
      background = colour;
      break;
    }
    around = around.parentElement;
  }
  return {kb: el.getAttribute('data-kb'), tag: el.tagName.toLowerCase(),
          text: (el.textContent || el.id || '').trim().slice(0, 40),
          cls: el.className && String(el.className), outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth), colour: style.outlineColor, background,
          hash: location.hash};
}"""


def luminance(colour: str) -> float:
    """WCAG relative luminance of a CSS `rgb()`/`rgba()` colour."""
    red, green, blue = (int(value) / 255 for value in re.findall(r"\d+", colour)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture(scope="module")
def browser(served: tuple[str, object]) -> Iterator[object]:  # noqa: F811
    require(CHROMIUM, "chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--headless", "--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.mark.parametrize("path", KEYBOARD_PAGES, ids=["city-home", "portal"])
def test_the_keyboard_alone_reaches_everything_with_a_visible_focus(
        browser, served: tuple[str, object], path: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    address, _ = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.set_default_timeout(TIMEOUT)
        page.goto(f"{address}/{path}", wait_until="networkidle")
        expected = page.evaluate(MARK_INTERACTIVE, INTERACTIVE)
        page.keyboard.press("Tab")
        first = page.evaluate(DESCRIBE_FOCUS)
        assert first is not None and first["cls"] == "skip-link", first
        assert page.locator(".skip-link").is_visible()  # shown once focused
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#contenu"

        page.goto(f"{address}/{path}", wait_until="networkidle")
        page.evaluate(MARK_INTERACTIVE, INTERACTIVE)
        reached: list[dict[str, object]] = []
        for _ in range(expected + 5):
            page.keyboard.press("Tab")
            focused = page.evaluate(DESCRIBE_FOCUS)
            if focused is None or (reached and focused["kb"] == reached[0]["kb"]):
                break  # back to the browser's own controls, or round again
            reached.append(focused)
        order = [int(str(item["kb"])) for item in reached if item["kb"] is not None]
        assert order == list(range(expected)), (order, expected)  # all, in document order
        unseen = [item for item in reached
                  if item["outline"] == "none" or float(str(item["width"])) < 2
                  or contrast(str(item["colour"]), str(item["background"])) < 3]
        assert unseen == [], unseen
    finally:
        page.close()


@pytest.mark.parametrize("width", [640, 320])
@pytest.mark.parametrize("path", ZOOM_PAGES, ids=["home", "post", "event", "portal"])
def test_zoomed_pages_need_no_horizontal_scrolling(
        browser, served: tuple[str, object], path: str, width: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    address, _ = served
    page = browser.new_page(viewport={"width": width, "height": 800}, device_scale_factor=2)
    try:
        page.set_default_timeout(TIMEOUT)
        page.goto(f"{address}/{path}", wait_until="networkidle")
        overflow = page.evaluate("""() => {
          const width = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width + 1)
            .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
          return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
        }""")
        assert overflow["scroll"] <= overflow["width"], overflow
    finally:
        page.close()


def test_the_directory_filter_is_big_and_labelled_on_a_phone(
        browser, served: tuple[str, object]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    address, _ = served
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                            is_mobile=True, has_touch=True)
    try:
        page.set_default_timeout(TIMEOUT)
        page.goto(f"{address}/", wait_until="networkidle")
        field = page.get_by_label("Ville, code postal ou département")
        label = page.locator("label[for=annuaire-saisie]")
        assert field.is_visible() and label.is_visible()
        box = field.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 300, box
        sizes = page.evaluate("""() => [
          getComputedStyle(document.getElementById('annuaire-saisie')).fontSize,
          getComputedStyle(document.querySelector('label[for=annuaire-saisie]')).fontSize]""")
        assert all(float(size.removesuffix("px")) >= 18 for size in sizes), sizes
        field.tap()
        field.fill("35")
        assert page.locator("[data-annuaire-compte]").inner_text() == "1 association trouvée."
    finally:
        page.close()
