"""Sites are written in a private stage (in memory when possible), then stored on disk as
links to objects: the output is the same wherever the stage is, and only new bytes are
written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from avf.build import staging
from avf.build.objects import OBJECTS, store_release
from tests.conftest import build, post, write_city
from tests.test_incremental import small_network, tree


def stages_of(root: Path) -> list[str]:
    return sorted(entry.name for entry in root.iterdir()) if root.is_dir() else []


def test_a_build_leaves_no_stage_behind(network: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    stages = network.parent / "stages"
    stages.mkdir()
    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(stages))
    small_network(network)
    done = build(network, network.parent / "out")
    assert [r.status for r in done.results] == ["ok"] * 3, done.results[0].errors
    root = stages / f"avf-stages-{os.getuid()}"
    assert root.is_dir() and stages_of(root) == []
    assert stat.S_IMODE(root.stat().st_mode) == 0o700  # member pages pass through it


def test_output_is_the_same_from_a_stage_in_memory_or_on_the_output_disk(
        network: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small_network(network)
    monkeypatch.delenv(staging.ENVIRONMENT_VARIABLE, raising=False)
    in_memory = network.parent / "memory"
    build(network, in_memory)
    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(network.parent / "stages"))
    (network.parent / "stages").mkdir()
    on_disk = network.parent / "disk"
    build(network, on_disk)
    assert tree(in_memory) == tree(on_disk)
    for output in (in_memory, on_disk):  # every published file is a link to its object
        page = output / "public" / "lyon" / "index.html"
        assert os.stat(page).st_nlink >= 2
        assert stat.S_IMODE(os.stat(page).st_mode) == 0o444


def test_storing_writes_only_new_bytes(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    first, second = tmp_path / "stage1", tmp_path / "stage2"
    for stage, page in ((first, b"<p>un</p>"), (second, b"<p>deux</p>")):
        (stage / "public").mkdir(parents=True)
        (stage / "public" / "same.html").write_bytes(b"<p>toujours pareil</p>")
        (stage / "public" / "page.html").write_bytes(page)
    store_release(first, output / "r1", output, precompress=False)
    store_release(second, output / "r2", output, precompress=False)
    same1, same2 = (os.stat(output / r / "public" / "same.html") for r in ("r1", "r2"))
    assert same1.st_ino == same2.st_ino  # linked, not written again: its mtime is kept
    assert (os.stat(output / "r1" / "public" / "page.html").st_ino
            != os.stat(output / "r2" / "public" / "page.html").st_ino)
    objects = [p for p in (output / OBJECTS).rglob("*") if p.is_file()]
    assert len(objects) == 3


def test_a_file_linked_from_elsewhere_is_copied_not_adopted(tmp_path: Path) -> None:
    """A stage on the output's disk adopts its files as objects, but never one that is
    also linked from outside (a volunteer's own file): editing it would edit the object."""
    output = tmp_path / "out"
    output.mkdir()
    stage = tmp_path / "stage"
    (stage / "public").mkdir(parents=True)
    original = tmp_path / "volunteer.pdf"
    original.write_bytes(b"%PDF mon programme")
    os.link(original, stage / "public" / "programme.pdf")
    store_release(stage, output / "r1", output, precompress=False)
    published = output / "r1" / "public" / "programme.pdf"
    assert published.read_bytes() == b"%PDF mon programme"
    assert os.stat(published).st_ino != os.stat(original).st_ino
    assert stat.S_IMODE(os.stat(original).st_mode) != 0o444


def test_a_stage_folder_that_is_not_ours_is_never_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    (shared / f"avf-stages-{os.getuid()}").mkdir(parents=True, mode=0o777)
    os.chmod(shared / f"avf-stages-{os.getuid()}", 0o777)  # readable by everyone
    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(shared))
    with pytest.raises(OSError, match="AVF_STAGING_DIR"):
        staging.staging_root(tmp_path / "out")
    link_target = tmp_path / "elsewhere"
    link_target.mkdir(mode=0o700)
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / f"avf-stages-{os.getuid()}").symlink_to(link_target)
    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(planted))
    with pytest.raises(OSError):
        staging.staging_root(tmp_path / "out")


def test_without_a_memory_folder_stages_go_beside_the_releases(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(staging.ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setattr(staging, "MEMORY_FOLDER", tmp_path / "no-such-folder")
    assert staging.staging_root(tmp_path / "out") == tmp_path / "out" / staging.ON_DISK


def test_a_stage_left_by_a_killed_worker_is_swept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    root = staging.staging_root(tmp_path / "out")
    (root / f"lyon-0001-abc-{dead_pid}" / "public").mkdir(parents=True)
    mine = staging.new_stage(tmp_path / "out", "rennes", "0002-def")
    assert staging.sweep_stale_stages(tmp_path / "out") == 1
    assert stages_of(root) == [mine.name]


def test_a_city_that_fails_leaves_no_stage(network: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    stages = network.parent / "stages"
    stages.mkdir()
    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(stages))
    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("A", extra="[[cassé")})
    write_city(network, "rennes", {"posts/2026-10-01-b.md":
                                   post("B", body="[lien]({filename}/nulle-part.md)")})
    done = build(network, network.parent / "out")
    assert {r.slug: r.status for r in done.results} == {"lyon": "failed", "rennes": "failed"}
    assert stages_of(stages / f"avf-stages-{os.getuid()}") == []
