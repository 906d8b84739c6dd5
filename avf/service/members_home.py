"""The members' home of a city, `/membres/<city>/`: its latest member-only posts, its next
events (public and member-only), its member-only pages, its groups, and the way to the
directory, to "Je déménage" and, for its admins and moderators, to the management pages.

For the people who may read the city's members' area (`can("member", city)`); everyone
else gets what members.py gives for any member file (sign-in, 403, or 404 for a URL that
is not a city's). The lists come from the build (home_data.py), never from the content.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from avf.content.model import City
from avf.service.cities import city_page_context
from avf.service.groups import city_groups, moderated_groups
from avf.service.members import MISSING, PRIVATE, check_members_url
from avf.service.permissions import require_role
from avf.service.runtime import Runtime, runtime

LATEST_POSTS = 8
NEXT_EVENTS = 8


def members_home(request: Request) -> Response:
    slug = request.path_params["city"]
    check_members_url(request, slug)
    person = require_role(request, "member", slug)
    state = runtime(request)
    home = state.home_data.get(slug)
    city = _card(state, slug)
    if home is None and city is None:
        raise HTTPException(404, MISSING)  # no such city, built or in the content
    now = datetime.now(UTC)
    with state.engine.connect() as connection:
        groups = city_groups(connection, slug)
        moderates = person.can("admin", slug) or bool(moderated_groups(connection, slug,
                                                                       person.id))
    context: dict[str, object] = city_page_context(city) if city else {}
    response = state.templates.render(request, "service/members_home.html", {
        **context,
        "city_slug": slug,
        "city_name": city.name if city else slug,
        "home": home,
        "posts": home.posts[:LATEST_POSTS] if home else (),
        "more_posts": home is not None and len(home.posts) > LATEST_POSTS,
        "events": home.upcoming(now)[:NEXT_EVENTS] if home else (),
        "manages": person.can("admin", slug),
        # url → slug of the events taking registrations (event_data.py)
        "registrable": {item.url: item.slug for item in state.events_data.get(slug).values()},
        "groups": groups,
        "moderates": moderates,
    })
    response.headers.update(PRIVATE)
    return response


def _card(state: Runtime, slug: str) -> City | None:
    """The city's card, or None (no such city, or a card never valid: the page then shows
    the slug, as the members' files of the last build are still online)."""
    return state.cities.find(slug)


routes = [Route("/membres/{city}/", members_home)]
