"""A deterministic synthetic AVF network for benchmarks: real communes, French pseudo-text,
posts, member posts, pages and media, written for `avf` (YAML front matter) or for stock
Pelican (`Key: value` headers). Standard library only, so any baseline can be fed with it.
"""

from __future__ import annotations

import json
import random
import re
import struct
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from avf.demo.communes import COMMUNES, Commune

Flavor = Literal["yaml", "pelican"]
FLAVORS: tuple[Flavor, ...] = ("yaml", "pelican")
NETWORK_DIR = "_network"
MEDIA_PER_CITY = 6
DISTINCT_IMAGES = 42
FIRST_DAY = date(2019, 1, 1)
LAST_DAY = date(2027, 12, 31)

_WORD_TEXT = (
    "accueil association adhérent bénévole ville quartier rencontre sortie visite atelier "
    "café rendez-vous nouveaux arrivants famille voisin marché musée randonnée conférence "
    "échange convivial découverte saison programme inscription permanence salle mairie "
    "jardin rivière patrimoine histoire cuisine lecture musique théâtre cinéma balade "
    "printemps automne hiver été matin après-midi soirée semaine mois année groupe équipe "
    "projet idée souvenir photo chemin place rue centre bibliothèque école enfant parent "
    "retraité étudiant professionnel conseil aide information journée fête repas partage "
    "amitié sourire accueillir découvrir partager proposer organiser rencontrer visiter "
    "apprendre échanger participer inviter préparer retrouver accompagner écouter "
    "présenter raconter chaleureux nouveau ancien petit grand beau simple agréable "
    "pratique ouvert gratuit local régional national traditionnel régulier joyeux calme "
    "animé ensoleillé pluvieux toujours souvent ensemble aussi ainsi encore vraiment "
    "bientôt ensuite enfin notamment également plutôt volontiers"
)
WORDS = tuple(_WORD_TEXT.split())
CONNECTORS = ("et", "avec", "pour", "dans", "sur", "de", "du", "des", "la", "le", "les",
              "un", "une", "en", "au", "aux", "par", "chez", "entre", "vers")
ACTIVITIES = (
    "Café d'accueil", "Randonnée", "Visite du musée", "Atelier cuisine",
    "Conversation anglaise", "Soirée jeux", "Sortie vélo", "Conférence", "Pique-nique",
    "Galette des rois", "Forum des associations", "Marché de Noël", "Atelier couture",
    "Club lecture", "Balade photo", "Repas partagé", "Visite guidée", "Journée découverte",
    "Concert", "Assemblée générale", "Atelier informatique", "Scrabble", "Chorale",
    "Sortie au théâtre",
)
OCCASIONS = (
    "de rentrée", "du printemps", "d'automne", "de fin d'année", "en famille",
    "entre adhérents", "au bord de l'eau", "du mardi", "du samedi", "des nouveaux arrivants",
    "au centre-ville", "à la campagne", "de l'été", "de l'hiver",
)
TAGS = ("sorties", "rencontres", "culture", "randonnée", "cuisine", "langues", "musée",
        "patrimoine", "jeux", "lecture", "musique", "nature", "accueil", "fêtes", "ateliers")
CATEGORIES = ("Vie de l'association", "Sorties", "Ateliers", "Accueil", "Culture")
AUTHORS = ("Hélène D.", "Marc L.", "Sophie R.", "Jean-Pierre M.", "Claire B.", "Nadia K.",
           "François T.", "Isabelle G.")
PLACES = ("Maison des associations", "Salle des fêtes", "Médiathèque", "Office de tourisme",
          "Parc municipal", "Centre culturel")
EXTRA_PAGES = (
    ("qui-sommes-nous", "Qui sommes-nous ?"), ("activites", "Nos activités"),
    ("permanences", "Nos permanences"), ("nous-rencontrer", "Nous rencontrer"),
    ("guide-nouveaux-arrivants", "Guide des nouveaux arrivants"),
    ("partenaires", "Nos partenaires"), ("benevolat", "Devenir bénévole"),
    ("saison", "La saison en cours"),
)
NETWORK_PAGES = (("a-propos", "À propos du réseau AVF"), ("adherer", "Adhérer à une AVF"),
                 ("devenir-benevole", "Devenir bénévole"))
NETWORK_NEWS = (("assemblee-generale-nationale", "Assemblée générale nationale", False),
                ("partenariat-offices-de-tourisme", "Un partenariat avec les offices de "
                 "tourisme", True),
                ("journee-nationale", "Journée nationale des nouveaux arrivants", True))
