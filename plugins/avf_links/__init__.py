"""Resolve the relative links volunteers write (`../pages/adherer.md`) to built URLs.

Markdown editors write plain relative links; Pelican only resolves its own `{filename}` and
`{static}` markers. Right after a post or page is read, this plugin rewrites each relative
`href`/`src` into the marker Pelican understands, so Pelican turns it into the final URL.
Validation (avf.content.loader) has already checked that every target exists.
"""

from __future__ import annotations

import re
from typing import Any

from pelican import signals

from avf.content.links import is_relative_file_link

_ATTRIBUTE = re.compile(r"""(?P<name>\b(?:href|src))=(?P<quote>["'])(?P<value>[^"']*)(?P=quote)""")
_DOCUMENT_SUFFIXES = (".md", ".markdown")


def rewrite_relative_links(html: str) -> str:
    """`href="../pages/a.md"` → `href="{filename}../pages/a.md"`; files → `{static}`."""

    def replace(match: re.Match[str]) -> str:
        value = match.group("value")
        if not is_relative_file_link(value):
            return match.group(0)
        path = value.split("#", 1)[0].split("?", 1)[0]
        marker = "{filename}" if path.lower().endswith(_DOCUMENT_SUFFIXES) else "{static}"
        quote = match.group("quote")
        return f"{match.group('name')}={quote}{marker}{value}{quote}"

    return _ATTRIBUTE.sub(replace, html)


def on_content_init(content: Any) -> None:
    if getattr(content, "_content", None):
        content._content = rewrite_relative_links(content._content)


def register() -> None:
    signals.content_object_init.connect(on_content_init)
