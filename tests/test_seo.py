"""What search engines and link previews read: canonical addresses, Open Graph tags, a
sitemap per city, the network's sitemap index and robots.txt."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from avf.service import create_app
from tests.conftest import TEST_SITE_URL, build, post, service_settings, write, write_city
from tests.test_build import every_file

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
SECRET = "Code du local : 4521"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    content = tmp_path_factory.mktemp("seo") / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nTrois cents associations.\n')
    write(content / "_network" / "posts" / "2026-11-01-journee.md",
          post("Journée nationale", date="2026-11-01"))
    media = write_city(content, "lyon", {
        "posts/2026-10-01-cafe-accueil.md": post(
            "Café d'accueil", extra='tags: [café]\nimage: ../media/cafe.jpg\n'
                                   'summary: "Un café \\"pour\\" se connaître."'),
        "posts/2026-10-05-sortie.md": post("Sortie", date="2026-10-05",
                                           extra="modified: 2026-11-12"),
        "posts/2026-11-02-conseil.md": post("Compte rendu du conseil", date="2026-11-02",
                                            extra="visibility: members\ntags: [secret-tag]",
                                            body=SECRET),
        "pages/adherer.md": '---\ntitle: "Adhérer"\nmodified: 2026-09-02\n---\n\n20 €.\n',
        "pages/trombi.md": '---\ntitle: "Trombinoscope"\nvisibility: members\n---\n\nSecret.\n',
    }) / "media"
    media.mkdir()
    (media / "cafe.jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    write_city(content, "dinan", {"posts/2026-09-01-rentree.md": post("Rentrée à Dinan")})
    output = content.parent / "output"
    assert build(content, output).ok
    return content, output


def head_tags(html: str) -> dict[str, str]:
    """The canonical link and the og: properties of a page's head."""
    head = html[:html.index("</head>")]
    tags = dict(re.findall(r'<meta property="(og:[a-z_]+)" content="([^"]*)"', head))
    canonical = re.findall(r'<link rel="canonical" href="([^"]*)"', head)
    if canonical:
        tags["canonical"] = canonical[0]
    return tags


def sitemap_locs(path: Path) -> dict[str, str | None]:
    root = ET.fromstring(path.read_bytes())
    assert root.tag == f"{{{NS['sm']}}}urlset"
    return {url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
            for url in root.findall("sm:url", NS)}


def test_a_post_has_its_canonical_address_and_open_graph(built: tuple[Path, Path]) -> None:
    _content, output = built
    html = (output / "public/lyon/actualites/cafe-accueil.html").read_text()
    url = f"{TEST_SITE_URL}/lyon/actualites/cafe-accueil.html"
    assert head_tags(html) == {
        "canonical": url, "og:url": url, "og:type": "article", "og:site_name": "AVF Lyon",
        "og:locale": "fr_FR", "og:title": "Café d&#39;accueil",
        "og:description": "Un café &#34;pour&#34; se connaître.",
        "og:image": f"{TEST_SITE_URL}/lyon/media/cafe.jpg",
    }
    # Without an image, no og:image.
    assert "og:image" not in head_tags(
        (output / "public/lyon/actualites/sortie.html").read_text())


@pytest.mark.parametrize(("page", "address", "kind"), [
    ("lyon/index.html", "/lyon/", "website"),
    ("lyon/adherer/index.html", "/lyon/adherer/", "website"),
    ("lyon/agenda/index.html", "/lyon/agenda/", "website"),
    ("lyon/etiquettes/cafe.html", "/lyon/etiquettes/cafe.html", "website"),
    ("index.html", "/", "website"),
    ("reseau/a-propos/index.html", "/reseau/a-propos/", "website"),
    ("actualites/journee.html", "/actualites/journee.html", "article"),
])
def test_every_public_page_names_its_absolute_address(built: tuple[Path, Path], page: str,
                                                      address: str, kind: str) -> None:
    tags = head_tags((built[1] / "public" / page).read_text())
    assert tags["canonical"] == tags["og:url"] == TEST_SITE_URL + address
    assert tags["og:type"] == kind and tags["og:locale"] == "fr_FR"
    assert tags["og:title"] and tags["og:description"] and tags["og:site_name"]


def test_member_pages_announce_no_address(built: tuple[Path, Path]) -> None:
    members = [path for path in every_file(built[1] / "members") if path.suffix == ".html"]
    assert members
    for path in members:
        assert head_tags(path.read_text()) == {}, path


