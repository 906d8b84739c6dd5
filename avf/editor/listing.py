"""Every post and page of a city as the editor's list shows them: state, title, date, and
who changed it last and when.

The last change of every file comes from ONE `git log` over the city's folder (newest
first, the first commit naming a file is its last change), not one log per file: a city
with 200 texts costs one git process, not 200.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from git import GitCommandError

from avf.editor.checkout import Checkout, Version
from avf.editor.drafts import DraftError, read_draft
from avf.editor.paths import DOCUMENT_FOLDERS, documents_of
from avf.editor.workflow import STATES, status_of

LOG_LIMIT = 5_000  # commits of the city's folder read for the last changes (years of work)
SCHEDULED = "scheduled"  # a text waiting for its publication date (review + a schedule)


@dataclass(frozen=True)
class TextRow:
    """One line of the city's list."""

    rel: str  # "posts/2026-01-05-galette.md"
    kind: str  # post | page
    title: str
    date: str  # as written in the file ("" when none)
    state: str  # draft | review | scheduled | published | unpublished
    members_only: bool
    is_event: bool
    last_change: Version | None
    publish_at: datetime | None = None  # when scheduled

    @property
    def day(self) -> date | None:
        """The written date's day, for the list to say « 3 février 2026 » (None when the
        text has no readable date: the list shows what is written)."""
        try:
            return date.fromisoformat(self.date[:10])
        except ValueError:
            return None


def city_texts(checkout: Checkout, content_dir: Path, city: str,
               schedules: dict[str, datetime]) -> list[TextRow]:
    """The city's posts and pages, newest date first; `schedules`: rel → when the service
    publishes it."""
    folder = content_dir / city
    changes = last_changes(checkout, folder)
    rows = []
    for rel in documents_of(folder):
        text = _read(folder / rel)
        fields = _fields(text)
        state = status_of(text)
        when = schedules.get(rel)
        if when is not None and state == "review":
            state = SCHEDULED
        rows.append(TextRow(
            rel=rel, kind=DOCUMENT_FOLDERS[rel.split("/", 1)[0]],
            title=str(fields.get("title") or rel.rsplit("/", 1)[-1]),
            date=str(fields.get("date") or ""), state=state,
            members_only=str(fields.get("visibility") or "") in ("members", "membres"),
            is_event=isinstance(fields.get("event"), dict),
            last_change=changes.get(rel), publish_at=when))
    return sorted(rows, key=lambda row: (row.date, row.rel), reverse=True)


def last_changes(checkout: Checkout, folder: Path) -> dict[str, Version]:
    """rel path in `folder` → the newest commit that touched it (one git log)."""
    prefix = folder.resolve().relative_to(checkout.work_tree).as_posix()
    try:
        output = checkout.repo.git.log(
            f"--max-count={LOG_LIMIT}", "--name-only", "--no-renames",
            "--format=%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s", "--", prefix or ".")
    except GitCommandError:
        return {}
    found: dict[str, Version] = {}
    for record in output.split("\x1e"):
        head, _, names = record.partition("\n")
        if not head.strip():
            continue
        commit, name, email, when, message = head.split("\x1f", 4)
        version = Version(commit, name, email, datetime.fromisoformat(when).astimezone(UTC),
                          message)
        for path in names.splitlines():
            path = path.strip()
            if not path:
                continue
            rel = path[len(prefix) + 1:] if prefix else path
            found.setdefault(rel, version)
    return found


def group_order(admin: bool) -> tuple[str, ...]:
    """The order of the list's groups: what waits for them first."""
    if admin:
        return ("review", "draft", SCHEDULED, "published", "unpublished")
    return ("draft", "review", SCHEDULED, "published", "unpublished")


GROUP_TITLES = {"draft": "Brouillons", "review": "À relire", SCHEDULED: "Programmés",
                "published": "En ligne", "unpublished": "Dépubliés"}
STATE_LABELS = {**STATES, SCHEDULED: "Programmé"}


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _fields(text: str | None) -> dict[str, object]:
    if text is None:
        return {}
    try:
        return read_draft(text).fields
    except DraftError:
        return {}
