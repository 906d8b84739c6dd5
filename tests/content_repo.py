"""Real git repositories for the webhook and queue tests: a bare `origin` (the forge), a
volunteer's clone that commits and pushes with `git push`, and the service's content
checkout cloned from origin. Plus signed webhook requests, as a forge would send them."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from conftest import CITY_YAML, post, write

ZERO = "0" * 40
GIT_ENV = {"GIT_AUTHOR_NAME": "Bénévole AVF", "GIT_AUTHOR_EMAIL": "benevole@avf.example",
           "GIT_COMMITTER_NAME": "Bénévole AVF", "GIT_COMMITTER_EMAIL": "benevole@avf.example",
           "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in `cwd`; its output, stripped (a failure raises, with git's message)."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV, **(env or {})}, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr}")
    return (result.stdout + result.stderr).strip()


@dataclass
class ContentRepos:
    origin: Path  # bare, as on the forge
    volunteer: Path  # a clone where a volunteer commits and pushes
    checkout: Path  # the service's content checkout (its origin is `origin`)
    branch: str = "main"  # the published branch

    def change(self, files: dict[str, str | None], message: str = "Mise à jour",
               branch: str | None = None) -> tuple[str, str]:
        """Commit `files` (None deletes one) in the volunteer's clone and `git push` them
        to `branch` (default: the published one); return its (before, after) on origin."""
        branch = branch or self.branch
        git(self.volunteer, "checkout", "-q", "-B", branch)
        before = self.head(branch)
        for relative, text in files.items():
            path = self.volunteer / relative
            if text is None:
                git(self.volunteer, "rm", "-q", "-r", relative)
            else:
                write(path, text)
                git(self.volunteer, "add", relative)
        git(self.volunteer, "commit", "-q", "-m", message)
        git(self.volunteer, "push", "-q", "origin", branch)
        return before, git(self.volunteer, "rev-parse", "HEAD")

    def head(self, branch: str | None = None) -> str:
        branch = branch or self.branch
        try:
            return git(self.origin, "rev-parse", f"refs/heads/{branch}")
        except RuntimeError:
            return ZERO

    def checkout_head(self) -> str:
        return git(self.checkout, "rev-parse", "HEAD")


def content_repos(root: Path, cities: dict[str, dict[str, str]],
                  branch: str = "main") -> ContentRepos:
    """A network (`_network` and `cities`, each {path in the city: text}) pushed to a bare
    origin, then cloned as the service's checkout."""
    root.mkdir(parents=True, exist_ok=True)
    origin, volunteer, checkout = root / "origin.git", root / "volunteer", root / "checkout"
    git(root, "init", "-q", "--bare", "-b", branch, str(origin))
    git(root, "init", "-q", "-b", branch, str(volunteer))
    git(volunteer, "remote", "add", "origin", str(origin))
    write(volunteer / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    for slug, files in cities.items():
        write(volunteer / slug / "city.yaml",
              CITY_YAML.format(slug=slug, title=slug.replace("-", " ").title()))
        for relative, text in files.items():
            write(volunteer / slug / relative, text)
    git(volunteer, "add", "-A")
    git(volunteer, "commit", "-q", "-m", "Le réseau")
    git(volunteer, "push", "-q", "origin", branch)
    git(root, "clone", "-q", str(origin), str(checkout))
    return ContentRepos(origin, volunteer, checkout, branch)


def small_network(root: Path, slugs: tuple[str, ...] = ("lyon", "gap"),
                  branch: str = "main") -> ContentRepos:
    """A network of small cities (a card and one post each)."""
    return content_repos(root, {slug: {"posts/bienvenue.md": post(f"Bienvenue à {slug}",
                                                                  "2026-01-10")}
                                for slug in slugs}, branch)


def github_push(before: str, after: str, secret: str, ref: str = "refs/heads/main",
                delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers GitHub sends for a push, signed with `secret`."""
    body = json.dumps({
        "ref": ref, "before": before, "after": after, "created": before == ZERO,
        "deleted": after == ZERO, "forced": False, "commits": [],
        "repository": {"full_name": "avf/contenu"},
        "pusher": {"name": "benevole", "email": "benevole@avf.example"},
    }).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/1.0",
                  "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                  "X-Hub-Signature-256": f"sha256={signature}"}


def release_of(output: Path, slug: str) -> str:
    """Which release of a city is online (where its public link points)."""
    return os.readlink(output / "public" / slug)
