"""What the browser tests need, found once: Debian's Chromium (Playwright's own browser
downloads are never used) and, for the editor, its built bundle. Missing here, a test is
skipped; missing in CI (`CI` set), it fails — `.ci/run` and `./run` install both."""

from __future__ import annotations

import os
import shutil

import pytest

from avf.service.editor_static import EditorBundle

CHROMIUM = shutil.which("chromium") or next(
    (path for path in ("/usr/bin/chromium",) if os.access(path, os.X_OK)), None)


def require(present: object, what: str, install: str) -> None:
    """Skip (or fail in CI) when `what` is missing; `install` says how to get it."""
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing: {install} before the tests")
        pytest.skip(f"{what} is missing ({install}); CI runs this test")


def require_chromium() -> str:
    require(CHROMIUM, "chromium", "apt-get install chromium (.ci/run does)")
    return str(CHROMIUM)


def require_editor_browser() -> str:
    """Chromium and the editor's bundle (built by ./run's node step)."""
    require_chromium()
    require(EditorBundle().files(), "the editor bundle", "./run builds it")
    return str(CHROMIUM)
