"""Incremental builds: only what changed is rebuilt, and the result is the same as cold."""

from __future__ import annotations

import filecmp
import json
import os
import time
from pathlib import Path

import pytest

from avf.build import BuildOptions, build_network
from tests.conftest import (
    FIXED_NOW,
    PROJECT_ROOT,
    TEST_SITE_URL,
    build,
    post,
    write,
    write_city,
)
from tests.test_build import every_file


def small_network(content: Path) -> None:
    write(content / "_network" / "pages" / "a-propos.md", '---\ntitle: "Réseau"\n---\n\nAVF.\n')
    for slug in ("lyon", "rennes", "dinan"):
        write_city(content, slug, {
            "posts/2026-10-01-rentree.md": post(f"Rentrée à {slug}", extra="tags: [rentrée]"),
            "posts/2026-11-01-cafe.md": post("Café", date="2026-11-01"),
            "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\n20 €.\n',
        })


def settings_copy(path: Path, extra: str = "") -> Path:
    """A copy of pelicanconf.py at `path` (still pointing at this project), plus `extra`."""
    original = PROJECT_ROOT / "pelicanconf.py"
    path.write_text(original.read_text(encoding="utf-8").replace(
        "ROOT = Path(__file__).resolve().parent", f"ROOT = Path({str(PROJECT_ROOT)!r})")
        + extra, encoding="utf-8")
    return path


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
    settings = settings_copy(tmp_path / "conf.py")

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


def test_a_post_saved_while_its_city_builds_is_rebuilt_next_time(
        network: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from avf.build import network as pipeline

    small_network(network)
    output = network.parent / "output"
    post_file = network / "lyon" / "posts" / "2026-11-01-cafe.md"
    publish = pipeline.publish_city

    def publish_then_edit(output_dir: Path, slug: str, release: Path) -> None:
        publish(output_dir, slug, release)
        if slug == "lyon":  # Pelican has read the post: a volunteer saves it now
            write(post_file, post("Café, version enregistrée pendant la construction"))

    monkeypatch.setattr(pipeline, "publish_city", publish_then_edit)
    build(network, output)
    monkeypatch.setattr(pipeline, "publish_city", publish)
    assert [r.slug for r in build(network, output).results] == ["lyon"]
    assert "pendant la construction" in (output / "public" / "lyon" / "index.html").read_text()


@pytest.mark.parametrize("damage", [{"card": "garbage"}, {"card": {"x": 1}},
                                    {"expires": "bientôt"}, {"expires": 5}])
def test_a_damaged_city_state_is_ignored(network: Path, damage: dict[str, object]) -> None:
    small_network(network)
    output = network.parent / "output"
    build(network, output)
    path = output / ".state" / "cities" / "lyon.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **damage}))
    (output / ".state" / "index.json").unlink()
    (output / ".state" / "portal.json").unlink()  # the portal reads every card
    rebuilt = build(network, output)
    assert rebuilt.ok and [r.slug for r in rebuilt.results] == ["lyon"]
    assert "AVF Lyon" in (output / "public" / "index.html").read_text()


def test_pruning_keeps_the_previous_online_release_only(network: Path) -> None:
    small_network(network)
    output = network.parent / "output"
    build(network, output)
    releases = output / ".releases" / "lyon"
    first = os.readlink(output / "public" / "lyon")
    (releases / "00000000000000000000-crashed").mkdir()  # left by a killed build
    write(network / "lyon" / "pages" / "adherer.md", '---\ntitle: "Adhérer"\n---\n\n25 €.\n')
    build(network, output)
    kept = sorted(entry.name for entry in releases.iterdir())
    assert len(kept) == 2 and "00000000000000000000-crashed" not in kept
    assert Path(first).parts[3] in kept  # the rollback copy is the one that was online


def test_duplicate_files_in_a_release_leave_no_orphan(network: Path) -> None:
    small_network(network)
    media = network / "lyon" / "media"
    media.mkdir()
    for name in ("photo.png", "photo-copie.png"):
        (media / name).write_bytes(b"the same picture" * 50)
    output = network.parent / "output"
    build(network, output)
    (media / "photo-copie.png").unlink()
    for version in range(3):
        write(network / "lyon" / "pages" / "adherer.md",
              f'---\ntitle: "Adhérer"\n---\n\nTarif {version}.\n')
        build(network, output)
    orphans = [p for p in (output / ".objects").rglob("*") if p.is_file()
               and os.stat(p).st_nlink == 1]
    assert orphans == []


def test_a_volunteers_own_file_never_becomes_a_shared_object(network: Path) -> None:
    small_network(network)
    media = network / "lyon" / "media"
    media.mkdir()
    (media / "photo.png").write_bytes(b"a picture" * 50)
    os.link(media / "photo.png", network.parent / "elsewhere.png")  # linked elsewhere
    output = network.parent / "output"
    build(network, output)
    published = output / "public" / "lyon" / "media" / "photo.png"
    assert os.stat(published).st_ino != os.stat(media / "photo.png").st_ino
    assert os.access(media / "photo.png", os.W_OK) and (os.stat(media / "photo.png").st_mode
                                                        & 0o200)


def test_a_city_not_rebuilt_keeps_its_theme_version(network: Path, tmp_path: Path) -> None:
    import shutil

    small_network(network)
    theme = tmp_path / "theme"
    shutil.copytree(PROJECT_ROOT / "themes" / "avf", theme)
    settings = settings_copy(tmp_path / "conf.py", f"\nTHEME = {str(theme)!r}\n")
    output = network.parent / "output"

    def run(*cities: str) -> None:
        build_network(BuildOptions(content_dir=network, output_dir=output, cities=cities,
                                   jobs=2, site_url=TEST_SITE_URL, now=FIXED_NOW,
                                   settings_file=settings))

    def stylesheet(city: str) -> Path:
        html = (output / "public" / city / "index.html").read_text()
        href = html.split('rel="stylesheet" href="')[1].split('"')[0]
        return output / "public" / href.removeprefix(TEST_SITE_URL + "/")

    run()
    old = stylesheet("rennes")
    (theme / "static" / "css" / "avf.css").write_text("body { color: red; }\n")
    run("lyon")
    red = "body { color: red; }"
    assert stylesheet("lyon") != old and red in stylesheet("lyon").read_text()
    assert old.is_file() and red not in old.read_text()  # rennes still has its own


def test_settings_imported_by_the_settings_file_count(network: Path, tmp_path: Path) -> None:
    small_network(network)
    shared = settings_copy(tmp_path / "pelicanconf.py")
    production = tmp_path / "publishconf.py"
    production.write_text((PROJECT_ROOT / "publishconf.py").read_text())
    output = network.parent / "output"

    def run() -> int:
        import sys

        sys.modules.pop("pelicanconf", None)
        return len(build_network(BuildOptions(
            content_dir=network, output_dir=output, jobs=2, site_url=TEST_SITE_URL,
            now=FIXED_NOW, settings_file=production)).results)

    assert run() == 3 and run() == 0
    shared.write_text(shared.read_text() + "\nFEED_MAX_ITEMS = 2\n")
    assert run() == 3
