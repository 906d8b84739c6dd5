"""Full-text search with Pagefind: one index per city and one for the portal, written into
each release; the network search merges them with a city filter; member-only text is in
no index. The browser tests drive Debian's Chromium (skipped without it, except in CI)."""

from __future__ import annotations

import functools
import gzip
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser_helpers import require_chromium

from avf.build import BuildOptions, build_network
from avf.content import discover_cities
from tests.conftest import (
    FIXED_NOW,
    SAMPLE_CONTENT,
    TEST_SITE_URL,
    build,
    free_port,
    post,
    write,
    write_city,
)
from tests.test_build import every_file
from tests.test_sample_network import sentinels

TIMEOUT = 15_000  # milliseconds, for each step of the browser


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("search") / "output"
    result = build(SAMPLE_CONTENT, output)
    assert result.ok, [(r.slug, r.errors) for r in result.failed]
    return output


def index_texts(bundle: Path) -> str:
    """Everything a Pagefind bundle holds, decompressed: its fragments (JSON of each page),
    word index and filter chunks (CBOR, whose strings are plain UTF-8)."""
    texts = []
    for chunk in bundle.rglob("*.pf_*"):
        data = chunk.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        texts.append(data.decode("utf-8", errors="replace"))
    return "\n".join(texts)


def test_every_city_and_the_portal_have_a_french_index(sample: Path) -> None:
    for site in [*discover_cities(SAMPLE_CONTENT), ""]:
        bundle = sample / "public" / site / "pagefind"
        entry = json.loads((bundle / "pagefind-entry.json").read_text())
        assert list(entry["languages"]) == ["fr"] and entry["languages"]["fr"]["page_count"] > 0
        assert (bundle / "pagefind-ui.js").is_file() and (bundle / "wasm.fr.pagefind").is_file()
        assert list((bundle / "fragment").glob("*.pf_fragment"))
        assert not (bundle / "pagefind-component-ui.js").exists()  # unused parts left out
    lyon = index_texts(sample / "public" / "lyon" / "pagefind")
    assert "Visite guidée du musée des Beaux-Arts" in lyon
    assert '"url":"/actualites/' in lyon
    assert "ville" in lyon and "Lyon" in lyon  # the city filter


def test_member_only_text_is_in_no_index(sample: Path) -> None:
    secrets = sentinels("members")
    assert secrets
    sites = [*discover_cities(SAMPLE_CONTENT), ""]  # "": the portal
    indexed = "\n".join(index_texts(sample / "public" / site / "pagefind") for site in sites)
    assert indexed.count("pagefind_dcd") >= 2 * len(sites)
    members = "\n".join(path.read_text() for path in every_file(sample / "members")
                         if path.suffix == ".html")
    for secret in secrets:
        assert secret in members or secret in members.replace("'", "’")
        assert secret not in indexed
    assert not [path for path in every_file(sample / "members") if "pagefind" in path.parts]


def test_search_pages_use_their_own_index_and_the_network_merges_every_city(
        sample: Path) -> None:
    lyon = (sample / "public" / "lyon" / "recherche" / "index.html").read_text()
    # Relative: the page finds its index on whichever host served it (a custom domain or
    # the sub-path), see recherche.js.
    assert 'data-recherche-index="../pagefind/"' in lyon
    assert 'src="../pagefind/pagefind-ui.js"' in lyon
    assert "data-pagefind-body" not in lyon  # the search page itself is not indexed
    network = (sample / "public" / "recherche" / "index.html").read_text()
    assert 'data-recherche-index="../pagefind/"' in network
    for slug in discover_cities(SAMPLE_CONTENT):
        assert f"&#34;{TEST_SITE_URL}/{slug}/&#34;" in network
    home = (sample / "public" / "lyon" / "index.html").read_text()
    assert 'data-pagefind-body data-pagefind-filter="ville:Lyon"' in home