STREETS = ("de la République", "Victor-Hugo", "Jean-Jaurès", "Pasteur", "Gambetta",
           "Jules-Ferry", "Carnot", "de la Paix", "Émile-Zola", "du Marché")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi")
ACCENTS = ("bleu", "vert", "bordeaux", "violet", "ocre", "sarcelle")
LinkStyle = Callable[[str, str], str]  # (kind "page"|"post"|"media", relative path) -> target


@dataclass(frozen=True)
class CitySpec:
    """One synthetic city: the commune it is made from, its slug and name, its media."""

    commune: Commune
    slug: str
    name: str
    images: tuple[int, ...]  # ids of the network's distinct images, for photo-1..N


@dataclass(frozen=True)
class Post:
    """What other posts need to know about a post: its file name and title."""

    filename: str
    title: str
    public: bool


def write_corpus(out_dir: Path, cities: int = 350, posts: int = 32, member_posts: int = 5,
                 pages: int = 4, flavor: Flavor = "yaml", seed: int = 42) -> int:
    """Write a whole synthetic network into out_dir; return the number of files written."""
    if flavor not in FLAVORS:
        raise ValueError(f"flavor must be one of {FLAVORS}, got {flavor!r}")
    if cities < 1 or posts < 1 or member_posts < 0 or pages < 0:
        raise ValueError("need at least one city and one post; counts cannot be negative")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for spec in city_specs(cities, seed):
        written += _write_city(out_dir / spec.slug, spec, posts, member_posts, pages, flavor,
                               seed)
    written += _write_network(out_dir / NETWORK_DIR, flavor, seed)
    return written


def city_specs(count: int, seed: int = 42) -> list[CitySpec]:
    """The first `count` cities: communes spread over departments, then numbered repeats."""
    order = list(_spread_communes(seed))
    specs = []
    for index in range(count):
        commune = order[index % len(order)]
        round_ = index // len(order) + 1
        slug = commune.slug if round_ == 1 else f"{commune.slug}-{round_}"
        name = commune.name if round_ == 1 else f"{commune.name} {round_}"
        rng = random.Random(f"{seed}:media:{slug}")
        images = tuple(rng.sample(range(DISTINCT_IMAGES), MEDIA_PER_CITY))
        specs.append(CitySpec(commune, slug, name, images))
    return specs


def _spread_communes(seed: int) -> Iterator[Commune]:
    """Each department's biggest town first (departments in seeded order), then the next."""
    by_department: dict[str, list[Commune]] = {}
    for commune in COMMUNES:
        by_department.setdefault(commune.department_code, []).append(commune)
    for towns in by_department.values():
        towns.sort(key=lambda commune: (-commune.population, commune.slug))
    departments = sorted(by_department)
    random.Random(seed).shuffle(departments)
    for rank in range(max(len(towns) for towns in by_department.values())):
        for code in departments:
            if rank < len(by_department[code]):
                yield by_department[code][rank]


# --- one city -----------------------------------------------------------------------------


def _write_city(root: Path, spec: CitySpec, posts: int, member_posts: int, pages: int,
                flavor: Flavor, seed: int) -> int:
    """Write one city's folder (card, media, pages, posts); return the number of files."""
    rng = random.Random(f"{seed}:{spec.slug}")
    links = _link_style(flavor)
    count = 0
    if flavor == "yaml":
        _write(root / "city.yaml", city_yaml(spec, random.Random(f"{seed}:card:{spec.slug}")))
        count += 1
    for number, image in enumerate(spec.images, start=1):
        _write_bytes(root / "media" / f"photo-{number}.png", png_image(image))
        count += 1
    page_list = [("adherer", "Adhérer"), *EXTRA_PAGES]
    page_list += [(f"page-{n}", f"Page {n}") for n in range(len(page_list) + 1, pages + 1)]
    for order, (slug, title) in enumerate(page_list[:max(pages, 1)], start=1):
        fields, body = _page_text(rng, spec, title, slug, order, links)
        _write(root / "pages" / f"{slug}.md", _document(flavor, fields, body, slug))
        count += 1
    written: list[Post] = []
    days = _spread_dates(rng, posts + member_posts)
    members = set(rng.sample(range(len(days)), member_posts))
    for index, day in enumerate(days):
        post = _post(rng, spec, day, index in members, written, links, flavor)
        written.append(post[0])
        _write(root / "posts" / post[0].filename, post[1])
        count += 1
    return count


