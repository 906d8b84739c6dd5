"""Precompressed siblings: every text file of 16 KiB or more the build publishes has a `.gz`
and a `.br` beside it, in the same release, made once per distinct content, and served as
they are; smaller text files (our pages) have none: they are gzipped on the fly."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import brotli
import pytest
from starlette.testclient import TestClient

from avf.build.precompress import COMPRESSIBLE, MIN_SIZE, precompress_folder
from avf.service import create_app
from tests.conftest import build, post, service_settings, write, write_city
from tests.test_build import every_file

SUFFIXES = {".gz": gzip.decompress, ".br": brotli.decompress}
PHOTO = bytes(range(256)) * 16  # 4 KiB that is not text


def long_post(title: str, date: str, words: str) -> str:
    """A post whose page is over 16 KiB: big enough for siblings."""
    return post(title, date=date, body="\n\n".join(
        f"Séance {n} : {words}, café et visite du quartier {n}." for n in range(400)))


def small_network(content: Path) -> None:
    write(content / "_network" / "pages" / "a-propos.md", '---\ntitle: "Réseau"\n---\n\nAVF.\n')
    for slug in ("lyon", "rennes"):
        write_city(content, slug, {
            "posts/2026-10-01-rentree.md": post(f"Rentrée à {slug}", extra="tags: [rentrée]",
                                                body="Bienvenue ! " * 200),
            "posts/2026-09-01-programme.md": long_post("Programme", "2026-09-01", "marche"),
            "posts/2026-08-01-histoire.md": long_post("Histoire", "2026-08-01", "musée"),
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


def siblings_of(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in SUFFIXES
            if path.with_name(path.name + suffix).exists()]


@pytest.fixture
def output(network: Path) -> Path:
    small_network(network)
    out = network.parent / "output"
    assert build(network, out).ok
    return out


def test_every_big_text_file_has_both_siblings_that_decompress_to_it(output: Path) -> None:
    public = list(every_file(output / "public"))
    big = [path for path in public if is_text(path) and path.stat().st_size >= MIN_SIZE]
    names = {path.relative_to(output / "public").as_posix() for path in big}
    # The long posts and Pagefind's scripts.
    assert {"lyon/actualites/programme.html", "rennes/actualites/histoire.html",
            "lyon/pagefind/pagefind-ui.js"} <= names
    for path in big:
        original = path.read_bytes()
        for suffix, decompress in SUFFIXES.items():
            sibling = path.with_name(path.name + suffix)
            assert sibling.is_file(), sibling
            assert decompress(sibling.read_bytes()) == original, sibling
            assert sibling.stat().st_size < len(original)


def test_small_text_files_images_and_member_pages_get_none(output: Path) -> None:
    public = list(every_file(output / "public"))
    small = [path for path in public if is_text(path) and path.stat().st_size < MIN_SIZE]
    names = {path.relative_to(output / "public").as_posix() for path in small}
    # Pages, feeds, the theme's stylesheet: compressed on the fly instead.
    assert {"lyon/index.html", "lyon/actualites/cafe.html", "lyon/atom.xml"} <= names
    assert any(path.suffix == ".css" and "/theme/" in path.as_posix() for path in small)
    assert [path for path in small if path.stat().st_size >= 1024]  # were given a .gz once
    for path in small:
        assert siblings_of(path) == [], path
    photo = output / "public" / "lyon" / "media" / "photo.png"
    assert photo.read_bytes() == PHOTO and siblings_of(photo) == []
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
    page = output / "public" / "lyon" / "actualites" / "programme.html"
    old_page = page.read_bytes()
    write(network / "lyon" / "posts" / "2026-09-01-programme.md",
          long_post("Programme", "2026-09-01", "randonnée"))
    write(network / "lyon" / "posts" / "2026-11-01-cafe.md",
          post("Café du jeudi", date="2026-11-01"))
    assert [r.slug for r in build(network, output).results] == ["lyon"]

    assert siblings("rennes") == rennes  # not rebuilt: same files, same mtimes
    new_page = page.read_bytes()
    assert new_page != old_page and "randonnée" in new_page.decode()
    for suffix, decompress in SUFFIXES.items():
        sibling = page.with_name(page.name + suffix)
        assert decompress(sibling.read_bytes()) == new_page
        assert identity(sibling) != lyon[f"lyon/actualites/programme.html{suffix}"]
    cafe = output / "public" / "lyon" / "actualites" / "cafe.html"
    assert "Café du jeudi" in cafe.read_text() and siblings_of(cafe) == []
    # A big file of the rebuilt city whose bytes did not change keeps its siblings' objects.
    for standing in ("lyon/actualites/histoire.html.gz", "lyon/actualites/histoire.html.br",
                     "lyon/pagefind/pagefind-ui.js.br"):
        assert identity(output / "public" / standing) == lyon[standing]

    cold = network.parent / "cold"
    assert build(network, cold).ok
    def published(out: Path) -> dict[str, bytes]:
        return {path.relative_to(out).as_posix(): path.read_bytes()
                for path in every_file(out / "public")}
    assert published(output) == published(cold)  # incremental equals cold, siblings too


def test_a_theme_version_from_the_former_rule_loses_its_small_siblings(
        network: Path, output: Path) -> None:
    """Published under the former rule (`.gz` from 1 KiB), a theme version still named by
    the pages is brought to this rule by the next build: it then equals a cold one's."""
    [stylesheet] = [path for path in every_file(output / "public" / "theme")
                    if path.suffix == ".css"]
    data = stylesheet.read_bytes()
    assert 1024 <= len(data) < MIN_SIZE
    stylesheet.with_name(stylesheet.name + ".gz").write_bytes(gzip.compress(data, mtime=0))
    write(network / "lyon" / "posts" / "2026-11-01-cafe.md",
          post("Café du jeudi", date="2026-11-01"))
    assert build(network, output).ok
    assert siblings_of(stylesheet) == []
    # A big file put into a version folder gets both.
    big = stylesheet.with_name("carte.js")
    big.write_text("var ville = 'Lyon';\n" * 1000)
    assert precompress_folder(stylesheet.parent) == 2
    assert brotli.decompress(big.with_name("carte.js.br").read_bytes()) == big.read_bytes()
    assert precompress_folder(stylesheet.parent) == 0  # none missing


