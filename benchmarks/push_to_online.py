"""`python -m benchmarks.push_to_online`: the time from a volunteer's `git push` of one new
post to that post being served online, through the whole chain — the forge's signed
webhook over real HTTP, the service's sync (fetch, move the checkout, diff), the build of
the one city touched, its atomic publication, and a GET of the new page.

The network is the project's sample content (`content/`), pushed to a bare "origin"; the
service runs in this process under uvicorn on a loopback port with its real queue worker.
Each round commits one new post to one city, times `git push` + the webhook + polling the
page over HTTP (every 5 ms) until it answers 200, and reads the jobs' own times from the
database. Rounds are AVF_BUILD_DELAY apart (a lone change: the queue builds it at once;
a push that follows another within the delay waits for it). The first push after the
service starts is reported apart.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import uvicorn
from sqlalchemy import func, select

from avf.build.options import PROJECT_ROOT
from avf.service import ServiceSettings, create_app
from avf.store.schema import build_jobs

SECRET = "benchmark-webhook-secret"
CITY = "lyon"
BURST = 10  # pushes in a row, each with its webhook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--delay", type=float, action="append",
                        help="AVF_BUILD_DELAY values to measure (default: 0 and 3)")
    parser.add_argument("--content", type=Path, default=PROJECT_ROOT / "content")
    args = parser.parse_args()
    rows = [measure(args.content, delay, args.rounds) for delay in (args.delay or [0.0, 3.0])]
    print("| build delay | first push after start | median of "
          f"{args.rounds} | min | max | of which sync | of which build | burst of {BURST}: "
          "builds of the city | burst: last post online after |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(row)


def measure(content: Path, delay: float, rounds: int) -> str:
    with tempfile.TemporaryDirectory(prefix="avf-push-") as work:
        root = Path(work)
        volunteer, checkout = _repositories(content, root)
        port = _free_port()
        settings = ServiceSettings.from_environ(
            checkout, root / "output", public_url=f"http://127.0.0.1:{port}",
            environ={"AVF_DATA_DIR": str(root / "var"), "AVF_WEBHOOK_SECRET": SECRET,
                     "AVF_BUILD_DELAY": str(delay), "AVF_BUILD_JOBS": "2"})
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            _wait_for(lambda: server.started, 10)
            queue = app.state.runtime.builds
            queue.request(["*"], "première construction")
            _wait_for(lambda: _idle(queue), 300)
            first, *timed = [_round(volunteer, port, n, queue, delay)
                             for n in range(rounds + 1)]
            time.sleep(delay)
            builds, burst_seconds = _burst(volunteer, port, queue)
        finally:
            server.should_exit = True
            thread.join(10)
    totals = [total for total, _, _ in timed]
    return (f"| {delay:g} s | {first[0]:.2f} s | {statistics.median(totals):.2f} s | "
            f"{min(totals):.2f} s | {max(totals):.2f} s | "
            f"{statistics.median(s for _, s, _ in timed):.3f} s | "
            f"{statistics.median(b for _, _, b in timed):.3f} s | {builds} | "
            f"{burst_seconds:.2f} s |")


def _burst(volunteer: Path, port: int, queue) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """BURST pushes in a row: (builds of the city they gave, seconds from the first push to
    the last post online)."""
    with queue.engine.connect() as connection:
        last_job = connection.execute(select(func.max(build_jobs.c.id))).scalar_one()
    started = time.perf_counter()
    for number in range(BURST):
        _push(volunteer, port, *_commit_post(volunteer, f"rafale-{number}"))
    while not _online(_url(port, f"rafale-{BURST - 1}")):
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    _wait_for(lambda: _idle(queue), 60)
    with queue.engine.connect() as connection:
        builds = connection.execute(select(func.count()).where(
            build_jobs.c.id > last_job, build_jobs.c.kind == "build",
            build_jobs.c.city == CITY)).scalar_one()
    return int(builds), seconds


def _round(volunteer: Path, port: int, number: int, queue,  # type: ignore[no-untyped-def]
           delay: float) -> tuple[float, float, float]:
    """One push of one new post: (seconds to online, sync job seconds, build job seconds).
    Pushes are `delay` apart: a lone change, not a burst (a burst's later pushes wait)."""
    time.sleep(delay)
    slug = f"mesure-{number}"
    before, after = _commit_post(volunteer, slug)
    started = time.perf_counter()
    _push(volunteer, port, before, after)
    while not _online(_url(port, slug)):
        time.sleep(0.005)
    total = time.perf_counter() - started
    _wait_for(lambda: _idle(queue), 60)
    with queue.engine.connect() as connection:
        rows = connection.execute(select(build_jobs.c.kind, build_jobs.c.seconds)
                                  .where(build_jobs.c.commit == after)).all()
    sync = sum(seconds or 0 for kind, seconds in rows if kind == "sync")
    build = sum(seconds or 0 for kind, seconds in rows if kind == "build")
    return total, sync, build


def _commit_post(volunteer: Path, slug: str) -> tuple[str, str]:
    """A volunteer commits one new post; return the branch's (before, after)."""
    (volunteer / CITY / "posts" / f"{slug}.md").write_text(
        f'---\ntitle: "{slug}"\ndate: 2026-01-15\n---\n\nUne ligne de plus.\n',
        encoding="utf-8")
    _git(volunteer, "add", "-A")
    _git(volunteer, "commit", "-q", "-m", slug)
    before, after = _git(volunteer, "rev-parse", "HEAD~1", "HEAD").split()
    return before, after


def _push(volunteer: Path, port: int, before: str, after: str) -> None:
    """`git push`, then the webhook the forge sends once it has the commits."""
    _git(volunteer, "push", "-q", "origin", "main")
    _webhook(port, before, after)


def _url(port: int, slug: str) -> str:
    return f"http://127.0.0.1:{port}/{CITY}/actualites/{slug}.html"


def _repositories(content: Path, root: Path) -> tuple[Path, Path]:
    """A bare origin holding `content`, a volunteer's clone and the service's checkout."""
    origin, volunteer, checkout = root / "origin.git", root / "volunteer", root / "checkout"
    _git(root, "init", "-q", "--bare", "-b", "main", str(origin))
    shutil.copytree(content, volunteer)
    _git(volunteer, "init", "-q", "-b", "main")
    _git(volunteer, "add", "-A")
    _git(volunteer, "commit", "-q", "-m", "Le réseau")
    _git(volunteer, "remote", "add", "origin", str(origin))
    _git(volunteer, "push", "-q", "origin", "main")
    _git(root, "clone", "-q", str(origin), str(checkout))
    return volunteer, checkout


def _webhook(port: int, before: str, after: str) -> None:
    """What GitHub sends after the push: a signed push event."""
    body = json.dumps({"ref": "refs/heads/main", "before": before, "after": after,
                       "pusher": {"name": "benevole"}}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/hooks/git", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push",
                 "X-GitHub-Delivery": str(uuid.uuid4()),
                 "X-Hub-Signature-256": f"sha256={signature}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.status != 202:
            raise RuntimeError(f"webhook answered {answer.status}: {answer.read()!r}")


def _online(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200
    except urllib.error.HTTPError:
        return False


def _idle(queue) -> bool:  # type: ignore[no-untyped-def]
    with queue.engine.connect() as connection:
        return connection.execute(select(build_jobs.c.id).where(
            build_jobs.c.status.in_(("queued", "running")))).first() is None


def _wait_for(condition, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the service did not get there in time")
        time.sleep(0.01)


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", "-c", "user.name=Bénévole", "-c", "user.email=b@avf.example",
                             *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":  # build workers come from a fork server that imports this module
    main()
