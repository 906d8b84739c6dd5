"""Read one post or page: front matter checked field by field, body kept as Markdown."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from avf.content.frontmatter import FrontMatter, parse_front_matter, read_text
from avf.content.model import RESERVED_PAGE_SLUGS, SLUG_PATTERN, Document, Event, Kind
from avf.content.problems import ContentError, Problem
from avf.content.values import (
    Place,
    did_you_mean,
    is_date_only,
    read_bool,
    read_choice,
    read_datetime,
    read_int,
    read_text_list,
    read_text_value,
    slugify,
)

POST_FIELDS = ("title", "date", "slug", "modified", "status", "visibility", "tags",
               "category", "summary", "image", "image_alt", "author", "event")
PAGE_FIELDS = ("title", "date", "slug", "modified", "status", "visibility", "summary",
               "image", "image_alt", "author", "order")
NETWORK_POST_FIELDS = (*POST_FIELDS, "broadcast")
EVENT_FIELDS = ("start", "end", "place", "registration", "capacity")
STATUSES = ("draft", "review", "published", "unpublished")
VISIBILITIES = ("public", "members")

# French (or common) names volunteers type, folded to lowercase without accents.
FIELD_ALIASES = {
    "titre": "title", "auteur": "author", "auteure": "author", "resume": "summary",
    "etiquettes": "tags", "mots-cles": "tags", "tag": "tags", "categorie": "category",
    "statut": "status", "etat": "status", "visibilite": "visibility", "photo": "image",
    "illustration": "image", "evenement": "event", "modifie": "modified", "ordre": "order",
    "diffusion": "broadcast", "lieu": "event", "debut": "event",
    "alt": "image_alt", "image-alt": "image_alt", "texte-alternatif": "image_alt",
    "description-image": "image_alt", "legende": "image_alt",
}
STATUS_ALIASES = {"brouillon": "draft", "a relire": "review", "relecture": "review",
                  "en relecture": "review", "publie": "published", "publiee": "published",
                  "en ligne": "published", "depublie": "unpublished",
                  "depubliee": "unpublished", "hors ligne": "unpublished",
                  "retire": "unpublished"}
VISIBILITY_ALIASES = {"membres": "members", "adherents": "members", "prive": "members",
                      "reserve": "members", "tous": "public", "publique": "public"}
EVENT_ALIASES = {"debut": "start", "fin": "end", "lieu": "place", "inscription": "registration",
                 "places": "capacity", "capacite": "capacity", "adresse": "place"}

_DATED_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-")
# Headers a process keeps parsed (see `_front_matter`): ~12 KB each with the text, a few MB.
RECENT_HEADERS = 512
# A longer text is parsed each time, never kept: the memo stays bounded in characters
# whatever a file holds (a table pasted from a word processor, a photo as text).
LONGEST_KEPT = 30_000


def read_document(path: Path, city_dir: Path, shown_as: str, kind: Kind,
                  network: bool = False, text: str | None = None) -> Document:
    """Read and validate one Markdown file; raise ContentError on the first problem.
    `text`: the file's text as it would be saved (the editor checks it before writing)."""
    front = _front_matter(read_text(path, shown_as) if text is None else text, shown_as)
    allowed = PAGE_FIELDS if kind == "page" else NETWORK_POST_FIELDS if network else POST_FIELDS
    _reject_unknown_fields(front, allowed, FIELD_ALIASES, shown_as, prefix=())
    fields = front.fields

    def place(name: str) -> Place:
        return Place(shown_as, front.line_of(name), name)

    title = _required(front, "title", shown_as, kind)
    date = None
    if "date" in fields:
        date = read_datetime(fields["date"], place("date"))
    elif kind == "post":
        raise ContentError(Problem(shown_as, 1, _missing("date", kind)))
    slug = _read_slug(front, path, shown_as)
    if kind == "page" and not network and slug in RESERVED_PAGE_SLUGS:
        raise ContentError(Problem(
            shown_as, front.line_of("slug") if "slug" in fields else None,
            f"l'adresse « {slug} » est déjà utilisée par le site de la ville ; renommez la "
            f"page (par exemple « {slug}-de-la-ville.md ») ou ajoutez une ligne "
            f"« slug: mon-{slug} »",
        ))
    visibility = read_choice(fields.get("visibility", "public"), place("visibility"),
                             VISIBILITIES, VISIBILITY_ALIASES)
    if network and visibility == "members":
        raise place("visibility").fail(
            "le portail national n'a pas d'espace adhérents : les textes réservés aux "
            "adhérents se publient dans le dossier d'une ville"
        )
    event = _read_event(front, shown_as) if "event" in fields else None
    optional_texts = {
        name: read_text_value(fields[name], place(name))
        for name in ("category", "summary", "author", "image_alt")
        if fields.get(name) is not None
    }
    image = None
    if fields.get("image") is not None:
        image = resolve_media(
            read_text_value(fields["image"], place("image")), path, city_dir, place("image")
        )
    tags = read_text_list(fields["tags"], place("tags")) if fields.get("tags") else ()
    for tag in tags:
        if not slugify(tag):
            raise place("tags").fail(
                f"l'étiquette « {tag} » ne contient ni lettre ni chiffre ; écrivez un mot, "
                "par exemple tags: [sortie]"
            )
    return Document(
        kind=kind,
        source=path,
        shown_as=shown_as,
        rel_path=path.relative_to(city_dir).as_posix(),
        title=title,
        slug=slug,
        body=front.body,
        body_line=front.body_line,
        date=date,
        modified=read_datetime(fields["modified"], place("modified"))
        if fields.get("modified") is not None else None,
        status=read_choice(fields.get("status", "published"), place("status"),  # type: ignore[arg-type]
                           STATUSES, STATUS_ALIASES),
        visibility=visibility,  # type: ignore[arg-type]
        tags=tags,
        category=optional_texts.get("category"),
        summary=optional_texts.get("summary"),
        image=image,
        image_alt=optional_texts.get("image_alt"),
        image_line=front.line_of("image") if image is not None else None,
        author=optional_texts.get("author"),
        event=event,
        broadcast=read_bool(fields["broadcast"], place("broadcast"))
        if "broadcast" in fields else False,
        order=read_int(fields["order"], place("order")) if "order" in fields else None,
        slug_line=front.line_of("slug") if "slug" in fields else None,
    )


