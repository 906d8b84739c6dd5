"""The embedded default's own content repository: the web editor commits every save, so the
sample network is served from a git repository of its own under the data folder — never
from the project's `content/`, whose repository is the project itself (a demo save must not
land as a commit in the developer's branch).

Made once, on the first `avf serve` with the sample content (a copy of `content/` and one
commit); reused afterwards, so the demo's edits and their history stay. Delete the folder
to start again from the sample.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SAMPLE_AUTHOR = {"GIT_AUTHOR_NAME": "Réseau AVF", "GIT_AUTHOR_EMAIL": "contenu@noreply.avf.invalid",
                 "GIT_COMMITTER_NAME": "Réseau AVF",
                 "GIT_COMMITTER_EMAIL": "contenu@noreply.avf.invalid"}


def editable_content(sample: Path, data_dir: Path) -> Path:
    """`data_dir/content`, a git repository seeded from `sample` the first time."""
    target = data_dir / "content"
    if (target / ".git").exists():
        return target
    staging = data_dir / f".content-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(sample, staging, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    make_repository(staging, "Contenu d'exemple du réseau AVF")
    data_dir.mkdir(parents=True, exist_ok=True)
    staging.rename(target)
    return target


def make_repository(folder: Path, message: str) -> None:
    """Turn `folder` into a git repository (branch main) holding its files in one commit;
    nothing is done when it already is one."""
    if (folder / ".git").exists():
        return
    environment = {**os.environ, **SAMPLE_AUTHOR, "GIT_CONFIG_NOSYSTEM": "1"}
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["commit", "-q", "--no-verify", "-m", message]):
        subprocess.run(["git", *command], cwd=folder, env=environment, check=True,
                       capture_output=True)
