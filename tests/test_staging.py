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

from avf.build import BuildOptions, pelican_run, search_index, staging
from avf.build import network as network_module
from avf.build import objects as objects_module
from avf.build.objects import OBJECTS, store_release
from avf.build.report import CityResult
from avf.build.state import BuildState
from tests.conftest import FIXED_NOW, build, post, write_city
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
    # Pagefind numbers pages in the order their folder lists them (creation order in
    # memory, a hash order on ext4): its index is the same text, shuffled. That is why a
    # network build chooses one staging root for all its sites.
    def without_index(files: dict[str, bytes]) -> dict[str, bytes]:
        return {path: data for path, data in files.items() if "/pagefind/" not in path}

    assert without_index(tree(in_memory)) == without_index(tree(on_disk))
    assert any("/pagefind/" in path for path in tree(on_disk))
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
    mine = staging.new_stage(root, "rennes", "0002-def")
    assert staging.sweep_stale_stages(root) == 1
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


def test_workers_stage_where_the_calling_process_chose(
        network: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pool workers come from a fork server started once, with the environment of that
    moment: the staging root travels in each task, and a worker uses the task's root
    whatever its own environment says."""
    small_network(network)
    chosen, elsewhere = network.parent / "chosen", network.parent / "elsewhere"
    chosen.mkdir()
    elsewhere.mkdir()
    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(chosen))
    output = network.parent / "out"
    output.mkdir()  # as build_network makes it
    options = BuildOptions(content_dir=network, output_dir=output, jobs=1, now=FIXED_NOW)
    plan = network_module._plan(options, BuildState(output))
    plan.staging_root = staging.staging_root(output)
    task = network_module._task(options, plan, "lyon")
    assert task.staging_root == chosen / f"avf-stages-{os.getuid()}"

    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(elsewhere))  # a stale worker's
    stages: list[Path] = []

    def watching(stage: Path, *args: object, **kwargs: object) -> None:
        stages.append(stage)
        store_release(stage, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pelican_run, "store_release", watching)
    result = pelican_run.build_site(task)
    assert result.status == "ok", result.errors
    assert stages and all(stage.is_relative_to(chosen) for stage in stages)


def test_a_failing_index_leaves_the_city_online_and_nothing_stored(
        network: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Pages are stored while Pagefind runs: if Pagefind then fails, what was stored goes
    (objects included), and the release online stays."""
    small_network(network)
    output = network.parent / "out"
    build(network, output)
    page = output / "public" / "lyon" / "actualites" / "cafe.html"
    before = page.read_bytes()
    objects = stored_objects(output)
    releases = sorted(p.name for p in (output / ".releases" / "lyon").iterdir())
    lyon = rebuild_lyon_with_a_failing_pagefind(network, output, tmp_path, monkeypatch,
                                                "plus de place sur le disque")
    assert lyon.status == "failed"
    assert "plus de place sur le disque" in str(lyon.errors[0]["message"])
    assert page.read_bytes() == before
    assert sorted(p.name for p in (output / ".releases" / "lyon").iterdir()) == releases
    assert stored_objects(output) == objects


def stored_objects(output: Path) -> list[str]:
    return sorted(p.name for p in (output / OBJECTS).rglob("*") if p.is_file())


def rebuild_lyon_with_a_failing_pagefind(network: Path, output: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         error: str) -> CityResult:
    """Change a post of Lyon and rebuild Lyon alone (in this process) with a Pagefind that
    fails — a real process exiting 1 with `error`."""
    failing = tmp_path / "pagefind"
    failing.write_text(f"#!/bin/sh\necho 'Error: {error}' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setattr("avf.build.search_index.pagefind_executable", lambda: failing)
    (network / "lyon" / "posts" / "2026-11-01-cafe.md").write_text(
        post("Café du vendredi", date="2026-11-01"), encoding="utf-8")
    (lyon,) = build(network, output, cities=("lyon",)).results
    return lyon


def test_a_failing_index_takes_its_new_objects_away_from_a_stage_on_the_output_disk(
        network: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On the output's own disk, stored files are the stage's, adopted: while the stage
    is still there, each new object has one link more than the release and the store
    (stage, object, release), so the release must go after its stage, or its new objects
    would outlive it."""
    monkeypatch.delenv(staging.ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setattr(staging, "MEMORY_FOLDER", tmp_path / "no-memory-folder")
    small_network(network)
    output = network.parent / "out"
    build(network, output)
    assert (output / staging.ON_DISK).is_dir()
    objects = stored_objects(output)
    lyon = rebuild_lyon_with_a_failing_pagefind(network, output, tmp_path, monkeypatch,
                                                "index impossible")
    assert lyon.status == "failed"
    assert stored_objects(output) == objects
    assert stages_of(output / staging.ON_DISK) == []


def test_stopping_an_index_whose_pagefind_has_ended_closes_its_pipes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Storing the pages can fail (a full disk) after Pagefind has finished: `stop()` must
    then still read and close its output pipes, or a worker keeps two descriptors per
    failure until the garbage collector closes them (with a ResourceWarning)."""
    quick = tmp_path / "pagefind"
    quick.write_text("#!/bin/sh\nexit 0\n")
    quick.chmod(0o755)
    monkeypatch.setattr("avf.build.search_index.pagefind_executable", lambda: quick)
    stage = tmp_path / "stage"
    (stage / "public").mkdir(parents=True)
    (stage / "public" / "index.html").write_text("<p>Bienvenue</p>", encoding="utf-8")
    descriptors = len(os.listdir("/proc/self/fd"))
    pending = search_index.start_index(stage, None, "")
    assert pending.pagefind is not None
    pending.pagefind.process.wait()  # ended, its pipes not read yet
    pending.stop()
    assert len(os.listdir("/proc/self/fd")) == descriptors
    pending.stop()  # always safe, again


def test_a_stage_folder_in_a_folder_others_may_rename_in_is_never_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Member pages pass through the stage: in a folder anyone may write to without the
    sticky bit (as /tmp and /dev/shm have), another user could rename our private folder
    away after it was checked and put a link in its place."""
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    os.chmod(open_to_all, 0o777)
    monkeypatch.setenv(staging.ENVIRONMENT_VARIABLE, str(open_to_all))
    with pytest.raises(OSError, match="AVF_STAGING_DIR"):
        staging.staging_root(tmp_path / "out")
    os.chmod(open_to_all, 0o1777)  # sticky: only the owner of an entry may rename it
    assert staging.staging_root(tmp_path / "out") == open_to_all / f"avf-stages-{os.getuid()}"


def test_a_nearly_full_memory_folder_is_not_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full memory folder would fail every city: below the free room a build needs, the
    stage goes on the output's disk (the real free room of /dev/shm, a raised bar)."""
    monkeypatch.delenv(staging.ENVIRONMENT_VARIABLE, raising=False)
    if not staging.MEMORY_FOLDER.is_dir():
        pytest.skip("no /dev/shm here")
    free = os.statvfs(staging.MEMORY_FOLDER).f_bavail * os.statvfs(
        staging.MEMORY_FOLDER).f_frsize
    monkeypatch.setattr(staging, "MEMORY_MIN_FREE", free + 1024 ** 3)
    assert staging.staging_root(tmp_path / "out") == tmp_path / "out" / staging.ON_DISK
    monkeypatch.setattr(staging, "MEMORY_MIN_FREE", 1)
    assert staging.staging_root(tmp_path / "out").is_relative_to(staging.MEMORY_FOLDER)


def test_an_object_pruned_while_a_site_links_it_is_stored_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The main process prunes another site's old release (and the objects only it used)
    while a worker stores the same bytes: the object vanishes between the worker's look
    and its link. The file is stored again instead of failing the site."""
    output = tmp_path / "out"
    output.mkdir()
    for name, page in (("first", b"<p>pareil</p>"), ("second", b"<p>pareil</p>")):
        stage = tmp_path / name
        (stage / "public").mkdir(parents=True)
        (stage / "public" / "page.html").write_bytes(page)
    store_release(tmp_path / "first", output / "r1", output, precompress=False)
    (stored,) = [p for p in (output / OBJECTS).rglob("*") if p.is_file()]
    real_link = objects_module._link
    pruned: list[Path] = []

    def pruned_first(target: Path, path: str) -> None:
        if not pruned:  # the prune lands between `target.exists()` and the link
            (output / "r1" / "public" / "page.html").unlink()
            target.unlink()
            pruned.append(target)
        real_link(target, path)

    monkeypatch.setattr(objects_module, "_link", pruned_first)
    store_release(tmp_path / "second", output / "r2", output, precompress=False)
    page = output / "r2" / "public" / "page.html"
    assert pruned == [stored]
    assert page.read_bytes() == b"<p>pareil</p>"
    assert stored.is_file() and os.path.samefile(stored, page)
