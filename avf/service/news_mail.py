"""What a news mail says and links to: its template context (French, the city's name and
accent colour, absolute links through the service's public address), its one-click
unsubscribe headers (RFC 8058) and the token in them.

**The unsubscribe token** is the person's id signed with the service's secret
(itsdangerous, its own salt), without expiry: a link in a mail from last year must still
work, and all it can ever do is turn that person's news off. Changing AVF_SECRET_KEY
voids every link (the profile page still works).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer

from avf.content.model import City
from avf.service.news_schedule import PARIS
from avf.service.publications_log import NETWORK
from avf.service.settings import ServiceSettings

if TYPE_CHECKING:
    from avf.service.news import News, Recipient

UNSUBSCRIBE_PATH = "/compte/desabonnement"
PROFILE_PATH = "/compte/profil"
_SALT = "avf-news-unsubscribe"
# The theme's palette (themes/avf/static/css/avf.css): mails cannot load the stylesheet.
ACCENT_COLOURS = {"bleu": "#1f4e8c", "vert": "#2e6b30", "bordeaux": "#8a1c3b",
                  "violet": "#5b3a8c", "ocre": "#8a4b08", "sarcelle": "#0f6066"}
NETWORK_COLOUR = "#0b4f8a"  # the mails' own layout colour
RHYTHMS = {"digest": "au plus deux fois par semaine, le mardi et le vendredi",
           "weekly": "une fois par semaine, le vendredi",
           "each": "à chaque nouvelle publication"}


def unsubscribe_token(person_id: int, email: str, secret: str) -> str:
    """The person's id and a short digest of their address, signed: an id given again to
    someone else later (a deleted account's, on SQLite) does not match that address."""
    return str(URLSafeSerializer(secret, salt=_SALT).dumps([person_id, address_tag(email)]))


def person_of_token(token: str, secret: str) -> tuple[int, str] | None:
    """The person id and address digest a token was made for, or None for a token this
    service did not sign (the caller checks the digest against the person's address)."""
    try:
        value = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and type(value[0]) is int
            and isinstance(value[1], str)):
        return None
    return value[0], value[1]


def address_tag(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def unsubscribe_url(person_id: int, email: str, settings: ServiceSettings) -> str:
    token = unsubscribe_token(person_id, email, settings.secret_key)
    return f"{settings.public_url}{UNSUBSCRIBE_PATH}/{token}"


def news_headers(person_id: int, email: str, settings: ServiceSettings) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click` to the
    HTTPS address. No `mailto:` alternative: nothing here reads incoming mail."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(person_id, email, settings)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def news_context(recipient: Recipient, news: News, cards: dict[str, City | None],
                 settings: ServiceSettings, frequency: str) -> dict[str, object]:
    """The template context: items grouped « Votre AVF » (per city), « Vos groupes »,
    « Le réseau AVF », each with an absolute link."""
    site = _origin(settings.public_url)
    names = {slug: card.name if card else slug for slug, card in cards.items()}
    main = recipient.cities[0]
    main_card = cards.get(main)
    cities = []
    for slug in recipient.cities:
        items = [_item(row, site) for row in news.publications if row["city"] == slug]
        if items:
            cities.append({"name": names[slug], "items": items,
                           "home": f"{site}/{slug}/", "members": f"{site}/membres/{slug}/"})
    network = [_item(row, site) for row in news.publications if row["city"] == NETWORK]
    topics = [{"title": row["title"], "group": row["group_name"], "city": names.get(
        str(row["city"]), str(row["city"])),
        "url": f"{site}/membres/{row['city']}/groupes/{row['group_slug']}/sujets/{row['id']}"}
        for row in news.topics]
    count = sum(len(city["items"]) for city in cities) + len(network) + len(topics)  # type: ignore[arg-type,misc]
    only = _only_title(cities, network, topics) if count == 1 else None
    return {
        "name": recipient.name, "city_name": names[main],
        "colour": ACCENT_COLOURS.get(main_card.accent if main_card else "", NETWORK_COLOUR),
        "cities": cities, "topics": topics, "network": network, "count": count,
        "only_title": only, "frequency": frequency, "rhythm": RHYTHMS[frequency],
        "unsubscribe": unsubscribe_url(recipient.person_id, recipient.email, settings),
        "profile": f"{site}{PROFILE_PATH}",
    }


def _item(row: dict[str, object], site: str) -> dict[str, object]:
    return {"title": row["title"], "summary": row["summary"],
            "url": f"{site}{row['url']}", "members_only": row["visibility"] == "members",
            "date": _french_date(row["published_on"])}


def _only_title(*sections: list[dict[str, object]]) -> str | None:
    for section in sections:
        for entry in section:
            items = entry.get("items")
            if isinstance(items, list) and items:
                return str(items[0]["title"])
            if "items" not in entry:
                return str(entry["title"])
    return None


def _french_date(value: object) -> str:
    """`dd/mm/yyyy` in Paris time (a post dated 26 November at midnight, +01:00, is stored
    as 25 November 23:00 UTC)."""
    return value.astimezone(PARIS).strftime("%d/%m/%Y") if isinstance(value, datetime) else ""


def _origin(url: str) -> str:
    """`https://avf.fr/x` → `https://avf.fr`: stored URLs are paths from the host's root."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
