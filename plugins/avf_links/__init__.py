"""Resolve the relative links volunteers write (`../pages/adherer.md`) to built URLs.

Markdown editors write plain relative links; Pelican only resolves its own `{filename}` and
`{static}` markers. Right after a post or page is read, this plugin rewrites each relative
`href`/`src`: a link to a published text of the city becomes its final URL at once (the
build knows every text and where it is published: avf.render.addresses); anything else
(media, an address it cannot tell) becomes the marker Pelican understands, and Pelican
turns it into the final URL. Validation (avf.content.loader) has already checked that
every target exists.

Why not leave every link to Pelican: it looks each one up through several path
normalisations (`Content._link_replacer`), ~60 µs a link (~3 % of a city's build).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from pelican import signals

from avf.content.links import is_relative_file_link

_ATTRIBUTE = re.compile(r"""(?P<name>\b(?:href|src))=(?P<quote>["'])(?P<value>[^"']*)(?P=quote)""")
_DOCUMENT_SUFFIXES = (".md", ".markdown")
# What a link may hold for this plugin to write its URL itself: a path and a `#fragment`.
# Anything else (a query, `%` escapes, parameters) is left to Pelican, which knows them.
_PLAIN = re.compile(r"^(?P<path>[^?#;%&]+)(?P<fragment>#[^?#]+)?$")

Resolver = Callable[[str], "str | None"]


def rewrite_relative_links(html: str, resolve: Resolver = lambda path: None) -> str:
    """`href="../pages/a.md"` → its URL when `resolve` knows it, else
    `href="{filename}../pages/a.md"`; files → `{static}`."""

    def replace(match: re.Match[str]) -> str:
        value = match.group("value")
        if not is_relative_file_link(value):
            return match.group(0)
        path = value.split("#", 1)[0].split("?", 1)[0]
        quote = match.group("quote")
        if path.lower().endswith(_DOCUMENT_SUFFIXES):
            plain = _PLAIN.match(value)
            url = resolve(plain.group("path")) if plain else None
            if plain and url is not None:
                fragment = plain.group("fragment") or ""
                return f"{match.group('name')}={quote}{url}{fragment}{quote}"
            marker = "{filename}"
        else:
            marker = "{static}"
        return f"{match.group('name')}={quote}{marker}{value}{quote}"

    return _ATTRIBUTE.sub(replace, html)


def document_resolver(content: Any) -> Resolver:
    """The URL of a published text of the city, from a path relative to `content`'s file
    (AVF_DOCUMENT_URLS: avf.render.addresses.published_urls, given by the build)."""
    urls = content.settings.get("AVF_DOCUMENT_URLS")
    source = getattr(content, "source_path", None)
    if not urls or not source:
        return lambda path: None
    folder = os.path.dirname(source)
    return lambda path: urls.get(os.path.normpath(os.path.join(folder, path)))


def on_content_init(content: Any) -> None:
    if getattr(content, "_content", None):
        content._content = rewrite_relative_links(content._content, document_resolver(content))


def register() -> None:
    signals.content_object_init.connect(on_content_init)