def test_a_city_index_is_rebuilt_with_the_city_only(network: Path, tmp_path: Path) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("Pique-nique", body="Salade.")})
    write_city(network, "rennes", {"posts/2026-10-01-b.md": post("Crêpes", body="Galettes.")})
    output = tmp_path / "out"
    assert build(network, output).ok
    rennes_bundle = (output / "public" / "rennes" / "pagefind").resolve()
    write(network / "lyon" / "posts" / "2026-10-02-c.md",
          post("Balade", body="Une randonnée aux Monts d'Or."))
    second = build(network, output)
    assert [result.slug for result in second.results] == ["lyon"]
    assert second.results[0].search_seconds > 0
    assert "randonnée" in index_texts(output / "public" / "lyon" / "pagefind")
    assert (output / "public" / "rennes" / "pagefind").resolve() == rennes_bundle


# --- In a real browser -----------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample network built for the port it is served on by a plain static server."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    output = tmp_path_factory.mktemp("served") / "output"
    assert build_network(BuildOptions(content_dir=SAMPLE_CONTENT, output_dir=output, jobs=2,
                                      site_url=address, now=FIXED_NOW)).ok
    handler = functools.partial(_QuietHandler, directory=str(output / "public"))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield address
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def page(chromium: str, served: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT)
            page.elsewhere = []  # type: ignore[attr-defined]
            page.on("request", lambda request: None if request.url.startswith(served)
                    else page.elsewhere.append(request.url))  # type: ignore[attr-defined]
            yield page
        finally:
            browser.close()


def test_the_directory_filter_finds_a_city_by_postal_code_and_name(
        page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + "/")
    directory = page.locator(".annuaire")
    field = page.get_by_label("Ville, code postal ou département")
    field.fill("35000")
    rennes = directory.get_by_role("link", name="AVF Rennes")
    assert rennes.is_visible()
    assert not directory.get_by_role("link", name="AVF Lyon").is_visible()
    assert page.locator("[data-annuaire-compte]").inner_text() == "1 association trouvée."
    field.fill("rhone")  # no accent typed: finds the Rhône
    assert directory.get_by_role("link", name="AVF Lyon").is_visible()
    assert not rennes.is_visible()
    field.fill("")
    assert rennes.is_visible()
    assert page.elsewhere == []  # type: ignore[attr-defined]


def test_the_network_search_finds_a_page_of_a_city(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + "/recherche/")
    page.locator("#recherche input").fill("traboules")
    result = page.locator(".pagefind-ui__result-link").first
    result.wait_for()
    assert result.get_attribute("href", timeout=TIMEOUT).startswith(served + "/lyon/")
    assert page.get_by_text("ville", exact=False).first.is_visible()  # the city filter
    page.goto(served + "/rennes/recherche/")
    page.locator("#recherche input").fill("traboules")  # a Lyon word: not on Rennes' site
    page.locator(".pagefind-ui__message").get_by_text("Pas de résultat", exact=False).wait_for()
    assert page.elsewhere == []  # type: ignore[attr-defined]


# --- An index kept when the indexed pages did not change ---------------------------------

def test_no_index_names_the_theme_url(sample: Path) -> None:
    """The reuse of an index across a theme change relies on it (search_index.py)."""
    sites = [*discover_cities(SAMPLE_CONTENT), ""]
    indexed = "\n".join(index_texts(sample / "public" / site / "pagefind") for site in sites)
    assert "pagefind_dcd" in indexed
    assert "/theme/" not in indexed
    assert "/theme/" in (sample / "public" / "lyon" / "index.html").read_text()


