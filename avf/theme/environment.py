"""How Pelican compiles the theme's templates: every `{{ value }}` HTML-escaped.

Titles, authors, tags, places, a city's card… are plain text from the volunteers'
Markdown files and YAML cards; the sites are served on the service's own origin (sign-in,
editor), so a `<script>` or a `"` in one of them must reach the page as text, never as
markup, whichever way it came in (the web editor refuses markup, `git push` does not).
What is HTML on purpose is marked in the templates (`| safe`: a post's rendered body, the
map's SVG) or is already `Markup` (macros, `tojson`, blocks). Every template Pelican renders
through this environment is an HTML page: feeds, sitemaps, iCalendar and JSON files are
written by Python code (Pelican's feed writer, the avf_* plugins), each with its own
escaping.
"""

from __future__ import annotations

import logging
from typing import Any

import jinja2

# Read by pelicanconf.py (any Pelican run) and forced by avf/build/pelican_run.py.
JINJA_ENVIRONMENT: dict[str, Any] = {
    "trim_blocks": True, "lstrip_blocks": True, "extensions": [], "autoescape": True,
}


class BuildEnvironment(jinja2.Environment):
    """The Jinja environment Pelican's generators make during a build (`pelican_run`
    installs it): the same, except that listing the theme's templates costs nothing unless
    someone will read the list.

    Pelican lists every template of the theme and of its own "simple" theme each time it
    makes a generator (three per city) — a walk of both folders, ~3 ms a city — only to
    pass the list to a debug log line, its one use; the walk happened whatever the log
    level. The list is still complete whenever Pelican's debug log is on.
    """

    def list_templates(self, extensions: Any = None, filter_func: Any = None) -> list[str]:
        if not logging.getLogger("pelican.generators").isEnabledFor(logging.DEBUG):
            return []
        return super().list_templates(extensions, filter_func)
