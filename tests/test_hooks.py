"""`POST /hooks/git` over HTTP, with real git repositories: a volunteer pushes with
`git push` to a bare origin, the forge's signed request reaches the service, and the
pushed post goes online — or, for every request that must not build, nothing happens."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import post, service_settings
from content_repo import ZERO, ContentRepos, git, github_push, release_of, small_network
from sqlalchemy import func, select
from starlette.testclient import TestClient

from avf.service import create_app, hooks
from avf.service.queue import BuildQueue
from avf.store.schema import build_jobs, webhook_deliveries

SECRET = "It's a Secret to Everybody"  # what service_settings gives AVF_WEBHOOK_SECRET
FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
SIGNED = json.loads((FIXTURES / "signed-requests.json").read_text(encoding="utf-8"))


@dataclass
class Service:
    client: TestClient
    queue: BuildQueue
    repos: ContentRepos
    output: Path

    def push(self, before: str, after: str, ref: str | None = None,
             delivery: str | None = None, secret: str = SECRET):  # type: ignore[no-untyped-def]
        ref = ref or f"refs/heads/{self.repos.branch}"
        body, headers = github_push(before, after, secret, ref, delivery)
        return self.client.post("/hooks/git", content=body, headers=headers)

    def jobs(self) -> list[dict[str, object]]:
        with self.queue.engine.connect() as connection:
            return [dict(row) for row in connection.execute(
                select(build_jobs).order_by(build_jobs.c.id)).mappings()]

    def count(self, table) -> int:  # type: ignore[no-untyped-def]
        with self.queue.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def start_service(tmp_path: Path, repos: ContentRepos, built: bool = True,
                  **overrides: object) -> Iterator[Service]:
    """The service on `repos` (its queue driven by hand), with every city online if
    `built`."""
    settings = service_settings(tmp_path, repos.checkout, **{"run_workers": False, **overrides})
    with TestClient(create_app(settings)) as client:
        service = Service(client, client.app.state.runtime.builds, repos,  # type: ignore[attr-defined]
                          settings.output_dir)
        if built:
            service.queue.request(["*"], "première construction")
            service.queue.run_due(datetime.now(UTC) + timedelta(seconds=settings.build_delay))
        yield service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    yield from start_service(tmp_path, small_network(tmp_path / "git", ("lyon", "gap",
                                                                       "annecy")))


@pytest.fixture
def unbuilt(tmp_path: Path) -> Iterator[Service]:
    """For requests that must build nothing: no site is online to begin with."""
    yield from start_service(tmp_path, small_network(tmp_path / "git", ("lyon",)),
                             built=False)


def test_a_pushed_post_goes_online(service: Service) -> None:
    gap_release = release_of(service.output, "gap")
    before, after = service.repos.change(
        {"lyon/posts/fete.md": post("Fête des voisins", "2026-02-01", body="Venez nombreux !")})
    answer = service.push(before, after)
    assert answer.status_code == 202
    assert answer.json()["status"] == "queued"
    assert service.repos.checkout_head() == before  # the request itself moves nothing

    service.queue.run_due()
    assert service.repos.checkout_head() == after
    page = service.output / "public" / "lyon" / "actualites" / "fete.html"
    assert "Venez nombreux !" in page.read_text(encoding="utf-8")
    sync, build = service.jobs()[-2:]
    assert (sync["kind"], sync["status"], sync["commit"]) == ("sync", "done", after)
    assert (build["city"], build["status"], build["commit"]) == ("lyon", "done", after)
    assert build["requested_by"] == "benevole"
    assert release_of(service.output, "gap") == gap_release  # untouched, not rebuilt
    online = service.client.get("/lyon/actualites/fete.html")
    assert online.status_code == 200 and "Venez nombreux !" in online.text


def test_two_cities_touched_both_built_the_third_not(service: Service) -> None:
    annecy = release_of(service.output, "annecy")
    lyon, gap = release_of(service.output, "lyon"), release_of(service.output, "gap")
    before, after = service.repos.change({
        "lyon/posts/marche.md": post("Marché de Noël", "2026-02-02"),
        "gap/posts/rando.md": post("Randonnée", "2026-02-03")})
    assert service.push(before, after).status_code == 202
    service.queue.run_due()
    built = {job["city"]: job["status"] for job in service.jobs()[-2:]}
    assert built == {"lyon": "done", "gap": "done"}
    assert release_of(service.output, "lyon") != lyon
    assert release_of(service.output, "gap") != gap
    assert release_of(service.output, "annecy") == annecy
    assert (service.output / "public" / "gap" / "actualites" / "rando.html").is_file()


def test_gitlab_and_gitea_pushes_are_built_too(service: Service) -> None:
    before, after = service.repos.change({"gap/posts/expo.md": post("Exposition", "2026-02-04")})
    body = json.dumps({"object_kind": "push", "ref": "refs/heads/main", "before": before,
                       "after": after, "user_username": "marie"}).encode()
    answer = service.client.post("/hooks/git", content=body, headers={
        "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": SECRET,
        "X-Gitlab-Event-UUID": "7f0c7bd7-0d0c-4f3e-9f4b-1f2c3d4e5f60"})
    assert answer.status_code == 202
    before, after = service.repos.change({"gap/posts/bal.md": post("Bal", "2026-02-05")})
    body = json.dumps({"ref": "refs/heads/main", "before": before, "after": after}).encode()
    answer = service.client.post("/hooks/git", content=body, headers={
        "X-Gitea-Event": "push", "X-Gitea-Delivery": "1b2c",
        "X-Gitea-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()})
    assert answer.status_code == 202
    service.queue.run_due()
    assert service.repos.checkout_head() == after
    assert (service.output / "public" / "gap" / "actualites" / "expo.html").is_file()
    assert (service.output / "public" / "gap" / "actualites" / "bal.html").is_file()


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_done(unbuilt: Service) -> None:
    jobs_before = len(unbuilt.jobs())
    before, after = unbuilt.repos.change({"lyon/posts/x.md": post("Piège", "2026-02-06")})
    body, headers = github_push(before, after, "not-our-secret")
    refused = unbuilt.client.post("/hooks/git", content=body, headers=headers)
    assert refused.status_code == 401
    assert "signature" in refused.json()["error"].lower()
    body, headers = github_push(before, after, SECRET)
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert unbuilt.client.post("/hooks/git", content=body, headers=unsigned).status_code == 401
    tampered = body.replace(b'"benevole"', b'"benevolf"')
    assert unbuilt.client.post("/hooks/git", content=tampered,
                               headers=headers).status_code == 401
    assert unbuilt.client.post("/hooks/git", content=body).status_code == 401  # no forge
    unbuilt.queue.run_due()
    assert len(unbuilt.jobs()) == jobs_before
    assert unbuilt.count(webhook_deliveries) == 0
    assert unbuilt.repos.checkout_head() == before


def test_malformed_json_is_a_400(unbuilt: Service) -> None:
    body = b'{"ref": "refs/heads/main", '
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = unbuilt.client.post("/hooks/git", content=body, headers={
        "X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature}"})
    assert answer.status_code == 400
    assert "JSON" in answer.json()["error"]
    assert unbuilt.count(webhook_deliveries) == 0


def test_ping_and_other_events_are_answered_and_ignored(unbuilt: Service) -> None:
    jobs_before = len(unbuilt.jobs())
    for event, status in (("ping", "pong"), ("issues", "ignored")):
        body = json.dumps({"zen": "Design for failure.", "hook_id": 1}).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        answer = unbuilt.client.post("/hooks/git", content=body, headers={
            "X-GitHub-Event": event, "X-GitHub-Delivery": f"d-{event}",
            "X-Hub-Signature-256": f"sha256={signature}"})
        assert answer.status_code == 200
        assert answer.json()["status"] == status
    assert len(unbuilt.jobs()) == jobs_before


def test_a_delivery_seen_before_is_ignored(unbuilt: Service) -> None:
    before, after = unbuilt.repos.change({"lyon/posts/y.md": post("Atelier", "2026-02-07")})
    first = unbuilt.push(before, after, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    again = unbuilt.push(before, after, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert first.status_code == 202
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert [job["kind"] for job in unbuilt.jobs()].count("sync") == 1


def test_tags_deletions_and_other_branches_are_ignored(unbuilt: Service) -> None:
    jobs_before = len(unbuilt.jobs())
    head = unbuilt.repos.head()
    before, after = unbuilt.repos.change({"lyon/posts/z.md": post("Essai", "2026-02-08")},
                                         branch="essai")
    for answer in (unbuilt.push(head, ZERO, ref="refs/tags/v1"),
                   unbuilt.push(head, ZERO),  # the published branch deleted
                   unbuilt.push(before, after, ref="refs/heads/essai")):
        assert answer.status_code == 200
        assert answer.json()["status"] == "ignored"
    unbuilt.queue.run_due()
    assert len(unbuilt.jobs()) == jobs_before
    assert unbuilt.count(webhook_deliveries) == 3
    assert unbuilt.repos.checkout_head() == head


def test_local_changes_in_the_checkout_are_never_overwritten(service: Service) -> None:
    post_path = "lyon/posts/bienvenue.md"
    local = service.repos.checkout / post_path
    local.write_text(post("Modifié sur le serveur", "2026-01-10"), encoding="utf-8")
    before, after = service.repos.change({post_path: post("Bienvenue !", "2026-01-10")})
    delivery = "0b5d3c1e-9d1e-4f8e-8a55-3a8f2f6f7e10"
    assert service.push(before, after, delivery=delivery).status_code == 202
    service.queue.run_due()
    sync = service.jobs()[-1]
    assert sync["kind"] == "sync" and sync["status"] == "failed"
    (error,) = json.loads(sync["errors"])
    assert "modifications locales" in error["message"] and "bienvenue.md" in error["message"]
    assert "Modifié sur le serveur" in local.read_text(encoding="utf-8")
    assert service.repos.checkout_head() == before

    # The webmaster sets the local change aside, then presses the forge's "Redeliver".
    git(service.repos.checkout, "checkout", "--", post_path)
    again = service.push(before, after, delivery=delivery)
    assert again.status_code == 202 and again.json()["job"] != sync["id"]
    service.queue.run_due()
    assert service.repos.checkout_head() == after
    assert service.push(before, after, delivery=delivery).json()["status"] == "duplicate"


def test_without_a_secret_every_webhook_is_refused(tmp_path: Path) -> None:
    repos = small_network(tmp_path / "git", ("lyon",))
    for service in start_service(tmp_path, repos, built=False, webhook_secret=None):
        before, after = repos.change({"lyon/posts/a.md": post("A", "2026-02-09")})
        answer = service.push(before, after)
        assert answer.status_code == 503
        assert "AVF_WEBHOOK_SECRET" in answer.json()["error"]
        assert service.count(webhook_deliveries) == 0


def test_a_content_folder_that_is_no_checkout_is_a_503(tmp_path: Path) -> None:
    repos = small_network(tmp_path / "git", ("lyon",))
    plain = ContentRepos(repos.origin, repos.volunteer, tmp_path / "copie")
    shutil.copytree(repos.checkout, plain.checkout, ignore=shutil.ignore_patterns(".git"))
    for service in start_service(tmp_path, plain, built=False):
        before, after = repos.change({"lyon/posts/a.md": post("A", "2026-02-09")})
        answer = service.push(before, after)
        assert answer.status_code == 503
        assert "n'est pas un dépôt git" in answer.json()["error"]
        assert service.count(webhook_deliveries) == 0  # a redelivery will be accepted


def test_a_body_over_the_limit_is_refused(unbuilt: Service,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "MAX_BODY_BYTES", 1000)
    head = unbuilt.repos.head()
    body, headers = github_push(head, head, SECRET)
    body = body[:-1] + b', "padding": "' + b"x" * 1000 + b'"}'
    assert unbuilt.client.post("/hooks/git", content=body, headers=headers).status_code == 413


@pytest.mark.parametrize("name", sorted(SIGNED["requests"]))
def test_each_real_forge_sample(tmp_path: Path, name: str) -> None:
    """The samples come from other repositories: when their branch is the published one
    they are accepted, and the sync refuses their commit, which origin does not have."""
    repos = small_network(tmp_path / "git", ("lyon",), branch="master")
    for service in start_service(tmp_path, repos, built=False,
                                 webhook_secret=SIGNED["secret"]):
        body = (FIXTURES / name).read_bytes()
        headers = {k: v for k, v in SIGNED["requests"][name]["headers"].items()
                   if not k.startswith("_")}
        jobs_before = len(service.jobs())
        flipped = bytearray(body)
        flipped[-3] ^= 0x01  # inside the closing whitespace or brace: JSON may break
        refused = service.client.post("/hooks/git", content=bytes(flipped), headers=headers)
        if "X-Gitlab-Token" in headers:  # a token, not a signature: see test_forges
            assert refused.status_code in (202, 400)
        else:
            assert refused.status_code == 401
        answer = service.client.post("/hooks/git", content=body, headers=headers)
        tag_deletion = name == "github/push.octokit.json"
        if tag_deletion:
            assert (answer.status_code, answer.json()["status"]) == (200, "ignored")
        elif refused.status_code == 202:  # the token-only GitLab sample, already queued
            assert (answer.status_code, answer.json()["status"]) == (200, "duplicate")
        else:
            assert (answer.status_code, answer.json()["status"]) == (202, "queued")
        head = repos.checkout_head()
        service.queue.run_due()
        assert repos.checkout_head() == head
        syncs = [job for job in service.jobs()[jobs_before:] if job["kind"] == "sync"]
        assert all(job["status"] == "failed" and "introuvable" in job["log"] for job in syncs)
        assert len(syncs) == (0 if tag_deletion else 1)
        assert not [job for job in service.jobs()[jobs_before:] if job["kind"] == "build"]


def test_a_burst_of_ten_pushes_gives_at_most_two_builds(tmp_path: Path) -> None:
    repos = small_network(tmp_path / "git", ("lyon",))
    # The coalescing delay is longer than one push takes, even on a loaded machine.
    for service in start_service(tmp_path, repos, build_delay=2.0):
        service.queue.start()
        try:
            for n in range(10):
                before, after = repos.change(
                    {f"lyon/posts/rafale-{n}.md": post(f"Rafale {n}", "2026-03-01")})
                assert service.push(before, after).status_code == 202
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and any(
                    job["status"] in ("queued", "running") for job in service.jobs()):
                time.sleep(0.05)
        finally:
            service.queue.stop()
        jobs = service.jobs()
        builds = [job for job in jobs if job["kind"] == "build" and job["city"] == "lyon"]
        assert 1 <= len(builds) <= 2
        assert all(job["status"] == "done" for job in jobs)
        assert repos.checkout_head() == after
        assert (service.output / "public" / "lyon" / "actualites" / "rafale-9.html").is_file()
