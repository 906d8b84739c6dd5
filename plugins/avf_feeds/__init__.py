"""Atom feeds with summaries and links, not whole posts.

Pelican puts every post's full HTML in the Atom feed; readers of a city's news follow the
link to the site anyway, and the full text made each city's feed ~90 KB instead of ~10 KB
(a third of the network's output on its own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pelican import signals

NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def keep_summaries(context: dict[str, Any], feed: Any) -> None:
    for item in feed.items:
        item["content"] = None
    if not feed.items:
        # An empty feed would say "updated now" and change at every build (a new file for
        # caches and rsync each time): it has never been updated, say so with a constant.
        feed.latest_post_date = lambda: NEVER


def register() -> None:
    signals.feed_generated.connect(keep_summaries)
