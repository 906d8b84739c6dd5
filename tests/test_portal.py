"""The national portal: a directory of every city by region and department (a list that
works without script, filtered by a small script), a self-contained map, the network feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from avf.content import discover_cities, load_city, load_network
from avf.theme.directory import directory_words, fold
from avf.theme.france_map import france_map, in_metropole
from tests.conftest import SAMPLE_CONTENT, TEST_SITE_URL, build, write_city

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("portal") / "output"
    result = build(SAMPLE_CONTENT, output)
    assert result.ok, [(r.slug, r.errors) for r in result.failed]
    return output


def cards() -> list[dict[str, object]]:
    return [load_city(SAMPLE_CONTENT, slug).city.public_card()  # type: ignore[union-attr]
            for slug in discover_cities(SAMPLE_CONTENT)]


class DirectoryReader(HTMLParser):
    """Each city link of the directory with the region (h3) and department (h4) above it."""

    def __init__(self) -> None:
        super().__init__()
        self.heading: str | None = None
        self.region = self.department = ""
        self.in_city = False
        self.cities: list[tuple[str, str, str, str]] = []  # region, department, href, words
        self._words = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("h3", "h4"):
            self.heading, text = tag, ""
            if tag == "h3":
                self.region = text
            else:
                self.department = text
        elif tag == "li" and "data-annuaire-ville" in values:
            self.in_city, self._words = True, values["data-annuaire-ville"] or ""
        elif tag == "a" and self.in_city:
            self.cities.append((self.region, self.department, values["href"] or "",
                                self._words))
            self.in_city = False

    def handle_endtag(self, tag: str) -> None:
        if tag == self.heading:
            self.heading = None

    def handle_data(self, data: str) -> None:
        if self.heading == "h3":
            self.region += data
        elif self.heading == "h4":
            self.department += data


def test_the_portal_lists_every_city_by_region_then_department(sample: Path) -> None:
    reader = DirectoryReader()
    reader.feed((sample / "public" / "index.html").read_text())
    listed = {href: (region, department, words)
              for region, department, href, words in reader.cities}
    everyone = cards()
    assert len(listed) == len(everyone) == len(reader.cities)
    for card in everyone:
        region, department, words = listed[f"{TEST_SITE_URL}/{card['slug']}/"]
        assert region == card["region"]
        assert department == f"{card['department']} ({card['department_code']})"
        for postal_code in card["postal_codes"]:  # type: ignore[attr-defined]
            assert postal_code in words.split()
    regions = [region for region, *_ in reader.cities]
    assert regions == sorted(regions)  # grouped: each region once, in order


def test_directory_words_are_folded_like_the_query() -> None:
    card = {"name": "AVF Orléans", "city": "Orléans", "postal_codes": ["45000"],
            "department": "Loiret", "department_code": "45", "region": "Centre-Val de Loire"}
    assert directory_words(card).split() == [
        "orleans", "avf", "loiret", "45", "centre", "val", "de", "loire", "45000"]
    assert fold("Saint-Étienne") == "saint etienne"
    assert fold("L'Haÿ-les-Roses") == "l hay les roses"
    assert fold("Œuilly") == "oeuilly"


def test_the_filter_script_is_published_and_referenced(sample: Path) -> None:
    portal = (sample / "public" / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>", portal)
    assert scripts and all("src=" in tag for tag in scripts)  # no inline script
    source = re.search(r'src="([^"]*/js/annuaire\.js)"', portal)
    assert source
    published = sample / "public" / source.group(1).removeprefix(TEST_SITE_URL + "/")
    assert "data-annuaire-ville" in published.read_text()
    # Without the script, the filter stays hidden and the whole list shows.
    assert re.search(r"<div [^>]*data-annuaire-filtre[^>]* hidden>", portal)
    assert 'aria-live="polite"' in portal


def test_the_map_has_a_linked_dot_per_city_inside_its_frame(sample: Path) -> None:
    portal = (sample / "public" / "index.html").read_text()
    svg = re.search(r"<svg .*?</svg>", portal, re.S).group(0)  # type: ignore[union-attr]
    root = ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))
    ns = "{http://www.w3.org/2000/svg}"
    # A named group, not an image: an image may hold no links (axe: nested-interactive).
    assert root.get("role") == "group" and root.find(f"{ns}title") is not None
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    dots = {}
    for link in root.iter(f"{ns}a"):
        circle = link.find(f"{ns}circle")
        assert circle is not None
        assert (link.get("tabindex"), link.get("aria-hidden")) == ("-1", "true")
        x, y = float(circle.get("cx", -1)), float(circle.get("cy", -1))
        assert 0 <= x <= width and 0 <= y <= height
        dots[link.get("href")] = circle.findtext(f"{ns}title")
    assert dots == {f"{TEST_SITE_URL}/{card['slug']}/": card["name"] for card in cards()}


def test_overseas_cities_are_listed_beside_the_map(network: Path, tmp_path: Path) -> None:
    write_city(network, "saint-denis", card="""\
        name: "AVF Saint-Denis de La Réunion"
        city: "Saint-Denis"
        slug: "saint-denis"
        postal_code: "97400"
        department: "La Réunion"
        department_code: "974"
        region: "La Réunion"
        email: "accueil@avf-saint-denis.example.org"
        lat: -20.88
        lon: 55.45
        """.replace("        ", ""))
    write_city(network, "lyon")
    assert build(network, tmp_path / "out").ok
    portal = (tmp_path / "out" / "public" / "index.html").read_text()
    svg = re.search(r"<svg .*?</svg>", portal, re.S).group(0)  # type: ignore[union-attr]
    assert f"{TEST_SITE_URL}/lyon/" in svg and "saint-denis" not in svg
    note = portal[portal.index("</svg>"):]
    assert f'<a href="{TEST_SITE_URL}/saint-denis/">AVF Saint-Denis de La Réunion</a>' in note
    assert not in_metropole({"lat": -20.88, "lon": 55.45})
    assert "<circle" not in france_map([{"name": "Sans position", "url": "/x/"}])


def test_the_portal_requests_nothing_from_another_host(sample: Path) -> None:
    public = sample / "public"
    pages = [public / "index.html", public / "recherche" / "index.html",
             *(public / "reseau").rglob("*.html"), *(public / "actualites").rglob("*.html")]
    for page in pages:
        html = page.read_text()
        for url in re.findall(r"""https?://[^\s"'<>)]+""", html):
            assert url.startswith(TEST_SITE_URL + "/") or url == TEST_SITE_URL, (page, url)
    for script in (public / "theme").rglob("*.js"):
        assert not re.search(r"https?://", script.read_text()), script


def test_the_network_feed_lists_the_network_news(sample: Path) -> None:
    feed = ET.parse(sample / "public" / "atom.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.findtext(f"{ATOM}{required}")
    entries = feed.findall(f"{ATOM}entry")
    news = [doc for doc in load_network(SAMPLE_CONTENT).published("post")
            if not doc.is_members_only]
    assert news and {entry.findtext(f"{ATOM}title") for entry in entries} == {
        doc.title for doc in news}
    for entry in entries:
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("href", "").startswith(
            f"{TEST_SITE_URL}/actualites/")
    portal = (sample / "public" / "index.html").read_text()
    assert f'href="{TEST_SITE_URL}/atom.xml"' in portal
