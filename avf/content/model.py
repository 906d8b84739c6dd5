"""The content model: what a city card, a post, a page and an event are once validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Top-level names of the public site that a city may not take as its slug.
RESERVED_SLUGS = frozenset(
    {"accessibilite", "actualites", "admin", "agenda", "api", "archives", "compte", "contact",
     "editeur", "etiquettes",
     "hooks", "index", "media", "membres", "pagefind", "recherche", "reseau", "rubriques",
     "static", "theme"}
)
# Addresses a city's site already uses, that a standing page may not take as its slug.
# The service's own members' pages (`/membres/<city>/annuaire/`…) are reserved too, since
# member-only pages are published under `/membres/<city>/<slug>/`.
RESERVED_PAGE_SLUGS = frozenset(
    {"accessibilite", "actualites", "adhesion", "agenda", "annuaire", "archives", "bloquer",
     "etiquettes", "commentaire", "commentaires", "contact", "gestion", "groupes", "index",
     "inscriptions", "media", "membres", "messages", "moderation", "pagefind", "recherche", "theme"}
)

# The theme's palette: every accent a city may choose (see themes/avf/static/css/avf.css).
ACCENTS = ("bleu", "vert", "bordeaux", "violet", "ocre", "sarcelle")

Status = Literal["draft", "review", "published", "unpublished"]
Visibility = Literal["public", "members"]
Kind = Literal["post", "page"]


@dataclass(frozen=True)
class City:
    """A city's card (city.yaml). `email` is for the service's relay only, never for pages."""

    slug: str
    name: str
    city: str
    postal_codes: tuple[str, ...]
    department: str
    department_code: str
    region: str
    email: str
    lat: float
    lon: float
    address: str | None = None
    phone: str | None = None
    tagline: str | None = None
    opening_hours: tuple[str, ...] = ()
    social: dict[str, str] = field(default_factory=dict)
    accent: str = "bleu"
    logo: str | None = None  # path relative to the city folder
    banner: str | None = None
    domain: str | None = None
    network_news: bool = True
    # Members may comment the public posts too (member-only posts always take comments).
    comments_on_public_posts: bool = False

    def site_url(self, base_url: str) -> str:
        """Where the city's site lives: the root of its own domain, else its sub-path."""
        return city_site_url(base_url, self.slug, self.domain)

    def public_card(self) -> dict[str, object]:
        """Everything a public page may show: the card without the email address."""
        return {
            "slug": self.slug,
            "name": self.name,
            "city": self.city,
            "postal_codes": list(self.postal_codes),
            "department": self.department,
            "department_code": self.department_code,
            "region": self.region,
            "lat": self.lat,
            "lon": self.lon,
            "address": self.address,
            "phone": self.phone,
            "tagline": self.tagline,
            "opening_hours": list(self.opening_hours),
            "social": dict(self.social),
            "accent": self.accent,
            "logo": self.logo,
            "banner": self.banner,
            "domain": self.domain,
            "network_news": self.network_news,
            "comments_on_public_posts": self.comments_on_public_posts,
        }


def city_site_url(base_url: str, slug: str, domain: str | None) -> str:
    """A city's public address without the final slash: `https://<domain>` when its card
    names a domain of its own (served at that domain's root, always over HTTPS), else
    `<base_url>/<slug>` — which keeps answering too (docs/architecture.md, *Custom
    domains*)."""
    return f"https://{domain}" if domain else f"{base_url.rstrip('/')}/{slug}"


@dataclass(frozen=True)
class Event:
    """When and where an event happens; `end` is after `start` when given."""

    start: datetime
    end: datetime | None = None
    all_day: bool = False  # written as a date without a time
    place: str | None = None
    registration: bool = False
    capacity: int | None = None

    @property
    def finishes(self) -> datetime:
        """When the event is over: its end, or the end of its (last) day if all-day."""
        last = self.end or self.start
        return last + timedelta(days=1) if self.all_day else last


@dataclass(frozen=True)
class Document:
    """A post or a page of one city, validated, with its Markdown body still as text."""

    kind: Kind
    source: Path
    shown_as: str  # how the volunteer knows the file: content/lyon/posts/x.md
    rel_path: str  # relative to the city folder: posts/x.md
    title: str
    slug: str
    body: str
    body_line: int
    date: datetime | None = None
    modified: datetime | None = None
    status: Status = "published"
    visibility: Visibility = "public"
    tags: tuple[str, ...] = ()
    category: str | None = None
    summary: str | None = None
    image: str | None = None  # relative to the city folder: media/x.jpg
    image_alt: str | None = None  # what the image shows, for readers who cannot see it
    image_line: int | None = None  # where `image:` is written
    author: str | None = None
    event: Event | None = None
    broadcast: bool = False
    order: int | None = None
    slug_line: int | None = None  # where `slug:` is written, when it is


    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def is_members_only(self) -> bool:
        return self.visibility == "members"
