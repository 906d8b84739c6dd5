"""The benchmark corpus must be valid avf content and stable, or the benchmarks measure noise."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from avf.content import discover_cities, load_city, load_network
from benchmarks.corpus import city_specs, png_image, write_corpus

CITIES, POSTS, MEMBER_POSTS, PAGES = 3, 6, 2, 4


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a tree by relative path, to compare two corpora byte for byte."""
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small yaml corpus, written once for the module."""
    root = tmp_path_factory.mktemp("corpus") / "content"
    write_corpus(root, cities=CITIES, posts=POSTS, member_posts=MEMBER_POSTS, pages=PAGES)
    return root


def test_every_city_loads_without_problem(corpus: Path) -> None:
    slugs = discover_cities(corpus)
    assert len(slugs) == CITIES
    for slug in slugs:
        content = load_city(corpus, slug)
        assert content.problems == [], (slug, content.problems)
        assert content.city is not None
        assert content.city.email == f"accueil@avf-{slug}.example.org"
    assert load_network(corpus).problems == []


def test_counts_of_posts_member_posts_and_pages(corpus: Path) -> None:
    for slug in discover_cities(corpus):
        content = load_city(corpus, slug)
        posts = content.published("post")
        assert len(posts) == POSTS + MEMBER_POSTS
        assert sum(doc.is_members_only for doc in posts) == MEMBER_POSTS
        pages = content.published("page")
        assert len(pages) == PAGES
        assert "adherer" in {page.slug for page in pages}
        assert len(list((corpus / slug / "media").glob("*.png"))) == 6
    network = load_network(corpus)
    assert len(network.published("page")) == 3
    news = network.published("post")
    assert len(news) == 3
    assert sum(doc.broadcast for doc in news) == 2


def test_same_bytes_twice(corpus: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_corpus(again, cities=CITIES, posts=POSTS, member_posts=MEMBER_POSTS, pages=PAGES)
    assert _snapshot(again) == _snapshot(corpus)


def test_pelican_flavor_uses_native_headers(tmp_path: Path) -> None:
    written = write_corpus(tmp_path, cities=2, posts=3, member_posts=1, pages=2,
                           flavor="pelican")
    documents = sorted(tmp_path.rglob("*.md"))
    assert written == len(documents) + 2 * 6  # no city.yaml, six images per city
    assert not list(tmp_path.rglob("city.yaml"))
    for path in documents:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("Title: ")
        assert "---" not in text
        assert "](../" not in text  # links use {filename} / {static}


def test_cities_beyond_the_communes_get_numbered() -> None:
    specs = city_specs(1000)
    slugs = [spec.slug for spec in specs]
    assert len(set(slugs)) == 1000
    assert specs[421].slug == f"{specs[0].slug}-2"
    assert specs[421].name == f"{specs[0].name} 2"


def test_images_are_valid_pngs_of_realistic_size() -> None:
    data = png_image(7)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert 20_000 <= len(data) <= 50_000
    width, height = struct.unpack(">II", data[16:24])
    (length,) = struct.unpack(">I", data[33:37])  # the IDAT chunk follows the 25-byte IHDR
    assert data[37:41] == b"IDAT"
    raw = zlib.decompress(data[41:41 + length])
    assert len(raw) == height * (1 + 3 * width)
