"""Atom feeds with summaries and links, not whole posts.

Pelican puts every post's full HTML in the Atom feed; readers of a city's news follow the
link to the site anyway, and the full text made each city's feed ~90 KB instead of ~10 KB
(a third of the network's output on its own).

An Atom summary is HTML (`type="html"`): Pelican puts there the front matter's `summary`,
which is plain text, as it is; it is escaped here, so that a `<` in it stays a character in
every feed reader (the start of the body, used when there is no summary, is HTML already).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from pelican import signals

NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def keep_summaries(context: dict[str, Any], feed: Any) -> None:
    texts = _text_summaries(context)
    for item in feed.items:
        item["content"] = None
        text = texts.get(item.get("link") or "")
        if text is not None and item.get("description") == text:
            item["description"] = html.escape(text, quote=False)
    if not feed.items:
        # An empty feed would say "updated now" and change at every build (a new file for
        # caches and rsync each time): it has never been updated, say so with a constant.
        feed.latest_post_date = lambda: NEVER


def _text_summaries(context: dict[str, Any]) -> dict[str, str]:
    """The front matter summary (text) of each post, by its address as the feed links it."""
    site = str(context.get("SITEURL", "")).rstrip("/")
    return {f"{site}/{article.url}": article.metadata["summary"]
            for article in context.get("articles", [])
            if isinstance(article.metadata.get("summary"), str)}


def register() -> None:
    signals.feed_generated.connect(keep_summaries)
