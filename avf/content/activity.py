"""When a city counts as dormant: nothing published on its public site for six months.

A dormant (or brand-new) city's home leads with how to reach it rather than with an old or
empty news list. The rule lives here, without Pelican, because two places must agree on
it: the theme's plugin (what the home shows) and the build (when an unchanged city must
be rebuilt because it has just become dormant).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from avf.content.model import Document

DORMANT_AFTER = timedelta(days=183)  # six months


def newest_public_post(documents: Iterable[Document]) -> datetime | None:
    """The date of the newest published public post, or None if there is none."""
    dates = [doc.date for doc in documents
             if doc.kind == "post" and doc.is_published and not doc.is_members_only
             and doc.date is not None]
    return max(dates, default=None)


def is_dormant(newest: datetime | None, now: datetime) -> bool:
    """Nothing public ever, or nothing for six months."""
    return newest is None or newest + DORMANT_AFTER <= now


def dormant_from(newest: datetime | None, now: datetime) -> datetime | None:
    """When an active city becomes dormant if it publishes nothing more (None: it already
    is, or never will without a new post)."""
    if newest is None or is_dormant(newest, now):
        return None
    return newest + DORMANT_AFTER
