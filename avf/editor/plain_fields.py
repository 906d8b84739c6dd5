"""The one-line fields volunteers type (a title, a summary, a place, a photo's
description…) are text. The theme escapes them (Jinja autoescaping, `avf/theme/
environment.py`) and the sites send a Content-Security-Policy; this check is the editor's
second line of defence, kept from before the theme escaped (a `<script>` in a reporter's
title would otherwise run for every visitor of a site served from the service's own
address, a signed-in webmaster included), and a guard for anyone reading the files with
other tools.

So whatever the editor writes holds no markup in those fields: no `<` or `>`, no HTML
character code (`&lt;` turns back into `<` wherever a tool strips tags), and no straight
double quote in the fields the theme puts inside an attribute (the summary in
`<meta name="description">`, the photo's description in `alt`). The body is Markdown, made
safe by the build (nh3); the city card's fields follow the same rule (avf.editor.card_form).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MARKUP = re.compile(r"[<>]|&[#A-Za-z]")
NO_MARKUP = ("les signes < et > (et les codes comme « &amp; ») ne sont pas permis ici : "
             "écrivez-le avec des mots, par exemple « moins de 10 »")
NO_QUOTE = ('les guillemets droits " ne sont pas permis ici : utilisez les guillemets '
            "français « … » ou des apostrophes")


def markup_problem(value: str, in_attribute: bool = False) -> str | None:
    """Why `value` cannot be written into a page as it is (French), or None."""
    if MARKUP.search(value):
        return NO_MARKUP
    if in_attribute and '"' in value:
        return NO_QUOTE
    return None


def first_problem(values: Iterable[object], in_attribute: bool = False) -> str | None:
    """The first problem of several values (a list of tags…)."""
    for value in values:
        problem = markup_problem(str(value), in_attribute)
        if problem:
            return problem
    return None
