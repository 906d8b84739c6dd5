"""The sites' Content-Security-Policy in a real browser: Debian's Chromium, driven by
Playwright, loads a city's home, a post with its members' comments, the search pages and
the portal, served by the service under uvicorn, and the policy blocks nothing of the theme
(no `securitypolicyviolation` event, no console error) while search still finds.

Skipped when Chromium is not installed, except in CI (`CI` set).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from auth_helpers import add_person, browser, sign_in
from browser_helpers import require_chromium
from conftest import (
    CITY_YAML,
    FIXED_NOW,
    free_port,
    post,
    service_settings,
    serving,
    write,
    write_city,
)

from avf.build import BuildOptions, build_network
from avf.service import create_app
from avf.service.static_headers import site_policy

MEMBER = "odile@example.org"
TIMEOUT = 15_000  # milliseconds, for each step of the browser
# Every violation the page's policy reports, and the console's errors, kept by the page.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[dict]]]:
    """A network with search indexes, built for the port it is served on by the service;
    its address and the cookies of a signed-in member of Lyon."""
    root = tmp_path_factory.mktemp("csp")
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-01-traboules.md": post(
            "Visite des traboules", body="Une promenade dans les traboules du Vieux-Lyon.",
            extra='summary: "Les passages secrets de Lyon."'),
    }, card=CITY_YAML.format(slug="lyon", title="Lyon") + "comments_on_public_posts: true\n")
    write_city(content, "rennes", {"posts/2026-10-01-a.md": post("Rennes")},
               card=CITY_YAML.format(slug="rennes", title="Rennes")
               .replace('"69001"', '"35000"'))
    output = root / "output"
    assert build_network(BuildOptions(content_dir=content, output_dir=output, jobs=2,
                                      site_url=address, now=FIXED_NOW)).ok
    settings = service_settings(root, content, run_workers=False)
    app = create_app(replace(settings, output_dir=output))
    with serving(app, port):
        add_person(app, MEMBER, ("member", "lyon"), name="Odile")
        client = browser(app)  # the real sign-in flow; its session cookie goes to Chromium
        sign_in(client, app, MEMBER)
        cookies = [{"name": cookie.name, "value": cookie.value or "", "url": address}
                   for cookie in client.cookies.jar]
        yield address, cookies


@pytest.fixture
def page(chromium: str, site: tuple[str, list[dict]]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    _, cookies = site
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium,
                                              args=["--headless", "--no-sandbox"])
        try:
            context = launched.new_context()
            context.add_cookies(cookies)
            context.add_init_script(WATCH)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT)
            page.console_errors = []  # type: ignore[attr-defined]
            page.on("console", lambda message: page.console_errors.append(
                f"{message.text} {message.location.get('url')}")
                if message.type == "error" else None)
            yield page
        finally:
            launched.close()


def visit(page, url: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response.status == 200, url
    assert response.headers["content-security-policy"] == site_policy(), url


def assert_nothing_blocked(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == [], page.url
    # (The browser's own ask for /favicon.ico: the theme has none, nothing to do with CSP.)
    errors = [text for text in page.console_errors  # type: ignore[attr-defined]
              if not text.endswith("/favicon.ico")]
    assert errors == [], page.url


def test_a_city_s_home_and_a_post_with_its_comments_load_under_the_policy(
        page, site: tuple[str, list[dict]]) -> None:  # type: ignore[no-untyped-def]
    address, _ = site
    visit(page, f"{address}/lyon/")
    assert page.get_by_role("heading", name="AVF Lyon", level=1).is_visible()
    # The theme's stylesheet applied (a file from the site: allowed).
    assert page.evaluate("getComputedStyle(document.querySelector('.skip-link')).position") \
        == "absolute"
    assert_nothing_blocked(page)

    visit(page, f"{address}/lyon/actualites/traboules.html")
    # The comments script (a theme file) fetched the thread for the signed-in member: its
    # form replaced the link, and its honeypot stays out of sight (a class, not a style).
    page.get_by_label("Votre commentaire").wait_for()
    assert not page.get_by_role("link", name="Voir les commentaires").count()
    trap = page.locator("#commentaires .contact-trap").first
    assert trap.bounding_box()["x"] < 0
    assert_nothing_blocked(page)

    visit(page, f"{address}/lyon/contact/")
    assert_nothing_blocked(page)


def test_search_finds_under_the_policy_on_a_city_and_the_portal(
        page, site: tuple[str, list[dict]]) -> None:  # type: ignore[no-untyped-def]
    address, _ = site
    visit(page, f"{address}/lyon/recherche/")
    page.locator("#recherche input").fill("traboules")
    result = page.locator(".pagefind-ui__result-link").first
    result.wait_for()
    assert "/lyon/actualites/traboules.html" in result.get_attribute("href")
    assert_nothing_blocked(page)

    visit(page, f"{address}/recherche/")  # the portal merges every city's index
    page.locator("#recherche input").fill("traboules")
    page.locator(".pagefind-ui__result-link").first.wait_for()
    assert_nothing_blocked(page)


def test_the_portal_s_directory_filters_under_the_policy(
        page, site: tuple[str, list[dict]]) -> None:  # type: ignore[no-untyped-def]
    address, _ = site
    visit(page, f"{address}/")
    page.get_by_label("Ville, code postal ou département").fill("35000")
    directory = page.locator(".annuaire")
    assert directory.get_by_role("link", name="AVF Rennes").is_visible()
    assert not directory.get_by_role("link", name="AVF Lyon").is_visible()
    assert page.locator(".carte svg").count() == 1  # the map, drawn inline
    assert_nothing_blocked(page)


def test_an_inline_script_is_what_the_policy_stops(
        page, site: tuple[str, list[dict]]) -> None:  # type: ignore[no-untyped-def]
    """The watch itself: a script slipped into a served page is blocked and reported."""
    address, _ = site
    visit(page, f"{address}/lyon/")
    page.evaluate("""() => {
        const holder = document.createElement("div");
        holder.innerHTML = '<img src="data:," onerror="window.__ran = true">';
        document.body.append(holder);
    }""")
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))
