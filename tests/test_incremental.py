"""Incremental builds: only what changed is rebuilt, and the result is the same as cold."""

from __future__ import annotations

import filecmp
import json
import os
import time
from pathlib import Path

import pytest

from avf.build import BuildOptions, build_network
from tests.conftest import FIXED_NOW, TEST_SITE_URL, build, post, write, write_city
from tests.test_build import every_file


def small_network(content: Path) -> None:
    write(content / "_network" / "pages" / "a-propos.md", '---\ntitle: "Réseau"\n---\n\nAVF.\n')
    for slug in ("lyon", "rennes", "dinan"):
        write_city(content, slug, {
            "posts/2026-10-01-rentree.md": post(f"Rentrée à {slug}", extra="tags: [rentrée]"),
            "posts/2026-11-01-cafe.md": post("Café", date="2026-11-01"),
            "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\n20 €.\n',
        })


def tree(output: Path) -> dict[str, bytes]:
    """Every published file (public and members) by path, with its bytes."""
    return {path.relative_to(output).as_posix(): path.read_bytes()
            for area in ("public", "members") for path in every_file(output / area)}


def test_nothing_changed_builds_nothing(network: Path) -> None:
    small_network(network)
    output = network.parent / "output"
    assert len(build(network, output).results) == 3
    again = build(network, output)
    assert again.results == [] and again.portal is None
    assert sorted(again.unchanged) == ["dinan", "lyon", "rennes"]


def test_one_post_changed_rebuilds_its_city_only(network: Path) -> None:
    small_network(network)
    output = network.parent / "output"
    build(network, output)
    write(network / "lyon" / "posts" / "2026-11-01-cafe.md", post("Café de novembre"))
    again = build(network, output)
    assert [result.slug for result in again.results] == ["lyon"]
    assert again.portal is None  # the directory of cities did not change
    assert "Café de novembre" in (output / "public" / "lyon" / "index.html").read_text()


def test_incremental_output_is_byte_for_byte_the_cold_output(network: Path) -> None:
    small_network(network)
    incremental = network.parent / "incremental"
    build(network, incremental)
    write(network / "rennes" / "posts" / "2026-11-01-cafe.md",
          post("Café", date="2026-11-01", extra="tags: [café]", body="Nouveau texte."))
    (network / "dinan" / "pages" / "adherer.md").unlink()
    build(network, incremental)
    cold = network.parent / "cold"
    build(network, cold)
    assert tree(incremental) == tree(cold)


def test_unchanged_files_are_not_rewritten(network: Path) -> None:
    small_network(network)
    output = network.parent / "output"
    build(network, output)
    page = output / "public" / "lyon" / "adherer" / "index.html"
    before = os.stat(page)
    write(network / "lyon" / "posts" / "2026-11-01-cafe.md", post("Autre café"))
    assert [r.slug for r in build(network, output).results] == ["lyon"]
    after = os.stat(page)  # a new release, but the same bytes: the same file
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_identical_files_are_stored_once(network: Path) -> None:
    small_network(network)
    for slug in ("lyon", "rennes"):
        (network / slug / "media").mkdir()
        (network / slug / "media" / "logo.png").write_bytes(b"same picture" * 100)
    output = network.parent / "output"
    build(network, output)
    lyon, rennes = (os.stat(output / "public" / s / "media" / "logo.png") for s in ("lyon",
                                                                                   "rennes"))
    assert lyon.st_ino == rennes.st_ino


@pytest.mark.parametrize("damage", ["{not json", '{"version": 999}', '{"version": 2}',
                                    '{"version": 2, "fingerprint": 1, "files": []}'])
def test_an_untrusted_state_is_discarded(network: Path, damage: str) -> None:
    small_network(network)
    output = network.parent / "output"
    build(network, output)
    for city in ("lyon", "rennes"):
        (output / ".state" / "cities" / f"{city}.json").write_text(damage)
    rebuilt = build(network, output)
    assert sorted(r.slug for r in rebuilt.results) == ["lyon", "rennes"]  # nothing trusted
    assert rebuilt.ok


