"""Writing in a discussion, the same way for a post's comments and a topic's replies: the
checks in order, each with its answer, then the comment kept (and the thread told).

Order: the honeypot (a robot is answered as if all went well, and nothing is kept), the
city's ban list (403), the text (400), the rate limits per member and per IP (429), the
comment replied to (404 unless it is a visible one of the same thread), then the
moderation decision and the comment saved in one transaction with its mails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from avf.content.model import City
from avf.service.comment_store import add_comment, load_comment, top_of_thread
from avf.service.discussion import (
    BANNED,
    HONEYPOT,
    PER_IP,
    PER_MEMBER,
    DiscussionRefused,
    decide,
    is_banned,
    render_text,
    text_error,
)
from avf.service.discussion_mail import notify_thread
from avf.service.form_text import one_line, text_block
from avf.service.people import Person
from avf.service.post_authors import post_author_id
from avf.service.ratelimit import RateLimiter
from avf.service.runtime import runtime
from avf.service.settings import ServiceSettings
from avf.service.threads import ThreadRef

RETRY_AFTER = 60 * 60  # seconds: the hourly window
TOO_MANY = ("Vous avez écrit beaucoup de messages en peu de temps : pour protéger les "
            "discussions des envois en masse, les prochains attendront un peu. Réessayez "
            "dans une heure ; votre message est ci-dessous, pour le garder.")
NO_PARENT = "Le commentaire auquel vous répondez n'existe pas ou plus."

# The page again, with an error and the typed text: (error, text, status) → page
FormAgain = Callable[[str, str, int], Response]


@dataclass(frozen=True)
class Where:
    """A thread to write in: its city, target, title and page (where to come back)."""

    city: City
    target: str
    thread: ThreadRef
    also_tell: tuple[int | None, ...] = ()  # a topic's author


def spam_or_refusal(request: Request, city: City, person: Person, form: FormData,
                    texts: Iterable[str], form_again: FormAgain,
                    back: str) -> Response | None:
    """The first checks of the module's docstring (honeypot, ban, text, rate limits): the
    answer when one refuses, None when the text may go on."""
    if one_line(form.get(HONEYPOT)):
        return RedirectResponse(back, status_code=303)
    state = runtime(request)
    body = "\n".join(texts)
    with state.engine.connect() as connection:
        banned = is_banned(connection, city.slug, person.id)
    if banned:
        return form_again(BANNED, body, 403)
    for text in texts:
        error = text_error(text)
        if error is not None:
            return form_again(error, body, 400)
    limiter = RateLimiter(state.engine, state.settings.secret_key)
    ip = request.client.host if request.client else "unknown"
    # Both attempts are recorded, whichever refuses (no short-circuit).
    allowed = [limiter.allow(PER_MEMBER, f"person:{person.id}"),
               limiter.allow(PER_IP, f"ip:{ip}")]
    if not all(allowed):
        response = form_again(TOO_MANY, body, 429)
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response
    return None


def write_comment(request: Request, where: Where, person: Person, form: FormData,
                  form_again: FormAgain, on_visible: Callable[..., None] | None = None,
                  ) -> Response:
    """Check and keep a comment (or reply) of `where`; 303 to the thread's page."""
    body = text_block(form.get("message"))
    refused = spam_or_refusal(request, where.city, person, form, [body], form_again,
                              where.thread.url)
    if refused is not None:
        return refused
    state = runtime(request)
    parent_id = _parent(request, where, form.get("parent"))
    now = datetime.now(UTC)
    try:
        with state.engine.begin() as connection:
            decision = decide(connection, where.city.slug, person.id, [body],
                              staff=person.can("admin", where.city.slug))
            add_comment(connection, where.city.slug, where.target, person.id, body,
                        render_text(body), decision.status, decision.held_reason,
                        parent_id=parent_id, now=now)
            if decision.status == "visible":
                tell_thread(connection, state.settings, where, person.id, now)
                if on_visible is not None:
                    on_visible(connection, now)
    except DiscussionRefused as refused_now:  # banned meanwhile
        return form_again(str(refused_now), body, 403)
    state.mail.wake()
    done = "publie" if decision.status == "visible" else "attente"
    return RedirectResponse(f"{where.thread.url}?fait={done}#commentaires", status_code=303)


def tell_thread(connection: Connection, settings: ServiceSettings, where: Where,
                author_id: int | None, now: datetime) -> int:
    """Mail the people of the thread, and a post's author, that a comment of `author_id`
    is now shown."""
    public_url = settings.public_url
    return notify_thread(
        connection, city=where.city.slug, city_name=where.city.name,
        target=where.target, author_id=author_id, title=where.thread.title,
        link=f"{public_url}{where.thread.url}#commentaires",
        profile_link=f"{public_url}/compte/profil", also=where.also_tell,
        owner=post_author_id(connection, settings.content_dir, where.city.slug, where.target),
        now=now)


def _parent(request: Request, where: Where, typed: object) -> int | None:
    """The comment a reply is attached to (the top of its thread), or None."""
    if typed in (None, ""):
        return None
    if not isinstance(typed, str) or not typed.isdigit():
        raise HTTPException(404, NO_PARENT)
    with runtime(request).engine.connect() as connection:
        parent = load_comment(connection, int(typed))
    if (parent is None or parent.city != where.city.slug or parent.target != where.target
            or parent.status != "visible"):
        raise HTTPException(404, NO_PARENT)
    return top_of_thread(parent)
