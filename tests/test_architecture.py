"""The dependency rule of docs/architecture.md, checked on the imports themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "avf"


def imports_of(package: str) -> dict[str, set[str]]:
    """Top-level modules imported by each file of avf/<package>."""
    found: dict[str, set[str]] = {}
    for path in (PACKAGE / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[path.relative_to(PACKAGE.parent).as_posix()] = names
    return found


def test_content_imports_nothing_of_ours_and_no_pelican() -> None:
    for path, names in imports_of("content").items():
        outside = {n for n in names if n.startswith(("avf.", "pelican"))
                   and not n.startswith("avf.content")}
        assert not outside, f"{path} imports {outside}"


@pytest.mark.parametrize("package", ["build", "demo", "theme"])
def test_packages_never_import_upwards(package: str) -> None:
    forbidden = ("avf.cli", "avf.serve", "avf.service")
    for path, names in imports_of(package).items():
        assert not {n for n in names if n.startswith(forbidden)}, path


def test_the_editor_core_never_imports_the_service() -> None:
    """avf/editor/ (paths, files, git, workflow, preview) works without the web service:
    the service's pages call it, never the other way round."""
    for path, names in imports_of("editor").items():
        assert not {n for n in names if n.startswith(("avf.service", "avf.cli"))}, path


def test_store_and_mail_stand_alone() -> None:
    for path, names in imports_of("store").items():
        assert not {n for n in names if n.startswith("avf.") and not n.startswith("avf.store")}, \
            path
    for path, names in imports_of("mail").items():
        ours = {n for n in names if n.startswith("avf.")}
        assert not {n for n in ours
                    if not n.startswith(("avf.mail", "avf.store", "avf.workers"))}, path


def test_the_service_reaches_the_build_only_through_its_queue() -> None:
    """Only queue.py runs builds and writes to OUT; other modules may read the build's
    layout constants (where releases and the theme live) and which files it compresses
    (the static server gzips the others' kind on the fly)."""
    for path in (PACKAGE / "service").rglob("*.py"):
        if path.name == "queue.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("avf.build"):
                imported = [alias.name for alias in node.names]
                assert node.module in ("avf.build.options", "avf.build.publish",
                                       "avf.build.precompress") and all(
                    name.isupper() for name in imported), (path.name, node.module, imported)
