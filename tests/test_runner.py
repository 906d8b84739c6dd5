"""The worker pool: workers are replaced between batches, a dead worker fails only its city."""

from __future__ import annotations

from pathlib import Path

import pytest

from avf.build import runner
from avf.build.city_settings import SiteTask
from tests.conftest import FIXED_NOW, TEST_SITE_URL, build, post, write_city


def test_workers_are_replaced_between_batches(network: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "SITES_PER_WORKER", 1)  # a fresh pool for every city
    for slug in ("lyon", "rennes", "dinan"):
        write_city(network, slug, {"posts/2026-10-01-a.md": post(f"Nouvelles de {slug}")})
    result = build(network, network.parent / "output", jobs=1)
    assert result.ok
    assert sorted(r.slug for r in result.results) == ["dinan", "lyon", "rennes"]


def crash(task: SiteTask) -> object:
    """Stands for a worker killed by the system (out of memory) while building a city."""
    import os

    if task.slug == "rennes":
        os._exit(9)
    from avf.build.pelican_run import build_site

    return build_site(task)


def test_a_dead_worker_fails_its_city_and_no_other(network: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for slug in ("lyon", "rennes"):
        write_city(network, slug, {"posts/2026-10-01-a.md": post("A")})
    monkeypatch.setattr(runner, "build_site", crash)
    tasks = [SiteTask(slug=slug, content_dir=network, output_dir=network.parent / "output",
                      settings_file=Path(runner.__file__).parents[2] / "pelicanconf.py",
                      base_url=TEST_SITE_URL, now=FIXED_NOW) for slug in ("lyon", "rennes")]
    with runner.SitePool(1) as pool:
        results = {result.slug: result for result in pool.build(tasks, expected=2)}
    assert results["rennes"].status == "failed"
    assert "s'est arrêté" in str(results["rennes"].errors[0]["message"])
    assert results["lyon"].status == "ok"
