"""The one-line fields volunteers type (a title, a summary, a place, a photo's
description…) are text, but the theme writes them into pages as they are: Pelican's
templates do not escape (a title may carry HTML for whoever pushes to git), and the city
sites are served from the service's own address. A `<script>` in a reporter's title, once
published, would run for every visitor — a signed-in webmaster included.

So whatever the editor writes holds no markup in those fields: no `<` or `>`, no HTML
character code (`&lt;` turns back into `<` where the theme strips tags, in `<title>`), and
no straight double quote in the fields the theme puts inside an attribute (the summary in
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
