"""One-click unsubscribe from the news mails, without signing in (RFC 8058).

- `GET /compte/desabonnement/<token>`: a page with one button; changes nothing (mail
  scanners and link previews open links: a GET must not unsubscribe).
- `POST /compte/desabonnement/<token>`: turns the person's news off (`news_by_email =
  false`, `news_consent_at` = now: consent withdrawn) and says how to subscribe again.

The POST comes either from the page's button or from a mail client acting on the
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` header, which posts
`List-Unsubscribe=One-Click` with no cookie and no `Origin`. So it takes neither the CSRF
token nor the Origin check of every other form: the signed token in the URL
(`news_mail.person_of_token`) is what authenticates it. That is safe because this
endpoint can do only one thing — stop mails to the token's owner — which a forged
cross-site POST could at worst do to someone whose private link it already knows. The
body is not read. A token this service did not sign is a French 404.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from avf.service.news_mail import (
    PROFILE_PATH,
    UNSUBSCRIBE_PATH,
    address_tag,
    person_of_token,
)
from avf.service.runtime import runtime
from avf.store.schema import people, profiles

BAD_LINK = ("Ce lien de désabonnement n'est pas valable : il a peut-être été coupé en deux "
            "dans votre messagerie. Vous pouvez aussi arrêter les nouvelles depuis votre "
            "profil, après connexion.")


def stop_news(connection: Connection, person_id: int, now: datetime | None = None) -> bool:
    """Turn the person's news mails off; return whether they were on. The consent's date
    becomes the withdrawal's (see profiles.py); already off, nothing changes."""
    return bool(connection.execute(
        update(profiles).where(profiles.c.person_id == person_id,
                               profiles.c.news_by_email.is_(True))
        .values(news_by_email=False, news_consent_at=now or datetime.now(UTC),
                updated_at=now or datetime.now(UTC))).rowcount)


def confirm_page(request: Request) -> Response:
    person_id = _person(request)
    with runtime(request).engine.connect() as connection:
        subscribed = bool(connection.execute(
            select(profiles.c.news_by_email).where(profiles.c.person_id == person_id)).scalar())
    return _render(request, "confirm" if subscribed else "done")


def unsubscribe(request: Request) -> Response:
    person_id = _person(request)
    with runtime(request).engine.begin() as connection:
        stop_news(connection, person_id)
    return _render(request, "done")


def _person(request: Request) -> int:
    """The person the link was made for — if they still exist with that address."""
    signed = person_of_token(str(request.path_params["token"]),
                             runtime(request).settings.secret_key)
    if signed is None:
        raise HTTPException(404, BAD_LINK)
    person_id, tag = signed
    with runtime(request).engine.connect() as connection:
        email = connection.execute(select(people.c.email).where(
            people.c.id == person_id)).scalar()
    if email is None or not hmac.compare_digest(address_tag(email), tag):
        raise HTTPException(404, BAD_LINK)
    return person_id


def _render(request: Request, step: str) -> Response:
    return runtime(request).templates.render(request, "service/unsubscribe.html", {
        "step": step, "action": request.url.path, "profile": PROFILE_PATH})


routes = [
    Route(f"{UNSUBSCRIBE_PATH}/{{token}}", confirm_page, methods=["GET"]),
    Route(f"{UNSUBSCRIBE_PATH}/{{token}}", unsubscribe, methods=["POST"]),
]
