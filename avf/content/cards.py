"""Read a city's card (city.yaml) into a City, checking every field."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from avf.content.frontmatter import parse_yaml_file, read_text
from avf.content.model import ACCENTS, City
from avf.content.problems import ContentError, Problem
from avf.content.values import (
    Place,
    did_you_mean,
    read_bool,
    read_choice,
    read_float,
    read_text_list,
    read_text_value,
)

REQUIRED = ("name", "city", "slug", "department", "department_code", "region", "email",
            "lat", "lon")
OPTIONAL = ("postal_code", "postal_codes", "address", "phone", "tagline", "opening_hours",
            "social", "accent", "logo", "banner", "domain", "network_news",
            "comments_on_public_posts")
EXAMPLES = {
    "name": 'name: "AVF Lyon"', "city": 'city: "Lyon"', "slug": 'slug: "lyon"',
    "department": 'department: "Rhône"', "department_code": 'department_code: "69"',
    "region": 'region: "Auvergne-Rhône-Alpes"', "email": 'email: "accueil@avf-lyon.fr"',
    "lat": "lat: 45.764", "lon": "lon: 4.8357", "postal_code": 'postal_code: "69001"',
}
ALIASES = {"nom": "name", "ville": "city", "departement": "department", "adresse": "address",
           "telephone": "phone", "horaires": "opening_hours", "code_postal": "postal_code",
           "courriel": "email", "mail": "email", "couleur": "accent", "banniere": "banner",
           "domaine": "domain", "reseaux": "social", "slogan": "tagline"}
PlaceOf = Callable[[str], Place]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_POSTAL = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9-]+\.)+[a-z]{2,}$")


def read_city_card(path: Path, shown_as: str, folder_slug: str,
                   text: str | None = None) -> City:
    """Parse and validate city.yaml; raise ContentError on the first problem. `text`: the
    card as it would be (the editor's candidate), instead of the file at `path`."""
    source = read_text(path, shown_as) if text is None else text.removeprefix("\ufeff")
    fields, key_lines = parse_yaml_file(source, shown_as)

    def place(name: str) -> Place:
        return Place(shown_as, key_lines.get((name,), 1), name)

    for name in fields:
        if name not in REQUIRED and name not in OPTIONAL:
            hint = did_you_mean(str(name), REQUIRED + OPTIONAL, ALIASES)
            suggestion = f"vouliez-vous dire « {hint} » ?" if hint else (
                "les informations possibles sont " + ", ".join(REQUIRED + OPTIONAL))
            raise place(str(name)).fail(f"l'information « {name} » n'existe pas ; {suggestion}")
    for name in REQUIRED:
        if fields.get(name) in (None, ""):
            raise ContentError(Problem(
                shown_as, key_lines.get((name,)),
                f"il manque « {name} », obligatoire dans la fiche de la ville ; ajoutez une "
                f"ligne comme {EXAMPLES[name]}",
            ))
    if fields.get("postal_code") is None and not fields.get("postal_codes"):
        raise ContentError(Problem(
            shown_as, None,
            "il manque le code postal ; ajoutez une ligne comme " + EXAMPLES["postal_code"],
        ))

    slug = read_text_value(fields["slug"], place("slug"))
    if slug != folder_slug:
        raise place("slug").fail(
            f"le slug « {slug} » ne correspond pas au nom du dossier « {folder_slug} » ; "
            f"écrivez slug: \"{folder_slug}\""
        )
    email = read_text_value(fields["email"], place("email"))
    if not _EMAIL.match(email):
        raise place("email").fail(
            f"« {email} » n'est pas une adresse électronique valable ; écrivez par exemple "
            "email: \"accueil@avf-ville.fr\""
        )
    return City(
        slug=slug,
        name=read_text_value(fields["name"], place("name")),
        city=read_text_value(fields["city"], place("city")),
        postal_codes=_postal_codes(fields, place),
        department=read_text_value(fields["department"], place("department")),
        department_code=read_text_value(fields["department_code"], place("department_code")),
        region=read_text_value(fields["region"], place("region")),
        email=email,
        lat=read_float(fields["lat"], place("lat"), -90, 90),
        lon=read_float(fields["lon"], place("lon"), -180, 180),
        address=_optional_text(fields, "address", place),
        phone=_optional_text(fields, "phone", place),
        tagline=_optional_text(fields, "tagline", place),
        opening_hours=read_text_list(fields["opening_hours"], place("opening_hours"))
        if fields.get("opening_hours") else (),
        social=_social(fields.get("social"), place("social")),
        accent=read_choice(fields.get("accent", "bleu"), place("accent"), ACCENTS),
        logo=_media_file(fields, "logo", path.parent, place),
        banner=_media_file(fields, "banner", path.parent, place),
        domain=_domain(fields, place),
        network_news=read_bool(fields["network_news"], place("network_news"))
        if "network_news" in fields else True,
        comments_on_public_posts=read_bool(fields["comments_on_public_posts"],
                                           place("comments_on_public_posts"))
        if "comments_on_public_posts" in fields else False,
    )


def _optional_text(fields: dict[str, object], name: str, place: PlaceOf) -> str | None:
    return read_text_value(fields[name], place(name)) if fields.get(name) is not None else None


def _postal_codes(fields: dict[str, object], place: PlaceOf) -> tuple[str, ...]:
    name = "postal_codes" if fields.get("postal_codes") else "postal_code"
    value = fields[name]
    codes = read_text_list(value if name == "postal_codes" else str(value), place(name))
    for code in codes:
        if not _POSTAL.match(code):
            raise place(name).fail(
                f"« {code} » n'est pas un code postal (cinq chiffres) ; écrivez-le entre "
                'guillemets, par exemple postal_code: "01000"'
            )
    return codes


def _social(value: object, where: Place) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(link, str) and link.startswith(("https://", "http://"))
        for link in value.values()
    ):
        raise where.fail(
            "« social » doit lister des liens complets, un par ligne décalée de deux espaces, "
            'par exemple facebook: "https://www.facebook.com/avf.lyon"'
        )
    return {str(name): link for name, link in value.items()}


def _media_file(fields: dict[str, object], name: str, city_dir: Path, place: PlaceOf) -> str | None:
    if fields.get(name) is None:
        return None
    where = place(name)
    relative = read_text_value(fields[name], where)
    target = (city_dir / relative).resolve()
    inside = target.is_relative_to(city_dir.resolve())
    if not inside or not target.is_file():
        raise where.fail(
            f"le fichier « {relative} » n'existe pas dans le dossier de la ville ; placez "
            "l'image dans le dossier media et écrivez par exemple "
            f"{name}: \"media/{name}.jpg\""
        )
    return target.relative_to(city_dir.resolve()).as_posix()


def _domain(fields: dict[str, object], place: PlaceOf) -> str | None:
    if fields.get("domain") is None:
        return None
    domain = read_text_value(fields["domain"], place("domain")).lower()
    if not _DOMAIN.match(domain):
        raise place("domain").fail(
            f"« {domain} » n'est pas un nom de domaine ; écrivez-le sans http:// ni /, par "
            "exemple domain: \"avf-lyon.fr\""
        )
    return domain