def test_a_city_is_rebuilt_when_one_of_its_events_passes(network: Path) -> None:
    write_city(network, "lyon", {"posts/2026-11-01-sortie.md": post("Sortie", extra="""
        event:
          start: 2026-12-05 14:00
          end: 2026-12-05 17:00
    """)})
    output = network.parent / "output"

    def build_at(now: str) -> list[str]:
        options = BuildOptions(content_dir=network, output_dir=output, jobs=1,
                               site_url=TEST_SITE_URL, now=now)
        return [r.slug for r in build_network(options).results]

    assert build_at("2026-12-01T12:00:00+01:00") == ["lyon"]
    state = json.loads((output / ".state" / "cities" / "lyon.json").read_text())
    assert state["expires"] == "2026-12-05T17:00:00+01:00"
    agenda = output / "public" / "lyon" / "agenda" / "index.html"
    assert "Aucun événement annoncé" not in agenda.read_text()
    assert build_at("2026-12-03T12:00:00+01:00") == []  # still upcoming: nothing to do
    assert build_at("2026-12-05T18:00:00+01:00") == ["lyon"]  # it passed: home and agenda
    assert "Aucun événement annoncé" in agenda.read_text()


def test_a_theme_change_rebuilds_every_city(network: Path, tmp_path: Path) -> None:
    small_network(network)
    output = network.parent / "output"
    settings = tmp_path / "conf.py"
    base = Path(__file__).resolve().parents[1] / "pelicanconf.py"
    settings.write_text(base.read_text(encoding="utf-8").replace(
        "ROOT = Path(__file__).resolve().parent", f"ROOT = Path({str(base.parent)!r})"),
        encoding="utf-8")

    def run() -> int:
        return len(build_network(BuildOptions(content_dir=network, output_dir=output, jobs=2,
                                              site_url=TEST_SITE_URL, now=FIXED_NOW,
                                              settings_file=settings)).results)

    assert run() == 3 and run() == 0
    settings.write_text(settings.read_text() + "\nDEFAULT_PAGINATION = 5\n")
    assert run() == 3


def test_same_content_same_objects(network: Path) -> None:
    small_network(network)
    first, second = network.parent / "a", network.parent / "b"
    build(network, first)
    build(network, second)
    assert not filecmp.dircmp(first / "public" / "lyon", second / "public" / "lyon").diff_files


def test_unchanged_cities_are_recognised_without_reading_their_files(
        network: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from avf.build import state

    monkeypatch.setattr(state, "RACY_WINDOW_NS", 0)  # no waiting two seconds in a test
    small_network(network)
    output = network.parent / "output"
    build(network, output)
    an_hour_ago = time.time() - 3600
    for path in network.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))  # new change times, same contents
    assert build(network, output).results == []  # slow path: contents hashed, same
    index = json.loads((output / ".state" / "index.json").read_text())
    assert set(index["cities"]) == {"lyon", "rennes", "dinan"}
    for city in ("lyon", "rennes", "dinan"):  # the quick path needs no per-city state
        (output / ".state" / "cities" / f"{city}.json").write_text("damaged")
    assert build(network, output).results == []
    write(network / "rennes" / "posts" / "2026-11-01-cafe.md", post("Café du jeudi"))
    assert [r.slug for r in build(network, output).results] == ["rennes"]
    assert "AVF Lyon" in (output / "public" / "index.html").read_text()


def test_pruned_releases_take_their_objects_with_them(network: Path) -> None:
    small_network(network)
    output = network.parent / "output"
    build(network, output)
    for version in range(4):  # each build makes a new release of lyon; two are kept
        write(network / "lyon" / "pages" / "adherer.md",
              f'---\ntitle: "Adhérer"\n---\n\nTarif {version}.\n')
        build(network, output)
    objects = [p for p in (output / ".objects").rglob("*") if p.is_file()]
    assert all(os.stat(p).st_nlink > 1 for p in objects)  # no orphan left behind
    assert len(list((output / ".releases" / "lyon").iterdir())) == 2


def test_a_new_content_with_an_old_mtime_is_seen(network: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """cp -p, rsync -t and tar keep the source's mtime: same size, same mtime, new text."""
    from avf.build import state

    monkeypatch.setattr(state, "RACY_WINDOW_NS", 0)
    small_network(network)
    output = network.parent / "output"
    build(network, output)
    page = network / "lyon" / "pages" / "adherer.md"
    before = os.stat(page)
    page.write_text(page.read_text().replace("20 €", "30 €"), encoding="utf-8")
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert [r.slug for r in build(network, output).results] == ["lyon"]
    assert "30 €" in (output / "public" / "lyon" / "adherer" / "index.html").read_text()
