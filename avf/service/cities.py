"""The cities as the service sees them: each card (`content/<city>/city.yaml`) read from the
content checkout and kept until the file changes, and the template context that gives a
service page the city's header and footer."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from avf.content.cards import read_city_card
from avf.content.model import RESERVED_SLUGS, SLUG_PATTERN, City
from avf.content.problems import ContentError

log = logging.getLogger(__name__)

# The city site's own addresses, as pelicanconf.py names them (tests compare the two).
AGENDA_URL = "agenda/"
AGENDA_ICS_SAVE_AS = "agenda.ics"


class CardUnreadable(Exception):
    """The city exists but its card is invalid, and no valid version was ever read."""


@dataclass(frozen=True)
class _Read:
    stamp: tuple[int, int, int]  # (mtime_ns, size, inode) of city.yaml when it was read
    city: City


class CityCards:
    """City cards read from `content_dir`, each read again only when its file changes."""

    def __init__(self, content_dir: Path):
        self.content_dir = content_dir
        self._cards: dict[str, _Read] = {}
        self._lock = threading.Lock()  # handlers run in the thread pool too

    def get(self, slug: str) -> City | None:
        """The city's card, or None when there is no such city.

        A card that became invalid (a volunteer's typo, pushed) is answered with the last
        valid version read, so the contact form of a city stays open while its card is
        being fixed; CardUnreadable when there never was a valid one.
        """
        if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
            return None
        path = self.content_dir / slug / "city.yaml"
        try:
            status = path.stat()
        except OSError:
            with self._lock:
                self._cards.pop(slug, None)
            return None
        stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
        with self._lock:
            known = self._cards.get(slug)
        if known is not None and known.stamp == stamp:
            return known.city
        try:
            city = read_city_card(path, f"{slug}/city.yaml", slug)
        except ContentError as error:
            log.warning("city card of %s is invalid (%s); %s", slug, error.problem,
                        "keeping the last valid one" if known else "none valid was ever read")
            if known is None:
                raise CardUnreadable(slug) from error
            return known.city
        with self._lock:
            self._cards[slug] = _Read(stamp, city)
        return city


    def find(self, slug: str) -> City | None:
        """The card, or None when there is no such city or no valid card was ever read
        (for lists and mails, which simply leave that city out)."""
        try:
            return self.get(slug)
        except CardUnreadable:
            return None

    def name(self, slug: str) -> str:
        """The name on the city's card (« AVF Lyon »), or the slug when there is no valid
        card: a page must not fail because a volunteer broke city.yaml."""
        try:
            city = self.get(slug)
        except CardUnreadable:
            return slug
        return city.name if city else slug


def city_page_context(city: City) -> dict[str, object]:
    """What base.html needs to draw a service page as a page of `city`'s site: the names
    the build gives Pelican (avf/build/city_settings.py), with the public card only, never
    the welcome team's address. URLs are root-relative: the service and the sites share
    one host."""
    return {
        "SITENAME": city.name,
        "SITEURL": f"/{city.slug}",
        "AVF_CITY": city.public_card(),
        "AVF_MEMBERS_URL": f"/membres/{city.slug}",
        "AGENDA_URL": AGENDA_URL,
        "AGENDA_ICS_SAVE_AS": AGENDA_ICS_SAVE_AS,
    }


def render_city_page(request: Request, city: City, template: str, context: dict[str, object],
                     status_code: int = 200) -> Response:
    """A service page drawn as a page of the city's site (its name, menu and footer)."""
    from avf.service.runtime import runtime  # the runtime imports this module

    return runtime(request).templates.render(
        request, template, {**city_page_context(city), **context}, status_code=status_code)


def city_of_request(request: Request, unknown: str, broken: str) -> City:
    """The city named by the path's `city`: 404 (`unknown`) when the network has none,
    503 (`broken`) when its card was never readable. Each page says it in its own words."""
    from avf.service.runtime import runtime

    try:
        city = runtime(request).cities.get(request.path_params["city"])
    except CardUnreadable:
        raise HTTPException(503, broken) from None
    if city is None:
        raise HTTPException(404, unknown)
    return city
