"""Markdown to safe HTML: pulldown-cmark (through pyromark) then the nh3 sanitizer.

Why these: pulldown-cmark follows CommonMark with GitHub tables, the dialect every
Markdown editor writes, and is hundreds of times faster than Python-Markdown (which was
half of a city's build time). cmark-gfm was tried first: its Python wrapper never frees
what it renders (~12–45 KB per post), which a long-running build worker cannot afford.
nh3 (ammonia) removes scripts, event handlers and `javascript:` URLs from whatever HTML a
volunteer pastes: 350 sites must not be one paste away from an injected script.
French typography: "quotes" become « guillemets »; bare web addresses become links.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.metadata import version

import nh3
import pyromark

# Bumped whenever the HTML produced for the same Markdown changes (invalidates caches).
RENDERER_VERSION = f"pyromark-{version('pyromark')}-nh3-{version('nh3')}-1"

_MARKDOWN = pyromark.Markdown(
    options=pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_SMART_PUNCTUATION
)
_TAG = re.compile(r"(<[^>]*>)")
_OPENS_NO_LINK = re.compile(r"^<(a|code|pre)\b", re.IGNORECASE)
_CLOSES_NO_LINK = re.compile(r"^</(a|code|pre)\s*>", re.IGNORECASE)
_BARE_URL = re.compile(r"(?<![\w/\"'=])(https?://[^\s<>\"]*[^\s<>\".,;:!?)»])")
# Bodies whose HTML a process keeps: a warm process (`avf watch`, the service's build
# worker) rebuilds a whole city for one edited post, and the city's other bodies are the
# same text as last time. ~10 KB each: a few MB, bounded whatever the network's size.
RECENT_BODIES = 512
# A longer body is converted each time, never kept: whatever volunteers paste (a table
# from a word processor, a photo as text), the memo holds at most RECENT_BODIES bodies of
# this many characters and their HTML (a long page is ~20,000).
LONGEST_KEPT = 30_000


def markdown_to_html(text: str) -> str:
    """HTML of a post's Markdown body: CommonMark + tables, sanitized, French quotes.
    A pure function of the text (strings are immutable): a recent body's HTML is kept."""
    return convert(text) if len(text) > LONGEST_KEPT else _recent(text)


@lru_cache(maxsize=RECENT_BODIES)
def _recent(text: str) -> str:
    return convert(text)


def convert(text: str) -> str:
    """The conversion itself, kept by no memo (`markdown_to_html` keeps recent bodies)."""
    html = _link_bare_urls(_MARKDOWN.html(text))
    if "\u201c" in html or "\u201d" in html:  # str.replace is ~10× faster than translate
        html = html.replace("\u201c", "«\u00a0").replace("\u201d", "\u00a0»")
    return nh3.clean(html, link_rel=None)


def _link_bare_urls(html: str) -> str:
    """`https://…` written as plain text becomes a link (not inside links or code)."""
    if "http" not in html:
        return html
    parts = _TAG.split(html)
    depth = 0
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            if _OPENS_NO_LINK.match(part):
                depth += 1
            elif _CLOSES_NO_LINK.match(part):
                depth = max(0, depth - 1)
        elif depth == 0 and "http" in part:
            parts[index] = _BARE_URL.sub(r'<a href="\1">\1</a>', part)
    return "".join(parts)