def _front_matter(text: str, shown_as: str) -> FrontMatter:
    """The parsed header of a file's text, kept for the next build of a warm process
    (`avf watch`, the service's build worker), which reads a whole city again for one
    edited post (its YAML headers were ~5 % of such a rebuild). Keyed by the whole text,
    so an edit is parsed again; shared, so read only. A header in error is parsed again
    with its file's name, which the error names (errors are never kept); so is a long text
    (LONGEST_KEPT)."""
    if len(text) > LONGEST_KEPT:
        return parse_front_matter(text, shown_as)
    try:
        return _parsed_header(text)
    except ContentError:
        return parse_front_matter(text, shown_as)


@lru_cache(maxsize=RECENT_HEADERS)
def _parsed_header(text: str) -> FrontMatter:
    return parse_front_matter(text, "")


def resolve_media(target: str, source: Path, city_dir: Path, where: Place) -> str:
    """Resolve an image path written in `source`; it must name a file of the city's media/."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.IGNORECASE) or target.startswith("/"):
        raise where.fail(
            f"« {target} » doit être un chemin relatif vers une image du dossier media de la "
            "ville, par exemple ../media/photo.jpg"
        )
    resolved = (source.parent / target).resolve()
    media = (city_dir / "media").resolve()
    if resolved.is_relative_to(media) and resolved.is_file():
        return resolved.relative_to(city_dir.resolve()).as_posix()
    # Only media/ is looked at on the disk: whether a file exists elsewhere on the server
    # is none of the writer's business (the web editor's volunteers see these messages).
    written_from_city = (city_dir / target).resolve()
    if written_from_city.is_relative_to(media) and written_from_city.is_file():
        raise where.fail(f"le fichier « {target} » n'existe pas ; depuis ce fichier, "
                         f"écrivez ../{target}")
    if resolved.is_relative_to(media):
        raise where.fail(f"le fichier « {target} » n'existe pas ; vérifiez son nom "
                         "(majuscules, accents, extension) ou ajoutez-le au dossier media")
    raise where.fail(
        f"l'image « {target} » doit être dans le dossier media de la ville ; déplacez-la "
        "et écrivez par exemple ../media/photo.jpg"
    )


def _reject_unknown_fields(front: FrontMatter, allowed: tuple[str, ...],
                           aliases: dict[str, str], shown_as: str,
                           prefix: tuple[str, ...]) -> None:
    mapping = front.fields
    for key in prefix:
        mapping = mapping[key]  # type: ignore[assignment]
    for name in mapping:
        if name in allowed:
            continue
        hint = did_you_mean(str(name), allowed, aliases)
        where = ".".join((*prefix, str(name)))
        suggestion = (f"vouliez-vous dire « {hint} » ?" if hint
                      else "les informations possibles sont " + ", ".join(allowed))
        raise ContentError(Problem(
            shown_as, front.line_of(*prefix, str(name)),
            f"l'information « {where} » n'existe pas ; {suggestion}",
        ))


def _missing(name: str, kind: Kind) -> str:
    example = {"title": 'title: "Café d\'accueil de rentrée"',
               "date": "date: 2026-09-12"}[name]
    what = "un article" if kind == "post" else "une page"
    return (f"il manque « {name} », obligatoire pour {what} ; ajoutez dans l'en-tête "
            f"une ligne comme {example}")


def _required(front: FrontMatter, name: str, shown_as: str, kind: Kind) -> str:
    if front.fields.get(name) in (None, ""):
        line = front.line_of(name) if name in front.fields else 1
        raise ContentError(Problem(shown_as, line, _missing(name, kind)))
    return read_text_value(front.fields[name], Place(shown_as, front.line_of(name), name))


def _read_slug(front: FrontMatter, path: Path, shown_as: str) -> str:
    if front.fields.get("slug") is not None:
        where = Place(shown_as, front.line_of("slug"), "slug")
        slug = read_text_value(front.fields["slug"], where)
        if not SLUG_PATTERN.match(slug):
            raise where.fail(
                f"le slug « {slug} » ne doit contenir que des minuscules sans accent, des "
                f"chiffres et des tirets ; écrivez par exemple slug: {slugify(slug) or 'ma-page'}"
            )
        return slug
    stem = _DATED_NAME.sub("", path.stem)
    slug = slugify(stem)
    if not slug:
        raise ContentError(Problem(
            shown_as, None,
            "le nom du fichier ne donne pas d'adresse de page ; renommez-le avec des lettres, "
            "par exemple 2026-09-12-cafe-accueil.md",
        ))
    return slug


def _read_event(front: FrontMatter, shown_as: str) -> Event:
    raw = front.fields["event"]
    if not isinstance(raw, dict):
        raise ContentError(Problem(
            shown_as, front.line_of("event"),
            "« event » doit contenir des lignes décalées de deux espaces : start, end, place "
            "(par exemple « start: 2026-12-05 14:00 » sur la ligne suivante)",
        ))
    _reject_unknown_fields(front, EVENT_FIELDS, EVENT_ALIASES, shown_as, prefix=("event",))

    def place(name: str) -> Place:
        return Place(shown_as, front.line_of("event", name), f"event.{name}")

    if raw.get("start") is None:
        raise ContentError(Problem(
            shown_as, front.line_of("event"),
            "il manque le début de l'événement ; ajoutez sous « event: » une ligne "
            "« start: 2026-12-05 14:00 » décalée de deux espaces",
        ))
    start = read_datetime(raw["start"], place("start"))
    end = read_datetime(raw["end"], place("end")) if raw.get("end") is not None else None
    all_day = is_date_only(raw["start"]) and (end is None or is_date_only(raw["end"]))
    if end is not None and end < start:
        raise place("end").fail(
            f"l'événement finit ({end:%Y-%m-%d %H:%M}) avant de commencer "
            f"({start:%Y-%m-%d %H:%M}) ; corrigez « end » ou « start »"
        )
    return Event(
        start=start,
        end=end,
        all_day=all_day,
        place=read_text_value(raw["place"], place("place")) if raw.get("place") else None,
        registration=read_bool(raw["registration"], place("registration"))
        if "registration" in raw else False,
        capacity=read_int(raw["capacity"], place("capacity"), minimum=1)
        if raw.get("capacity") is not None else None,
    )