def test_a_city_sitemap_lists_its_public_addresses_only(built: tuple[Path, Path]) -> None:
    _content, output = built
    locs = sitemap_locs(output / "public/lyon/sitemap.xml")
    city = f"{TEST_SITE_URL}/lyon/"
    assert all(loc.startswith(city) for loc in locs)
    assert {f"{city}", f"{city}agenda/", f"{city}archives.html", f"{city}etiquettes/",
            f"{city}etiquettes/cafe.html", f"{city}adherer/",
            f"{city}actualites/cafe-accueil.html", f"{city}actualites/sortie.html"} == set(locs)
    assert next(iter(locs)) == city  # the home first
    # lastmod: `modified` when given, else the date; a list page's is its newest post's.
    assert locs[f"{city}actualites/sortie.html"] == "2026-11-12T00:00:00+01:00"
    assert locs[f"{city}actualites/cafe-accueil.html"] == "2026-10-01T00:00:00+02:00"
    assert locs[f"{city}adherer/"] == "2026-09-02T00:00:00+02:00"
    assert locs[city] == "2026-11-12T00:00:00+01:00"
    # Member-only documents are published (under /membres/) but never announced.
    assert (output / "members/lyon/actualites/conseil.html").is_file()
    text = (output / "public/lyon/sitemap.xml").read_text()
    for leak in ("membres", "conseil", "trombi", "secret-tag"):
        assert leak not in text


def test_the_network_index_lists_every_online_city(built: tuple[Path, Path]) -> None:
    _content, output = built
    root = ET.fromstring((output / "public/sitemap.xml").read_bytes())
    assert root.tag == f"{{{NS['sm']}}}sitemapindex"
    listed = [loc.text for loc in root.findall("sm:sitemap/sm:loc", NS)]
    assert listed == [f"{TEST_SITE_URL}/sitemap-reseau.xml",
                      f"{TEST_SITE_URL}/dinan/sitemap.xml", f"{TEST_SITE_URL}/lyon/sitemap.xml"]
    for url in listed:  # each one exists
        assert (output / "public" / url.removeprefix(f"{TEST_SITE_URL}/")).is_file()
    portal = sitemap_locs(output / "public/sitemap-reseau.xml")
    assert f"{TEST_SITE_URL}/" in portal and f"{TEST_SITE_URL}/reseau/a-propos/" in portal
    assert f"{TEST_SITE_URL}/actualites/journee.html" in portal


def test_a_new_city_joins_the_index(built: tuple[Path, Path]) -> None:
    content, output = built
    write_city(content, "gap")
    try:
        assert build(content, output).ok
        text = (output / "public/sitemap.xml").read_text()
        assert f"{TEST_SITE_URL}/gap/sitemap.xml" in text
        assert sitemap_locs(output / "public/gap/sitemap.xml") == {
            f"{TEST_SITE_URL}/gap/": None, f"{TEST_SITE_URL}/gap/agenda/": None}
    finally:
        shutil.rmtree(content / "gap")
        assert build(content, output).ok
    assert "gap" not in (output / "public/sitemap.xml").read_text()


def test_robots_txt(built: tuple[Path, Path]) -> None:
    text = (built[1] / "public/robots.txt").read_text()
    lines = text.splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/membres/", "/compte/", "/admin/", "/editeur/", "/hooks/",
                 "/contact/*/merci"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /contact/" not in lines  # a city's contact form may be found
    assert "Disallow: /" not in lines and "Allow: /" in lines
    assert f"Sitemap: {TEST_SITE_URL}/sitemap.xml" in lines


def test_the_service_serves_them(built: tuple[Path, Path], tmp_path: Path) -> None:
    content, output = built
    settings = service_settings(output.parent, content, run_workers=False,
                                data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as client:
        robots = client.get("/robots.txt")
        assert robots.status_code == 200
        assert robots.headers["content-type"] == "text/plain; charset=utf-8"
        index = client.get("/sitemap.xml")
        assert index.headers["content-type"] == "application/xml; charset=utf-8"
        assert b"<sitemapindex" in index.content
        assert client.get("/lyon/sitemap.xml").status_code == 200
        # The service's own pages (built on base.html) claim no canonical address.
        contact = client.get("/contact/lyon")
        assert contact.status_code == 200 and 'rel="canonical"' not in contact.text
