"""Accessibility and HTML validity of the built sample, checked by the tools people audit us
with: axe-core (its default rule set, every impact) in Debian's Chromium on the pages each
kind of template draws, for two cities and the portal; and the Nu HTML checker (vnu.jar)
on the same files. Both tools come from package.json, installed by `./run` into
node_modules/. Skipped when a tool is missing here, failed when it is missing in CI."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, require

from avf.build import BuildOptions, build_network
from tests.conftest import FIXED_NOW, PROJECT_ROOT, SAMPLE_CONTENT, free_port

NODE_MODULES = PROJECT_ROOT / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")
TIMEOUT = 15_000  # milliseconds, for each step of the browser

# One page of each template, for two cities (paths below public/), and the portal.
CITY_PAGES = ("{city}/index.html", "{city}/actualites/{post}.html",
              "{city}/actualites/{event}.html", "{city}/agenda/index.html",
              "{city}/qui-sommes-nous/index.html", "{city}/etiquettes/index.html",
              "{city}/recherche/index.html")
CITIES = {"lyon": {"post": "cafe-accueil", "event": "fete-des-lumieres"},
          "rennes": {"post": "bilan-de-saison", "event": "balade-thabor"}}
PAGES = ("index.html", *(page.format(city=city, **names)
                         for city, names in CITIES.items() for page in CITY_PAGES))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The sample network built for the port a plain static server serves it on (so the
    browser loads the real CSS), and its public folder."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    output = tmp_path_factory.mktemp("a11y") / "output"
    result = build_network(BuildOptions(content_dir=SAMPLE_CONTENT, output_dir=output, jobs=2,
                                        site_url=address, now=FIXED_NOW))
    assert result.ok, [(r.slug, r.errors) for r in result.failed]
    public = output / "public"
    handler = functools.partial(_QuietHandler, directory=str(public))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield address, public
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_checked_pages_exist(served: tuple[str, Path]) -> None:
    _, public = served
    assert [page for page in PAGES if not (public / page).is_file()] == []


def test_axe_finds_no_violation_on_any_kind_of_page(served: tuple[str, Path]) -> None:
    require(CHROMIUM, "chromium", "apt-get install chromium")
    require(AXE.is_file(), "node_modules/axe-core", "./run installs it (npm ci)")
    from playwright.sync_api import sync_playwright

    address, _ = served
    found: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT)
            for path in PAGES:
                url = f"{address}/{path.removesuffix('index.html')}"
                page.goto(url, wait_until="networkidle")
                page.add_script_tag(path=str(AXE))
                results = page.evaluate("() => axe.run(document)")
                problems = [f"{violation['id']} ({violation['impact']}): {violation['help']} "
                            f"at {[node['target'] for node in violation['nodes']]}"
                            for violation in results["violations"]]
                if problems:
                    found[path] = problems
        finally:
            browser.close()
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


def test_the_nu_html_checker_finds_no_error(served: tuple[str, Path]) -> None:
    require(JAVA, "java", "apt-get install default-jre-headless")
    require(VNU.is_file(), "node_modules/vnu-jar", "./run installs it (npm ci)")
    _, public = served
    run = subprocess.run([JAVA, "-jar", str(VNU), "--errors-only", "--format", "json",
                          *(str(public / page) for page in PAGES)],
                         capture_output=True, text=True, timeout=300, check=False)
    messages = json.loads(run.stderr or run.stdout)["messages"]
    errors = [f"{message.get('url', '').split('/public/')[-1]}:{message.get('lastLine')}: "
              f"{message['message']}" for message in messages]
    assert errors == [] and run.returncode == 0, "\n".join(errors) or run.stderr
