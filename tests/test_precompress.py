"""Precompressed siblings: every text file the build publishes has a `.gz` beside it (and a
`.br` when it is big), in the same release, made once per distinct content, and served as
they are."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import brotli
import pytest
from starlette.testclient import TestClient

from avf.build.precompress import BROTLI_MIN_SIZE, COMPRESSIBLE, MIN_SIZE
from avf.service import create_app
from tests.conftest import build, post, service_settings, write, write_city
from tests.test_build import every_file

SUFFIXES = {".gz": gzip.decompress, ".br": brotli.decompress}
PHOTO = bytes(range(256)) * 16  # 4 KiB that is not text


def small_network(content: Path) -> None:
    write(content / "_network" / "pages" / "a-propos.md", '---\ntitle: "Réseau"\n---\n\nAVF.\n')
    for slug in ("lyon", "rennes"):
        write_city(content, slug, {
            "posts/2026-10-01-rentree.md": post(f"Rentrée à {slug}", extra="tags: [rentrée]",
                                                body="Bienvenue ! " * 200),
            # A long post: its page is big enough for a .br too.
            "posts/2026-09-01-programme.md": post(
                "Programme", date="2026-09-01",
                body="\n\n".join(f"Séance {n} : marche, café et visite du quartier {n}."
                                   for n in range(400))),
            "posts/2026-11-01-cafe.md": post("Café", date="2026-11-01"),
            "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\n20 €.\n',
        })
    (content / "lyon" / "media").mkdir()
    (content / "lyon" / "media" / "photo.png").write_bytes(PHOTO)


def is_text(path: Path) -> bool:
    return path.suffix.lstrip(".") in COMPRESSIBLE


def identity(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_ino, status.st_mtime_ns


@pytest.fixture
def output(network: Path) -> Path:
    small_network(network)
    out = network.parent / "output"
    assert build(network, out).ok
    return out


def test_every_text_file_has_siblings_that_decompress_to_it(output: Path) -> None:
    public = list(every_file(output / "public"))
    texts = [path for path in public if is_text(path) and path.stat().st_size >= MIN_SIZE]
    kinds = {path.suffix for path in texts}
    assert {".html", ".css", ".xml"} <= kinds  # pages, the theme's stylesheet, feeds
    assert any("/theme/" in path.as_posix() for path in texts)
    assert any(path.name == "index.html" and path.parent == output / "public" for path in texts)
    assert any(path.stat().st_size >= BROTLI_MIN_SIZE for path in texts)  # the long post
    for path in texts:
        original = path.read_bytes()
        for suffix, decompress in SUFFIXES.items():
            sibling = path.with_name(path.name + suffix)
            if suffix == ".br" and len(original) < BROTLI_MIN_SIZE:
                # Small files: gzip only (a .br would cost a disk block for ~200 bytes).
                assert not sibling.exists(), sibling
                continue
            assert sibling.is_file(), sibling
            assert decompress(sibling.read_bytes()) == original, sibling
            assert sibling.stat().st_size < len(original)


def test_images_small_files_and_member_pages_get_none(output: Path) -> None:
    photo = output / "public" / "lyon" / "media" / "photo.png"
    assert photo.read_bytes() == PHOTO
    assert not photo.with_name("photo.png.gz").exists()
    assert not photo.with_name("photo.png.br").exists()
    small = [path for path in every_file(output / "public")
             if is_text(path) and path.stat().st_size < MIN_SIZE]
    for path in small:
        assert not path.with_name(path.name + ".gz").exists(), path
    # Member pages are served by the service, which sends them as they are: no siblings.
    assert not [path for path in every_file(output / "members") if path.suffix in SUFFIXES]


def test_siblings_are_in_the_same_release_as_their_file(output: Path) -> None:
    page = output / "public" / "lyon" / "actualites" / "programme.html"
    release = Path(os.path.realpath(page)).parent
    assert (release / "programme.html.br").is_file()
    assert (release / "programme.html.gz").is_file()
    # Objects named after the page's hash: one compression per distinct content.
    page_inode = os.stat(page).st_ino
    objects = {os.stat(path).st_ino: path.name for path in (output / ".objects").rglob("*")}
    for suffix in SUFFIXES:
        sibling_object = objects[os.stat(release / f"programme.html{suffix}").st_ino]
        assert sibling_object == objects[page_inode] + suffix


def test_incremental_build_keeps_unchanged_siblings_and_renews_changed_ones(
        network: Path, output: Path) -> None:
    def siblings(city: str) -> dict[str, tuple[int, int]]:
        return {path.relative_to(output / "public").as_posix(): identity(path)
                for path in every_file(output / "public" / city) if path.suffix in SUFFIXES}

    rennes, lyon = siblings("rennes"), siblings("lyon")
    assert rennes and lyon
    page = output / "public" / "lyon" / "actualites" / "cafe.html"
    old_page = page.read_bytes()
    write(network / "lyon" / "posts" / "2026-11-01-cafe.md",
          post("Café du jeudi", date="2026-11-01"))
    assert [r.slug for r in build(network, output).results] == ["lyon"]

    assert siblings("rennes") == rennes  # not rebuilt: same files, same mtimes
    new_page = page.read_bytes()
    assert new_page != old_page and "Café du jeudi" in new_page.decode()
    sibling = page.with_name(page.name + ".gz")
    assert gzip.decompress(sibling.read_bytes()) == new_page
    assert identity(sibling) != lyon["lyon/actualites/cafe.html.gz"]
    # A page of the rebuilt city whose bytes did not change keeps its siblings' objects.
    for standing in ("lyon/adherer/index.html.gz", "lyon/actualites/programme.html.br"):
        assert identity(output / "public" / standing) == lyon[standing]

    cold = network.parent / "cold"
    assert build(network, cold).ok
    def published(out: Path) -> dict[str, bytes]:
        return {path.relative_to(out).as_posix(): path.read_bytes()
                for path in every_file(out / "public")}
    assert published(output) == published(cold)  # incremental equals cold, siblings too


def test_pruned_releases_leave_no_compressed_orphan(network: Path, output: Path) -> None:
    for version in range(3):
        write(network / "lyon" / "pages" / "adherer.md",
              '---\ntitle: "Adhérer"\n---\n\n' + f"Tarif {version}. " * 200 + "\n")
        assert build(network, output).ok
    compressed = [path for path in (output / ".objects").rglob("*") if path.suffix in SUFFIXES]
    assert compressed and all(os.stat(path).st_nlink > 1 for path in compressed)


def test_a_volunteers_own_compressed_file_is_kept(network: Path) -> None:
    small_network(network)
    data = '{"horaires": "mardi 9 h 30"}' * 1000  # big enough for a .br
    write(network / "lyon" / "media" / "horaires.json", data)
    (network / "lyon" / "media" / "horaires.json.gz").write_bytes(b"not ours")
    out = network.parent / "output"
    assert build(network, out).ok
    media = out / "public" / "lyon" / "media"
    assert (media / "horaires.json.gz").read_bytes() == b"not ours"
    assert brotli.decompress((media / "horaires.json.br").read_bytes()).decode() == data


def test_the_service_sends_the_siblings(tmp_path: Path, network: Path, output: Path) -> None:
    settings = service_settings(output.parent, network, run_workers=False,
                                data_dir=tmp_path / "var")
    page = (output / "public" / "lyon" / "index.html").read_bytes()
    with TestClient(create_app(settings)) as client:
        for accept in ("br, gzip", "gzip"):  # a small page: gzip only
            response = client.get("/lyon/", headers={"Accept-Encoding": accept})
            assert response.headers["content-encoding"] == "gzip"
            assert response.headers["vary"] == "Accept-Encoding"
            assert response.content == page  # decoded by the client
        plain = client.get("/lyon/", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == page
        # A big page has both; gzip is sent to a browser that asks for it.
        for accept, encoding in (("br, gzip", "br"), ("gzip", "gzip")):
            response = client.get("/lyon/actualites/programme.html",
                                  headers={"Accept-Encoding": accept})
            assert response.headers["content-encoding"] == encoding
        home = client.get("/lyon/").text
        start = home.index("/theme/")
        stylesheet = home[start:home.index('"', start)]
        assert client.get(stylesheet, headers={"Accept-Encoding": "br, gzip"}
                          ).headers["content-encoding"] == "gzip"