def test_pruned_releases_leave_no_compressed_orphan(network: Path, output: Path) -> None:
    for version in range(3):
        write(network / "lyon" / "pages" / "adherer.md",
              '---\ntitle: "Adhérer"\n---\n\n' + f"Tarif {version}. " * 2000 + "\n")
        assert build(network, output).ok
    compressed = [path for path in (output / ".objects").rglob("*") if path.suffix in SUFFIXES]
    adherer = output / "public" / "lyon" / "adherer" / "index.html"
    assert adherer.stat().st_size >= MIN_SIZE and len(siblings_of(adherer)) == 2
    assert compressed and all(os.stat(path).st_nlink > 1 for path in compressed)


def test_a_volunteers_own_compressed_file_is_kept(network: Path) -> None:
    small_network(network)
    data = '{"horaires": "mardi 9 h 30"}' * 1000  # big enough for siblings
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
        for accept in ("br, gzip", "gzip"):  # a small page: gzipped on the fly
            response = client.get("/lyon/", headers={"Accept-Encoding": accept})
            assert response.headers["content-encoding"] == "gzip"
            assert response.headers["vary"] == "Accept-Encoding"
            assert response.content == page  # decoded by the client
        plain = client.get("/lyon/", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == page
        # A big page has both siblings: brotli to a browser that takes it, else gzip.
        big = output / "public" / "lyon" / "actualites" / "programme.html"
        for accept, encoding, sibling in (("br, gzip", "br", ".br"), ("gzip", "gzip", ".gz")):
            with client.stream("GET", "/lyon/actualites/programme.html",
                               headers={"Accept-Encoding": accept}) as response:
                assert response.headers["content-encoding"] == encoding
                assert b"".join(response.iter_raw()) == \
                    big.with_name(big.name + sibling).read_bytes()


def test_a_sibling_cut_short_by_a_full_disk_never_becomes_an_object(tmp_path: Path) -> None:
    """A write to a full disk may write part of the bytes and return: a sibling cut short
    and adopted as `<sha256>.gz` would be linked into every later release of that file.
    The kernel's file size limit (RLIMIT_FSIZE) makes the same short write, in a child."""
    digest = "ab" + "0" * 62  # the original's hash names the sibling's object
    target = tmp_path / "objects" / "ab" / f"{digest}.gz"
    target.parent.mkdir(parents=True)
    sibling = tmp_path / "release" / "liste.json.gz"
    sibling.parent.mkdir()
    child = subprocess.run([sys.executable, "-c", """
import os, random, resource, signal, sys
from pathlib import Path
from avf.build.objects import store_sibling
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit: EFBIG, not death
random.seed(7)
data = ''.join(random.choice('abcdefghij ') for _ in range(64 * 1024)).encode()
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))
try:
    store_sibling(data, sys.argv[3], sys.argv[1], Path(sys.argv[2]), '.gz')
except OSError as error:
    print('refused', error.errno)
else:
    print('written')
""", str(sibling), str(tmp_path / "objects"), digest], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("refused"), child.stdout
    assert not target.exists()
