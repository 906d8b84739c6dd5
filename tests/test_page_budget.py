"""The first view of a city's home and of an article fits in one round trip: its HTML and
the stylesheets it links, each gzipped as nginx and the service send them (on the fly, at
static_headers.GZIP_LEVEL: they are under 16 KiB, so they have no precompressed sibling),
total at most 14 KB — what TCP's initial congestion window (10 segments) carries. Images
and deferred scripts load after the first paint and are not counted."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from avf.build.precompress import MIN_SIZE
from avf.service.static_headers import GZIP_LEVEL
from tests.conftest import SAMPLE_CONTENT, TEST_SITE_URL, build

BUDGET = 14 * 1024  # bytes, compressed
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("budget") / "output"
    result = build(SAMPLE_CONTENT, output, cities=("lyon",))
    assert result.ok, [(r.slug, r.errors) for r in result.failed]
    return output / "public"


def first_view(public: Path, page: str) -> dict[str, int]:
    """Compressed size of each file of a page's first view: the page, then its stylesheets."""
    html = (public / page).read_text(encoding="utf-8")
    files = [public / page]
    for href in STYLESHEET.findall(html):
        assert href.startswith(TEST_SITE_URL + "/"), href  # our own CSS only
        files.append(public / href.removeprefix(TEST_SITE_URL + "/"))
    assert len(files) > 1, f"{page} links no stylesheet"
    assert all(path.stat().st_size < MIN_SIZE for path in files)  # else: their siblings
    return {path.relative_to(public).as_posix():
            len(gzip.compress(path.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0))
            for path in files}


@pytest.mark.parametrize("page", ["lyon/index.html", "lyon/actualites/cafe-accueil.html"])
def test_the_first_view_fits_in_one_round_trip(public: Path, page: str) -> None:
    sizes = first_view(public, page)
    total = sum(sizes.values())
    assert total <= BUDGET, f"{total} bytes gzipped > {BUDGET}: {sizes}"