def city_yaml(spec: CitySpec, rng: random.Random) -> str:
    """The city's card, as documented in docs/content-format.md."""
    commune = spec.commune
    hours = sorted(rng.sample(WEEKDAYS, rng.randint(1, 3)), key=WEEKDAYS.index)
    lines = [
        f"name: {_q('AVF ' + spec.name)}",
        f"city: {_q(spec.name)}",
        f"slug: {_q(spec.slug)}",
        f"postal_code: {_q(commune.postal_code)}",
        f"department: {_q(commune.department)}",
        f"department_code: {_q(commune.department_code)}",
        f"region: {_q(commune.region)}",
        f"email: {_q(f'accueil@avf-{spec.slug}.example.org')}",
        f"lat: {commune.lat!r}",
        f"lon: {commune.lon!r}",
        f"address: {_q(_address(rng, spec))}",
        f"phone: {_q(f'0{rng.randint(1, 5)} {rng.randint(10, 99)} {rng.randint(10, 99)} 00 00')}",
        f"tagline: {_q(f'Bienvenue aux nouveaux arrivants, {spec.name} vous attend !')}",
        f"accent: {_q(rng.choice(ACCENTS))}",
        "opening_hours:",
        *(f"  - {_q(day + ' 14 h – 17 h')}" for day in hours),
    ]
    return "\n".join(lines) + "\n"


def _address(rng: random.Random, spec: CitySpec) -> str:
    """A plausible street address in the city."""
    return (f"Maison des associations, {rng.randint(1, 60)} rue {rng.choice(STREETS)}, "
            f"{spec.commune.postal_code} {spec.name}")


def _spread_dates(rng: random.Random, count: int) -> list[date]:
    """`count` distinct days between 2019 and 2027, in order."""
    span = (LAST_DAY - FIRST_DAY).days
    offsets = sorted(rng.sample(range(span + 1), count))
    return [FIRST_DAY + timedelta(days=offset) for offset in offsets]


def _post(rng: random.Random, spec: CitySpec, day: date, members_only: bool,
          earlier: Sequence[Post], links: LinkStyle, flavor: Flavor) -> tuple[Post, str]:
    """One post: its header fields and its body, in the wanted flavor."""
    title = f"{rng.choice(ACTIVITIES)} {rng.choice(OCCASIONS)}"
    slug = _unique_slug(slugify(title), {_stem(post.filename) for post in earlier})
    filename = f"{day.isoformat()}-{slug}.md"
    published_at = datetime.combine(day, datetime.min.time()) + timedelta(
        hours=rng.randint(8, 19), minutes=rng.choice((0, 15, 30, 45)))
    fields: dict[str, object] = {
        "title": title,
        "date": published_at.strftime("%Y-%m-%d %H:%M"),
        "tags": rng.sample(TAGS, rng.randint(1, 3)),
        "category": rng.choice(CATEGORIES),
        "summary": _sentence(rng, 14, 24),
        "author": rng.choice(AUTHORS),
    }
    if members_only:
        fields["visibility"] = "members"
    if rng.random() < 1 / 3:
        start = published_at.replace(hour=14, minute=0) + timedelta(days=rng.randint(3, 20))
        fields["event"] = {
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "end": (start + timedelta(hours=rng.randint(2, 4))).strftime("%Y-%m-%d %H:%M"),
            "place": f"{rng.choice(PLACES)}, {spec.name}",
        }
    public = [post for post in earlier if post.public]
    previous = rng.choice(public) if public else None
    body = _post_body(rng, spec, previous, links)
    return Post(filename, title, not members_only), _document(flavor, fields, body, slug)


