"""The build queue over a real database and real builds: bursts coalesce, a city is never
queued twice, queued work survives a restart, each build keeps its log, and a failing city
keeps its previous release online with its errors recorded in French."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import post, service_settings
from content_repo import ContentRepos, release_of, small_network
from sqlalchemy import select

from avf.service.queue import COALESCE_CAP, BuildQueue
from avf.store import connect, migrate
from avf.store.schema import build_jobs

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def repos(tmp_path: Path) -> ContentRepos:
    return small_network(tmp_path / "git")


def make_queue(tmp_path: Path, repos: ContentRepos, **overrides: object) -> BuildQueue:
    settings = service_settings(tmp_path, repos.checkout, run_workers=False, **overrides)
    engine = connect(settings.database_url)
    migrate(engine)
    return BuildQueue(engine, settings)


def jobs(queue: BuildQueue) -> list[dict[str, object]]:
    with queue.engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            select(build_jobs).order_by(build_jobs.c.id)).mappings()]


def build_everything(queue: BuildQueue) -> None:
    queue.request(["*"], "première construction")
    queue.run_due()
    assert (queue.settings.public_dir / "lyon" / "index.html").is_file()


def test_a_lone_request_builds_at_once_and_the_next_one_waits(tmp_path: Path,
                                                              repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos, build_delay=3.0)
    first = queue.request(["lyon"], "push 1")
    assert queue.run_due() == first  # no waiting: a single post goes online at once
    second = queue.request(["lyon"], "push 2")  # right after: the start of a burst
    (waiting,) = [job for job in jobs(queue) if job["id"] == second[0]]
    assert waiting["not_before"] == waiting["requested_at"] + timedelta(seconds=3)
    assert queue.run_due() == []
    assert queue.request(["gap"], "push 3") == queue.run_due()  # gap was quiet
    later = datetime.now(UTC) + timedelta(seconds=10)
    assert queue.run_due(later) == second
    third = queue.request(["lyon"], "push 4", now=later + timedelta(seconds=3))
    (quiet,) = [job for job in jobs(queue) if job["id"] == third[0]]
    assert quiet["not_before"] == quiet["requested_at"]


def test_a_burst_of_requests_joins_one_waiting_build(tmp_path: Path,
                                                     repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos, build_delay=3.0)
    ids = [queue.request(["lyon"], f"push {n}", now=T0 + timedelta(seconds=n))[0]
           for n in range(10)]
    assert len(set(ids)) == 1
    (job,) = jobs(queue)
    assert job["status"] == "queued"
    assert job["reason"].startswith("push 0 ; push 1 ; push 2")
    # Each request pushed the start back: the build waits for the burst to end.
    assert job["not_before"] == T0 + timedelta(seconds=9 + 3)
    assert queue.run_due(T0 + timedelta(seconds=11)) == []


def test_a_steady_stream_still_builds_after_the_cap(tmp_path: Path,
                                                    repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos, build_delay=3.0)
    for second in range(0, 120, 2):  # a push every two seconds for two minutes
        queue.request(["lyon"], "push", now=T0 + timedelta(seconds=second))
    (job,) = jobs(queue)
    assert job["not_before"] == T0 + timedelta(seconds=3 * COALESCE_CAP)


def test_a_request_during_a_build_waits_as_one_more_job(tmp_path: Path,
                                                        repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos, build_delay=3.0)
    first = queue.request(["lyon"], "push 1", now=T0)
    (claimed,) = queue._claim("build", T0 + timedelta(seconds=3))  # the worker took it
    assert claimed["id"] == first[0]
    later = [queue.request(["lyon"], f"push {n}", now=T0 + timedelta(seconds=3 + n))[0]
             for n in range(2, 10)]
    assert len(set(later)) == 1 and later[0] != first[0]
    assert [job["status"] for job in jobs(queue)] == ["running", "queued"]


def test_a_whole_network_request_covers_the_cities(tmp_path: Path,
                                                   repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos, build_delay=3.0)
    everything = queue.request(["*"], "thème", now=T0)
    assert queue.request(["lyon", "gap"], "push", now=T0) == everything
    assert queue.request(["gap", "*", "lyon"], "réglages", now=T0) == everything
    (job,) = jobs(queue)
    assert job["city"] == "*" and job["reason"] == "thème ; push ; réglages"


def test_queued_work_survives_a_restart(tmp_path: Path, repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos)
    build_everything(queue)
    repos.change({"lyon/posts/fete.md": post("Fête des voisins", "2026-02-01")})
    before = repos.checkout_head()
    waiting = queue.request_sync(repos.head(), "push avant l'arrêt")
    crashed = queue.request(["gap"], "reconstruire gap")
    queue._claim("build", datetime.now(UTC))  # the worker took gap, then the process died
    queue.engine.dispose()

    restarted = make_queue(tmp_path, repos)
    assert restarted.recover() == 1
    done = restarted.run_due()
    assert waiting in done and crashed[0] in done
    assert repos.checkout_head() != before
    assert (restarted.settings.public_dir / "lyon" / "actualites" / "fete.html"
            ).is_file()
    statuses = {job["id"]: (job["status"], job["log"]) for job in jobs(restarted)}
    assert statuses[crashed[0]][0] == "done"
    assert "Reprise après un arrêt du service." in statuses[crashed[0]][1]


def test_each_build_keeps_its_log(tmp_path: Path, repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos)
    build_everything(queue)
    (job_id,) = queue.request(["lyon"], "bouton « Reconstruire »", requested_by="web@avf.fr")
    queue.run_due()
    job = next(job for job in jobs(queue) if job["id"] == job_id)
    assert job["status"] == "done" and job["seconds"] > 0
    assert job["started_at"] <= job["finished_at"]
    assert "Demandée : bouton « Reconstruire » (web@avf.fr)." in job["log"]
    assert "Déjà à jour : rien à reconstruire." in job["log"]
    assert "Portail national" in job["log"]
    log_file = queue.settings.logs_dir / f"{job_id}.log"
    assert log_file.read_text(encoding="utf-8") == job["log"]


def test_a_failing_city_keeps_its_previous_release(tmp_path: Path,
                                                   repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos)
    build_everything(queue)
    online = release_of(queue.settings.output_dir, "lyon")
    home = (queue.settings.public_dir / "lyon" / "index.html").read_text(encoding="utf-8")
    repos.change({"lyon/posts/casse.md": '---\ntitle: "Sortie"\ndate: 2026-13-45\n---\n\nT.\n'})
    sync_id = queue.request_sync(repos.head(), "push")
    done = queue.run_due()
    by_id = {job["id"]: job for job in jobs(queue)}
    (build_id,) = [job_id for job_id in done if job_id != sync_id]
    build = by_id[build_id]
    assert build["city"] == "lyon" and build["status"] == "failed"
    (error,) = json.loads(build["errors"])
    assert error["file"].endswith("lyon/posts/casse.md") and error["line"] == 3
    assert "date" in error["message"]
    assert "ÉCHEC" in build["log"] and "la version précédente reste en ligne" in build["log"]
    # The city's previous release is still what readers get.
    assert release_of(queue.settings.output_dir, "lyon") == online
    assert (queue.settings.public_dir / "lyon" / "index.html").read_text(
        encoding="utf-8") == home
    report = json.loads((queue.settings.output_dir / "build-report.json").read_text())
    assert report["cities"]["lyon"]["status"] == "failed"


def test_a_city_removed_from_the_content_is_retired(tmp_path: Path,
                                                    repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos)
    build_everything(queue)
    repos.change({"gap": None}, "L'AVF de Gap quitte le réseau")
    sync_id = queue.request_sync(repos.head(), "push")
    queue.run_due()
    by_city = {job["city"]: job for job in jobs(queue) if job["id"] > sync_id}
    assert set(by_city) == {"*"} and by_city["*"]["status"] == "done"
    assert not (queue.settings.public_dir / "gap").exists()
    assert (queue.settings.public_dir / "lyon" / "index.html").is_file()


def test_a_forced_request_rebuilds_what_is_up_to_date_and_only_that(
        tmp_path: Path, repos: ContentRepos) -> None:
    queue = make_queue(tmp_path, repos)
    build_everything(queue)
    lyon, gap = (release_of(queue.settings.output_dir, slug) for slug in ("lyon", "gap"))
    queue.request(["lyon"], "poussée", now=T0)
    queue.request(["lyon"], "bouton « Reconstruire »", force=True, now=T0)  # joins it
    queue.request(["gap"], "poussée", now=T0)
    [lyon_job, gap_job] = queue.run_due(T0 + timedelta(minutes=1))
    by_id = {job["id"]: job for job in jobs(queue)}
    assert by_id[lyon_job]["force"] and not by_id[gap_job]["force"]
    assert release_of(queue.settings.output_dir, "lyon") != lyon  # rebuilt though unchanged
    assert release_of(queue.settings.output_dir, "gap") == gap  # not forced: left alone
    assert "Déjà à jour" in by_id[gap_job]["log"]
    assert "Déjà à jour" not in by_id[lyon_job]["log"]