@pytest.fixture
def own_theme(network: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A network of three cities built with a copy of the theme (its CSS can then change)."""
    from tests.conftest import PROJECT_ROOT
    from tests.test_incremental import settings_copy, small_network

    small_network(network)
    theme = tmp_path / "theme"
    shutil.copytree(PROJECT_ROOT / "themes" / "avf", theme)
    settings = settings_copy(tmp_path / "conf.py", f"\nTHEME = {str(theme)!r}\n")
    return theme, settings


def _build(network: Path, output: Path, settings: Path) -> dict[str, bool]:
    done = build_network(BuildOptions(content_dir=network, output_dir=output, jobs=2,
                                      site_url=TEST_SITE_URL, now=FIXED_NOW,
                                      settings_file=settings))
    assert done.ok, [(r.slug, r.errors) for r in done.failed]
    reused = {result.slug: result.search_reused for result in done.results}
    if done.portal is not None:
        reused["_portal"] = done.portal.search_reused
    return reused


def _index_files(bundle: Path) -> dict[str, int]:
    """Each file of an index by path, with its inode: the same files, not new copies."""
    return {path.relative_to(bundle).as_posix(): path.stat().st_ino
            for path in bundle.rglob("*") if path.is_file()}


def _change_css(theme: Path) -> None:
    css = theme / "static" / "css" / "avf.css"
    css.write_text(css.read_text() + "\n/* a new shade */\n")


def test_a_theme_change_keeps_every_index_and_equals_a_cold_build(
        network: Path, tmp_path: Path, own_theme: tuple[Path, Path]) -> None:
    theme, settings = own_theme
    output = tmp_path / "out"
    first = _build(network, output, settings)
    assert first == dict.fromkeys(["dinan", "lyon", "rennes", "_portal"], False)
    before = {slug: (output / "public" / slug / "index.html").read_text()
              for slug in ("lyon", "rennes")}
    fragments = _index_files(output / "public" / "lyon" / "pagefind")
    _change_css(theme)
    assert _build(network, output, settings) == dict.fromkeys(
        ["dinan", "lyon", "rennes", "_portal"], True)
    for slug, page in before.items():  # the pages did change: they name the new theme
        assert (output / "public" / slug / "index.html").read_text() != page
    assert _index_files(output / "public" / "lyon" / "pagefind") == fragments
    cold = tmp_path / "cold"
    assert not any(_build(network, cold, settings).values())
    assert tree(output) == tree(cold)


def test_changed_text_or_an_untrusted_key_indexes_again(
        network: Path, tmp_path: Path, own_theme: tuple[Path, Path]) -> None:
    from avf.build.publish import online_release
    from avf.build.search_index import KEY_FILE

    theme, settings = own_theme
    output = tmp_path / "out"
    _build(network, output, settings)
    write(network / "lyon" / "posts" / "2026-10-02-c.md",
          post("Balade", body="Une randonnée aux Monts d'Or."))
    (online_release(output, "rennes") / KEY_FILE).write_text("normalised 0000\n")  # damaged
    (online_release(output, "_portal") / KEY_FILE).unlink()  # missing
    _change_css(theme)
    assert _build(network, output, settings) == {
        "dinan": True, "lyon": False, "rennes": False, "_portal": False}
    assert "randonnée" in index_texts(output / "public" / "lyon" / "pagefind")
    cold = tmp_path / "cold"
    _build(network, cold, settings)
    assert tree(output) == tree(cold)


def tree(output: Path) -> dict[str, bytes]:
    """What is published, but the theme's older versions (kept online on purpose)."""
    from tests.test_incremental import tree as published

    return {path: data for path, data in published(output).items()
            if not path.startswith("public/theme/")}


def test_a_reused_index_follows_the_precompression_setting(network: Path,
                                                            tmp_path: Path) -> None:
    """A reused index is linked from the previous release, siblings included: turning
    precompression off drops the siblings of its big files, turning it back on brings them
    back — each time equal to a cold build with that setting."""
    from tests.test_incremental import small_network

    small_network(network)

    def run(output: Path, precompress: bool) -> dict[str, bool]:
        done = build_network(BuildOptions(content_dir=network, output_dir=output, jobs=2,
                                          site_url=TEST_SITE_URL, now=FIXED_NOW,
                                          precompress=precompress))
        assert done.ok, [(r.slug, r.errors) for r in done.failed]
        return {result.slug: result.search_reused for result in done.results}

    output = tmp_path / "out"
    run(output, precompress=True)
    script = output / "public" / "lyon" / "pagefind" / "pagefind-ui.js"
    assert script.with_name("pagefind-ui.js.gz").is_file()
    for precompress in (False, True):
        assert all(run(output, precompress).values())  # every city rebuilt, index reused
        assert script.with_name("pagefind-ui.js.gz").is_file() is precompress
        cold = tmp_path / f"cold-{precompress}"
        run(cold, precompress)
        assert tree(output) == tree(cold)
