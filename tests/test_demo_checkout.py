"""The embedded default's content repository: seeded once from the sample, then kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import post, write_city

from avf.demo.checkout import editable_content


def log(folder: Path) -> list[str]:
    return subprocess.run(["git", "log", "--format=%s"], cwd=folder, capture_output=True,
                          text=True, check=True).stdout.splitlines()


def test_the_sample_is_copied_into_a_repository_of_its_own(tmp_path: Path) -> None:
    sample = tmp_path / "content"
    write_city(sample, "lyon", {"posts/a.md": post("A")})
    content = editable_content(sample, tmp_path / "var")
    assert content == tmp_path / "var" / "content"
    assert (content / "lyon" / "posts" / "a.md").read_text() == post("A")
    assert log(content) == ["Contenu d'exemple du réseau AVF"]
    assert not (sample / ".git").exists()  # the sample itself is untouched


def test_the_repository_and_its_edits_are_kept_across_starts(tmp_path: Path) -> None:
    sample = tmp_path / "content"
    write_city(sample, "lyon", {"posts/a.md": post("A")})
    content = editable_content(sample, tmp_path / "var")
    (content / "lyon" / "posts" / "a.md").write_text(post("Modifié"))
    (sample / "lyon" / "posts" / "b.md").write_text(post("B"))
    assert editable_content(sample, tmp_path / "var") == content
    assert "Modifié" in (content / "lyon" / "posts" / "a.md").read_text()
    assert not (content / "lyon" / "posts" / "b.md").exists()
