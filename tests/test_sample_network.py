"""The sample network in content/ builds completely, with no leak and no broken link."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from starlette.testclient import TestClient

from avf.content import discover_cities, load_city, load_network
from avf.service import create_app
from tests.conftest import SAMPLE_CONTENT, TEST_SITE_URL, build, service_settings
from tests.test_build import every_file

_PLAIN = re.compile(r"[^\W_][\w ,]{20,}")
_LINK = re.compile(r"""(?:href|src)="([^"]+)\"""")


SERVICE_PATHS = ("/membres/", "/contact/", "/compte/")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("sample") / "output"
    result = build(SAMPLE_CONTENT, output)
    assert result.ok, [(r.slug, r.errors) for r in result.failed]
    return output


def sentinels(kind: str) -> list[str]:
    """A distinctive line of each member-only (or unpublished) document of the sample."""
    found = []
    for content in [load_network(SAMPLE_CONTENT),
                    *(load_city(SAMPLE_CONTENT, s) for s in discover_cities(SAMPLE_CONTENT))]:
        for doc in content.documents:
            wanted = doc.is_members_only if kind == "members" else not doc.is_published
            if wanted and doc.is_published == (kind == "members"):
                # The longest run of plain words: no Markdown, no quote that smarty rewrites.
                found.append(max(_PLAIN.findall(doc.body), key=len).strip())
    return found


def test_the_sample_has_what_the_issue_asks_for() -> None:
    cities = discover_cities(SAMPLE_CONTENT)
    assert len(cities) >= 6
    assert len(sentinels("members")) >= 3
    assert len(sentinels("unpublished")) >= 1
    assert not load_city(SAMPLE_CONTENT, "gap").published("post")  # the brand-new AVF


def test_every_city_and_the_portal_are_online(sample: Path) -> None:
    portal = (sample / "public" / "index.html").read_text()
    for slug in discover_cities(SAMPLE_CONTENT):
        assert (sample / "public" / slug / "index.html").is_file()
        assert (sample / "public" / slug / "atom.xml").is_file()
        assert f'href="{TEST_SITE_URL}/{slug}/"' in portal


def test_member_only_text_never_reaches_public(sample: Path) -> None:
    texts = {path: path.read_text(errors="replace") for path in every_file(sample / "public")}
    for sentence in sentinels("members"):
        assert any(sentence in path.read_text() for path in every_file(sample / "members")), (
            sentence)
        leaks = [path for path, text in texts.items() if sentence in text]
        assert not leaks, (sentence, leaks)


def test_unpublished_text_appears_nowhere(sample: Path) -> None:
    files = every_file(sample / "public") + every_file(sample / "members")
    for sentence in sentinels("unpublished"):
        assert not [p for p in files if sentence in p.read_text(errors="replace")], sentence


def test_every_internal_link_resolves(sample: Path, tmp_path: Path) -> None:
    """Links to built files must find them; links to the service's pages (contact form,
    joining, the members' area) must find a page of the service."""
    public = sample / "public"
    broken = set()
    service_links: dict[str, str] = {}
    for page in every_file(public):
        if page.suffix != ".html":
            continue
        for link in _LINK.findall(page.read_text()):
            if not link.startswith(("#", "tel:", "mailto:")):  # relative: from the page
                link = urljoin(f"{TEST_SITE_URL}/{page.relative_to(public).as_posix()}", link)
            url = urlparse(link)
            if link.startswith(("#", "tel:", "mailto:")) or (
                    url.netloc and f"{url.scheme}://{url.netloc}" != TEST_SITE_URL):
                continue
            path = unquote(url.path)
            if path.startswith(SERVICE_PATHS):
                service_links.setdefault(path, page.relative_to(public).as_posix())
                continue
            target = public / path.lstrip("/")
            if not (target.is_file() or (target / "index.html").is_file()):
                broken.add((page.relative_to(public).as_posix(), link))
    settings = replace(service_settings(tmp_path, SAMPLE_CONTENT, run_workers=False),
                       output_dir=sample)
    with TestClient(create_app(settings), base_url=TEST_SITE_URL,
                    follow_redirects=False) as service:
        for path, page in service_links.items():
            # 200: an open page; 303: a members' page asking to sign in first.
            if service.get(path).status_code not in (200, 303):
                broken.add((page, path))
    # The contact card leads to the site's own contact page (whose form posts to the
    # service's /contact/<city>: tests/test_city_pages.py), joining to the service.
    assert "/membres/lyon/adhesion" in service_links
    assert not broken, sorted(broken)[:20]
