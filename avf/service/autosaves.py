"""What a person typed in the editor and did not save yet: one row per person, city and
text (`editor_autosaves`), replaced at each autosave, removed by a committed save or when
the person discards it. Never a commit: the repository only holds what was saved.

A new text has no path yet: its row is keyed `new:<autosave_key>`, the random key the
edit page gives the form, and the "new text" page finds the person's latest one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select, update

from avf.content.values import PARIS
from avf.editor.drafts import DraftError, read_draft
from avf.editor.form import form_values
from avf.store.schema import editor_autosaves

NEW_PREFIX = "new:"
KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TEXT = 250_000  # characters: the form's body cap (200,000) and its fields


@dataclass(frozen=True)
class Autosave:
    """A version a person did not save: the whole file's text, the version it started
    from, and when it was kept."""

    path: str  # "posts/x.md", or "new:<key>"
    base: str
    text: str
    saved_at: datetime

    @property
    def key(self) -> str:
        """The form's `autosave_key` for a new text ("" for a saved one)."""
        return self.path.removeprefix(NEW_PREFIX) if self.path.startswith(NEW_PREFIX) else ""

    def form_values(self) -> dict[str, str]:
        """The form's fields as the person left them ({} if the text cannot be read)."""
        try:
            return form_values(read_draft(self.text))
        except DraftError:
            return {}

    def as_json(self) -> str:
        """What the edit page's script reads to fill the form back (embedded in the page
        as `application/json`, never run); `<` is escaped so it cannot close the tag."""
        data = {"values": self.form_values(), "key": self.key,
                "when": int(self.saved_at.timestamp() * 1000)}
        return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def autosave_path(path: str, key: str) -> str | None:
    """The row's path: the file's, or `new:<key>` for a text not saved yet (None when the
    key is not one the edit page makes)."""
    if path:
        return path
    return f"{NEW_PREFIX}{key}" if KEY.match(key or "") else None


def keep_autosave(connection: Connection, person_id: int, city: str, path: str, base: str,
                  text: str, now: datetime | None = None) -> datetime:
    """Store (or replace) the person's unsaved version of `path`; return when."""
    moment = now or datetime.now(UTC)
    where = (editor_autosaves.c.person_id == person_id, editor_autosaves.c.city == city,
             editor_autosaves.c.path == path)
    changed = connection.execute(update(editor_autosaves).where(*where).values(
        base=base, text=text, saved_at=moment)).rowcount
    if not changed:
        connection.execute(insert(editor_autosaves).values(
            person_id=person_id, city=city, path=path, base=base, text=text, saved_at=moment))
    return moment


def find_autosave(engine: Engine, person_id: int, city: str, path: str,
                  committed_at: datetime | None = None) -> Autosave | None:
    """The person's unsaved version of `path` ("" = their latest new text of the city),
    if it is newer than the committed version (`committed_at`, None: there is none).

    The edit page calls this when it opens, and shows `service/editor/_writing.html`'s
    banner ("Reprendre la version non enregistrée du …") with it."""
    query = select(editor_autosaves).where(editor_autosaves.c.person_id == person_id,
                                           editor_autosaves.c.city == city)
    if path:
        query = query.where(editor_autosaves.c.path == path)
    else:
        query = query.where(editor_autosaves.c.path.startswith(NEW_PREFIX, autoescape=True))
    with engine.connect() as connection:
        row = connection.execute(
            query.order_by(editor_autosaves.c.saved_at.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    saved_at = row["saved_at"]
    if committed_at is not None and saved_at <= committed_at:
        return None
    return Autosave(row["path"], row["base"], row["text"], saved_at)


def forget_autosave(connection: Connection, person_id: int, city: str, path: str) -> None:
    """Remove the person's unsaved version of `path` (after a committed save, or when
    they discard it). `path` may be `new:<key>`."""
    connection.execute(delete(editor_autosaves).where(
        editor_autosaves.c.person_id == person_id, editor_autosaves.c.city == city,
        editor_autosaves.c.path == path))


def french_time(moment: datetime) -> str:
    """« 14 h 32 », Paris time."""
    local = moment.astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}"


def french_moment(moment: datetime) -> str:
    """« 5 mars à 14 h 32 », Paris time."""
    local = moment.astimezone(PARIS)
    return f"{local.day} {_MONTHS[local.month - 1]} à {french_time(moment)}"


_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")