def _post_body(rng: random.Random, spec: CitySpec, previous: Post | None,
               links: LinkStyle) -> str:
    """300–600 words: intro, 2–4 sections, a bullet list, bold, two links and an image."""
    target = rng.randint(300, 600)
    headings = rng.randint(2, 4)
    photo = rng.randint(1, MEDIA_PER_CITY)
    blocks = [_paragraph(rng, bold=True)]
    adherer = links("page", "../pages/adherer.md")
    link_line = f"Pour participer, [adhérez à l'AVF {spec.name}]({adherer})."
    if previous is not None:
        link_line += (f" Relisez aussi [{previous.title}]"
                      f"({links('post', previous.filename)}).")
    blocks.append(link_line)
    for section in range(headings):
        blocks.append(f"## {_sentence(rng, 3, 6).rstrip('.')}")
        blocks.append(_paragraph(rng, bold=section % 2 == 0))
        if section == 0:
            blocks.append("\n".join(f"- {_sentence(rng, 4, 9)}" for _ in range(rng.randint(3, 5))))
        if section == headings - 1:
            alt = f"{_sentence(rng, 3, 6).rstrip('.')} à {spec.name}"
            blocks.append(f"![{alt}]({links('media', f'../media/photo-{photo}.png')})")
    _fill(rng, blocks, target, ceiling=600)
    return "\n\n".join(blocks) + "\n"


def _page_text(rng: random.Random, spec: CitySpec, title: str, slug: str, order: int,
               links: LinkStyle) -> tuple[dict[str, object], str]:
    """A standing page: a short header and 150–300 words, linking to the membership page."""
    fields: dict[str, object] = {
        "title": title,
        "order": order,
        "summary": _sentence(rng, 10, 18),
    }
    blocks = [_paragraph(rng, bold=True)]
    if slug != "adherer":
        blocks.append(f"Envie de nous rejoindre ? [Adhérez]({links('page', 'adherer.md')}).")
    blocks.append(f"## {_sentence(rng, 3, 5).rstrip('.')}")
    blocks.append(f"![Les bénévoles de l'AVF {spec.name}]"
                  f"({links('media', f'../media/photo-{rng.randint(1, MEDIA_PER_CITY)}.png')})")
    _fill(rng, blocks, rng.randint(150, 300), ceiling=300)
    return fields, "\n\n".join(blocks) + "\n"


# --- the national portal ------------------------------------------------------------------


def _write_network(root: Path, flavor: Flavor, seed: int) -> int:
    """Three pages and three news (two broadcast to every city) of the national portal."""
    rng = random.Random(f"{seed}:{NETWORK_DIR}")
    links = _link_style(flavor)
    count = 0
    for order, (slug, title) in enumerate(NETWORK_PAGES, start=1):
        fields: dict[str, object] = {"title": title, "order": order,
                                     "summary": _sentence(rng, 10, 18)}
        body = "\n\n".join(_paragraph(rng, bold=order == 1) for _ in range(4)) + "\n"
        _write(root / "pages" / f"{slug}.md", _document(flavor, fields, body, slug))
        count += 1
    adherer = links("page", "../pages/adherer.md")
    for number, (slug, title, broadcast) in enumerate(NETWORK_NEWS):
        day = date(2026, 3 + 3 * number, 10 + number)
        fields = {"title": title, "date": day.isoformat(), "tags": ["réseau"],
                  "category": "Actualités", "summary": _sentence(rng, 12, 20),
                  "author": "Union nationale des AVF"}
        if broadcast:
            fields["broadcast"] = True
        body = "\n\n".join([
            _paragraph(rng, bold=True),
            f"## {_sentence(rng, 3, 5).rstrip('.')}",
            _paragraph(rng, bold=False),
            f"Pour en savoir plus, lisez [comment adhérer]({adherer}).",
        ]) + "\n"
        _write(root / "posts" / f"{day.isoformat()}-{slug}.md",
               _document(flavor, fields, body, slug))
        count += 1
    return count


# --- text -----------------------------------------------------------------------------------


def _sentence(rng: random.Random, low: int, high: int) -> str:
    """A French-looking sentence of low..high words, capitalised, ending with a period."""
    words = []
    for _ in range(rng.randint(low, high)):
        words.append(rng.choice(CONNECTORS) if rng.random() < 0.3 else rng.choice(WORDS))
    text = " ".join(words)
    return text[:1].upper() + text[1:] + "."


def _paragraph(rng: random.Random, bold: bool) -> str:
    """Three to six sentences, one phrase in **bold** when asked."""
    sentences = [_sentence(rng, 8, 18) for _ in range(rng.randint(3, 6))]
    if bold:
        words = rng.sample(WORDS, 2)
        sentences.insert(1, f"Retenez bien : **{words[0]} {words[1]}**.")
    return " ".join(sentences)


def _fill(rng: random.Random, blocks: list[str], target: int, ceiling: int) -> None:
    """Add paragraphs until the text has `target` words, cutting the last at `ceiling`."""
    count = _word_count(blocks)
    while count < target:
        words = _paragraph(rng, bold=False).split()[: ceiling - count]
        blocks.append(" ".join(words).rstrip(".,;:") + ".")
        count += len(words)


