"""Atom feeds with summaries and links, not whole posts.

Pelican puts every post's full HTML in the Atom feed; readers of a city's news follow the
link to the site anyway, and the full text made each city's feed ~90 KB instead of ~10 KB
(a third of the network's output on its own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pelican import signals


def keep_summaries(context: dict[str, Any], feed: Any) -> None:
    for item in feed.items:
        item["content"] = None
    if not feed.items and context.get("AVF_NOW"):
        # An empty feed is "updated" now; use the build's now, not the clock's, so that
        # the same content always gives the same bytes.
        built_at = datetime.fromisoformat(context["AVF_NOW"])
        feed.latest_post_date = lambda: built_at


def register() -> None:
    signals.feed_generated.connect(keep_summaries)
