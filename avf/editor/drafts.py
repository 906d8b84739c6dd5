"""A post or page as the editor's form sees it (fields + Markdown body), and back to the file.

The file stays the source of truth and stays readable by a person with a text editor: the
front matter is written in the content format's order (title, date, status…), one field a
line, plain scalars unquoted where YAML allows it, and fields the form does not show
(`slug`, `modified`, `broadcast`…, or anything a webmaster wrote by hand) are kept where
they were. Scalars are read back as text, like the build's reader does, so what the form
wrote is what the build reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avf.content.frontmatter import FENCE, parse_front_matter
from avf.content.problems import ContentError
from avf.editor.yaml_text import dump_yaml

# The order fields are written in (the content format's own order); others follow.
FIELD_ORDER = ("title", "date", "modified", "slug", "status", "visibility", "author",
               "category", "tags", "summary", "image", "image_alt", "order", "broadcast",
               "event")
EVENT_ORDER = ("start", "end", "place", "registration", "capacity")


class DraftError(Exception):
    """The file cannot be split into fields and body (a broken header); says why in French."""


@dataclass
class Draft:
    """What the form edits. `fields` keeps every front-matter field, known or not."""

    fields: dict[str, Any] = field(default_factory=dict)
    body: str = ""

    @property
    def title(self) -> str:
        return str(self.fields.get("title") or "")

    @property
    def status(self) -> str:
        return str(self.fields.get("status") or "published")


def read_draft(text: str) -> Draft:
    """Split a file's text into fields and body; DraftError when the header is broken."""
    try:
        front = parse_front_matter(text.removeprefix("\ufeff"), "le fichier")
    except ContentError as error:
        raise DraftError(error.problem.message) from None
    body = front.body.removeprefix("\n") if front.body.startswith("\n") else front.body
    return Draft(dict(front.fields), body)


def write_draft(draft: Draft) -> str:
    """The file's text: `---`, the fields in order, `---`, a blank line, the body."""
    fields = {name: value for name, value in _ordered(draft.fields).items()
              if not _empty(value)}
    if isinstance(fields.get("event"), dict):
        fields["event"] = {name: value for name, value in _ordered(fields["event"],
                                                                   EVENT_ORDER).items()
                           if not _empty(value)}
    header = dump_yaml(fields)
    body = draft.body.replace("\r\n", "\n").strip("\n")
    return f"{FENCE}\n{header}{FENCE}\n\n{body}\n"


def _ordered(fields: dict[str, Any], order: tuple[str, ...] = FIELD_ORDER) -> dict[str, Any]:
    known = {name: fields[name] for name in order if name in fields}
    return {**known, **{name: value for name, value in fields.items() if name not in known}}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}
