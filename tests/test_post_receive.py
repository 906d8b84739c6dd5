"""A self-hosted bare repository with no forge: its post-receive hook (deploy/post-receive,
installed for real and run by a real `git push`) queues the push in the service's
database, and the service's queue publishes it."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, post, service_settings
from content_repo import ContentRepos, git, small_network
from sqlalchemy import select

from avf.cli import main
from avf.service.queue import BuildQueue
from avf.store import connect, migrate
from avf.store.schema import build_jobs


@pytest.fixture
def repos(tmp_path: Path) -> ContentRepos:
    return small_network(tmp_path / "git", ("lyon",))


def install_hook(repos: ContentRepos) -> None:
    """What the webmaster does on the server (deploy/post-receive says how)."""
    hook = repos.origin / "hooks" / "post-receive"
    shutil.copy(PROJECT_ROOT / "deploy" / "post-receive", hook)
    hook.chmod(0o755)


@pytest.fixture
def queue(tmp_path: Path, repos: ContentRepos) -> BuildQueue:
    settings = service_settings(tmp_path, repos.checkout, run_workers=False)
    engine = connect(settings.database_url)
    migrate(engine)
    queue = BuildQueue(engine, settings)
    queue.request(["*"], "première construction")
    queue.run_due()
    return queue


def hook_environment(tmp_path: Path, repos: ContentRepos) -> dict[str, str]:
    """What the git user's environment gives the hook: the service's data and checkout."""
    return {"AVF_COMMAND": f"{sys.executable} -m avf.cli", "PYTHONPATH": str(PROJECT_ROOT),
            "AVF_CONTENT": str(repos.checkout), "AVF_DATA_DIR": str(tmp_path / "var"),
            "AVF_SECRET_KEY": "test-secret-key"}


def push(repos: ContentRepos, environment: dict[str, str], *refs: str) -> str:
    return git(repos.volunteer, "push", "origin", *refs, env=environment)


def jobs(queue: BuildQueue) -> list[dict[str, object]]:
    with queue.engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            select(build_jobs).order_by(build_jobs.c.id)).mappings()]


def test_a_push_to_the_bare_repository_is_published(tmp_path: Path, repos: ContentRepos,
                                                    queue: BuildQueue) -> None:
    install_hook(repos)
    (repos.volunteer / "lyon" / "posts" / "loto.md").write_text(
        post("Grand loto", "2026-02-10", body="Samedi à 14 h."), encoding="utf-8")
    git(repos.volunteer, "add", "-A")
    git(repos.volunteer, "commit", "-q", "-m", "Le loto")
    said = push(repos, hook_environment(tmp_path, repos), "main")
    assert "remote: AVF : mise en ligne programmée (synchronisation n° 2)" in said
    sync = jobs(queue)[-1]
    assert (sync["kind"], sync["status"]) == ("sync", "queued")
    assert sync["commit"] == git(repos.volunteer, "rev-parse", "HEAD")

    queue.run_due()  # what the service's worker does on its next look at the table
    assert repos.checkout_head() == sync["commit"]
    page = queue.settings.public_dir / "lyon" / "actualites" / "loto.html"
    assert "Samedi à 14 h." in page.read_text(encoding="utf-8")
    assert [(job["kind"], job["city"], job["status"]) for job in jobs(queue)[-2:]] == [
        ("sync", "*", "done"), ("build", "lyon", "done")]


def test_tags_and_other_branches_are_not_published(tmp_path: Path, repos: ContentRepos,
                                                   queue: BuildQueue) -> None:
    install_hook(repos)
    git(repos.volunteer, "tag", "v1")
    git(repos.volunteer, "checkout", "-q", "-b", "brouillon")
    environment = hook_environment(tmp_path, repos)
    assert "remote: AVF : étiquette v1 : rien à construire." in push(repos, environment, "v1")
    said = push(repos, environment, "brouillon")
    assert "remote: AVF : branche brouillon : seule la branche main est publiée." in said
    assert [job["kind"] for job in jobs(queue)] == ["build"]  # the first build only


def test_the_command_reads_gits_lines(tmp_path: Path, repos: ContentRepos, queue: BuildQueue,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in hook_environment(tmp_path, repos).items():
        monkeypatch.setenv(name, value)
    before, after = repos.change({"lyon/posts/chorale.md": post("Chorale", "2026-02-11")})
    monkeypatch.setenv("GIT_DIR", str(repos.origin))  # as git sets it for a hook
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{before} {after} refs/heads/main\n"))
    assert main(["hook", "post-receive", "--content", str(repos.checkout)]) == 0
    assert "mise en ligne programmée" in capsys.readouterr().out
    sync = jobs(queue)[-1]
    assert (sync["kind"], sync["commit"], sync["status"]) == ("sync", after, "queued")
    queue.run_due()
    assert repos.checkout_head() == after

    monkeypatch.setattr(sys, "stdin", io.StringIO("pas une ligne de git\n"))
    assert main(["hook", "post-receive", "--content", str(repos.checkout)]) == 1
    assert "AVF : rien n'est publié : ligne inattendue" in capsys.readouterr().err
