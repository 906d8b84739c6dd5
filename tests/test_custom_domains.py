"""A city with `domain:` in its city.yaml: its site is addressed at the root of that domain
(pages, feeds, agendas, canonical and Open Graph URLs, sitemap, robots.txt), the portal
points there, and its sub-path keeps answering with the same files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from avf.build import BuildOptions, build_network
from avf.deploy import DeployError, nginx_config
from tests.conftest import CITY_YAML, FIXED_NOW, TEST_SITE_URL, build, post, write_city

LYON_CARD = CITY_YAML.format(slug="lyon", title="Lyon")
EVENT = """
    event:
      start: 2026-12-05 14:00
      end: 2026-12-05 17:00
"""


def lyon_on(content: Path, domain: str | None) -> None:
    write_city(content, "lyon", {
        "posts/2026-11-01-sortie.md": post("Sortie", date="2026-11-01", extra=EVENT),
        "posts/2026-10-01-rentree.md": post("Rentrée", extra="tags: [accueil]"),
    }, card=LYON_CARD + (f'domain: "{domain}"\n' if domain else ""))


def addresses(text: str) -> set[str]:
    """Every absolute http(s) address in a file."""
    return set(re.findall(r"https?://[^\s\"'<>]+", text))


def test_a_city_with_a_domain_is_addressed_at_its_root(network: Path, tmp_path: Path) -> None:
    lyon_on(network, "avf-lyon.fr")
    write_city(network, "rennes", {"posts/2026-10-01-a.md": post("Crêpes")})
    output = tmp_path / "output"
    assert build(network, output).ok
    public = output / "public"
    lyon = public / "lyon"

    home = (lyon / "index.html").read_text()
    assert '<link rel="canonical" href="https://avf-lyon.fr/">' in home
    assert '<meta property="og:url" content="https://avf-lyon.fr/">' in home
    assert 'href="https://avf-lyon.fr/agenda/"' in home
    assert re.search(r'href="https://avf-lyon.fr/theme/[0-9a-f]+/css/avf.css"', home)
    post_page = (lyon / "actualites" / "rentree.html").read_text()
    assert 'rel="canonical" href="https://avf-lyon.fr/actualites/rentree.html"' in post_page
    # The service stays on the network's host: members' area, contact form, network.
    assert f'href="{TEST_SITE_URL}/membres/lyon/"' in home
    contact = (lyon / "contact" / "index.html").read_text()
    assert f'action="{TEST_SITE_URL}/contact/lyon"' in contact
    assert f'href="{TEST_SITE_URL}/"' in home  # « Membre du réseau »

    # Nothing the city publishes names its sub-path on the network's host.
    for name in ("atom.xml", "agenda.ics", "actualites/sortie.ics", "sitemap.xml",
                 "index.html", "agenda/index.html", "etiquettes/accueil.html"):
        found = addresses((lyon / name).read_text())
        assert found and not [url for url in found if url.startswith(f"{TEST_SITE_URL}/lyon")]
    feed = (lyon / "atom.xml").read_text()
    assert "https://avf-lyon.fr/actualites/rentree.html" in feed
    assert "URL:https://avf-lyon.fr/actualites/sortie.html" in (lyon / "agenda.ics").read_text()
    sitemap = re.findall(r"<loc>([^<]+)</loc>", (lyon / "sitemap.xml").read_text())
    assert sitemap[0] == "https://avf-lyon.fr/"
    assert all(url.startswith("https://avf-lyon.fr/") for url in sitemap)
    assert (lyon / "robots.txt").read_text() == (
        "User-agent: *\nAllow: /\n\nSitemap: https://avf-lyon.fr/sitemap.xml\n")
    assert not (public / "rennes" / "robots.txt").exists()  # served by the portal's

    # The service's members' home links public posts by their path on its own host.
    home_data = json.loads((output / "members" / "lyon" / "home.json").read_text())
    assert [event["url"] for event in home_data["events"]] == ["/lyon/actualites/sortie.html"]

    # The portal: directory, map and sitemap index point to the domain; its search merges
    # the city's index from the network's host (same origin).
    portal = (public / "index.html").read_text()
    assert '<a href="https://avf-lyon.fr/">AVF Lyon</a>' in portal
    assert f'<a href="{TEST_SITE_URL}/rennes/">AVF Rennes</a>' in portal
    assert 'href="https://avf-lyon.fr/"' in portal.split('id="carte"')[1]  # the map's dot
    index = re.findall(r"<loc>([^<]+)</loc>", (public / "sitemap.xml").read_text())
    assert "https://avf-lyon.fr/sitemap.xml" in index
    assert f"{TEST_SITE_URL}/rennes/sitemap.xml" in index
    search = (public / "recherche" / "index.html").read_text()
    assert f"&#34;{TEST_SITE_URL}/lyon/&#34;" in search and "avf-lyon.fr" not in search


def test_a_domain_change_rebuilds_the_city_and_the_portal(network: Path,
                                                          tmp_path: Path) -> None:
    lyon_on(network, None)
    write_city(network, "rennes")
    output = tmp_path / "output"
    assert build(network, output).ok
    home = output / "public" / "lyon" / "index.html"
    portal = output / "public" / "index.html"
    assert f'href="{TEST_SITE_URL}/lyon/"' in portal.read_text()

    lyon_on(network, "avf-lyon.fr")
    changed = build(network, output)
    assert [result.slug for result in changed.results] == ["lyon"]
    assert changed.portal is not None and changed.portal.status == "ok"
    assert 'rel="canonical" href="https://avf-lyon.fr/"' in home.read_text()
    assert 'href="https://avf-lyon.fr/"' in portal.read_text()

    again = build(network, output)
    assert again.results == [] and again.portal is None  # nothing changed: nothing built

    lyon_on(network, None)  # back to the sub-path
    back = build(network, output)
    assert [result.slug for result in back.results] == ["lyon"] and back.portal is not None
    assert f'rel="canonical" href="{TEST_SITE_URL}/lyon/"' in home.read_text()
    assert "avf-lyon.fr" not in portal.read_text()
    assert not (output / "public" / "lyon" / "robots.txt").exists()


def test_a_network_built_for_this_machine_keeps_every_city_at_its_sub_path(
        network: Path, tmp_path: Path) -> None:
    """`avf serve`, `avf watch`, a local preview: no custom domain leads to this machine."""
    lyon_on(network, "avf-lyon.fr")
    output = tmp_path / "output"
    local = "http://127.0.0.1:8000"
    assert build_network(BuildOptions(content_dir=network, output_dir=output, jobs=1,
                                      site_url=local, now=FIXED_NOW)).ok
    home = (output / "public" / "lyon" / "index.html").read_text()
    assert f'<link rel="canonical" href="{local}/lyon/">' in home
    assert f'href="{local}/theme/' in home and "avf-lyon.fr" not in home
    assert f'<a href="{local}/lyon/">AVF Lyon</a>' in (output / "public" / "index.html"
                                                        ).read_text()
    assert not (output / "public" / "lyon" / "robots.txt").exists()


def test_the_nginx_configuration_has_one_server_per_domain_and_no_domain_twice(
        network: Path, tmp_path: Path) -> None:
    lyon_on(network, "avf-lyon.fr")
    write_city(network, "rennes")
    output = tmp_path / "output"
    assert build(network, output).ok
    config = nginx_config(output, "127.0.0.1:8000", ["avf.example.org"])
    assert config.count("server_name avf-lyon.fr;") == 1
    assert f"root {(output / 'public').resolve()}/lyon;" in config
    assert config.count("server {") == 2  # the network's and Lyon's: Rennes has no domain
    with pytest.raises(DeployError, match=r"avf-lyon\.fr"):
        nginx_config(output, "127.0.0.1:8000", ["avf-lyon.fr"])

    write_city(network, "rennes", card=CITY_YAML.format(slug="rennes", title="Rennes")
               + 'domain: "avf-lyon.fr"\n')  # a copy-paste mistake
    assert build(network, output).ok
    with pytest.raises(DeployError, match="déjà servi"):
        nginx_config(output, "127.0.0.1:8000", ["avf.example.org"])