def _word_count(blocks: Sequence[str]) -> int:
    """How many words the blocks hold, as a reader would count them."""
    return sum(len(block.split()) for block in blocks)


def slugify(text: str) -> str:
    """URL-safe ASCII slug of French text: "Café d'accueil" -> "cafe-d-accueil"."""
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def _unique_slug(slug: str, taken: set[str]) -> str:
    """The slug, numbered when a post of the city already has it."""
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    return candidate


def _stem(filename: str) -> str:
    """A post's slug from its file name (date prefix and extension removed)."""
    return filename[len("2000-01-01-"):].removesuffix(".md")


# --- flavors --------------------------------------------------------------------------------


def _link_style(flavor: Flavor) -> LinkStyle:
    """Relative links as volunteers write them (yaml) or with Pelican's own markers."""
    if flavor == "yaml":
        return lambda kind, path: path
    return lambda kind, path: ("{static}" if kind == "media" else "{filename}") + path


def _document(flavor: Flavor, fields: dict[str, object], body: str,
              slug: str | None = None) -> str:
    """A Markdown file with its header in the flavor's syntax."""
    if flavor == "yaml":
        return "---\n" + "".join(_yaml_field(key, value) for key, value in fields.items()) + (
            "---\n\n" + body)
    return _pelican_header(fields, slug) + "\n" + body


def _yaml_field(key: str, value: object) -> str:
    """One YAML header line (nested mappings indented, as in the documentation)."""
    if isinstance(value, dict):
        return f"{key}:\n" + "".join(f"  {_yaml_field(k, v)}" for k, v in value.items())
    if isinstance(value, bool):
        return f"{key}: {'true' if value else 'false'}\n"
    if isinstance(value, int):
        return f"{key}: {value}\n"
    if isinstance(value, list):
        return f"{key}: [{', '.join(_q(str(item)) for item in value)}]\n"
    if key in ("date", "start", "end"):
        return f"{key}: {value}\n"
    return f"{key}: {_q(str(value))}\n"


def _pelican_header(fields: dict[str, object], slug: str | None) -> str:
    """Pelican's native `Key: value` metadata; unknown keys stay plain metadata."""
    lines = [f"Title: {fields['title']}"]
    if "date" in fields:
        lines.append(f"Date: {fields['date']}")
    if slug:
        lines.append(f"Slug: {slug}")
    if "tags" in fields:
        lines.append("Tags: " + ", ".join(map(str, fields["tags"])))  # type: ignore[call-overload]
    for key in ("category", "summary", "author"):
        if key in fields:
            lines.append(f"{key.capitalize()}: {fields[key]}")
    lines.append("Status: published")
    for key, value in fields.items():
        if key in ("title", "date", "tags", "category", "summary", "author"):
            continue
        if isinstance(value, dict):
            lines.extend(f"{key.capitalize()}_{sub}: {item}" for sub, item in value.items())
        else:
            text = str(value).lower() if isinstance(value, bool) else value
            lines.append(f"{key.capitalize()}: {text}")
    return "\n".join(lines) + "\n"


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON escaping is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


# --- files and images -----------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    """Write UTF-8 text, creating the parent folder."""
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    """Write bytes, creating the parent folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@lru_cache(maxsize=DISTINCT_IMAGES)
def png_image(image_id: int) -> bytes:
    """A valid RGB PNG of 20–50 KB, the same bytes for an id wherever it is used."""
    rng = random.Random(f"png:{image_id}")
    spread = rng.choice((5, 6, 7, 8, 9))  # values a pixel may differ from the one above
    target = rng.randint(22_000, 46_000)  # compressed bytes wanted
    bits = {5: 2.74, 6: 3.05, 7: 3.29, 8: 3.52, 9: 3.71}[spread]  # deflate cost per byte
    height = rng.randint(110, 170)
    width = max(16, int(target * 8 / bits / height / 3))
    deltas = bytes((value % spread - spread // 2) % 256 for value in range(256))
    rows = []
    for _ in range(height):  # filter 2 ("Up"): each row stores its difference to the last
        rows.append(b"\x02" + rng.randbytes(width * 3).translate(deltas))
    rows[0] = b"\x00" + bytes((90 + value) % 256 for value in rows[0][1:])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
