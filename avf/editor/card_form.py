"""The city card (`city.yaml`) as a form of plain French fields, and back to the file.

The file stays the source of truth: fields the form does not show (`slug`, `logo`,
`banner`, `comments_on_public_posts`…) are kept where they were, the shown ones are
replaced in place, in the card's own style (texts in quotes, lists one item a line). A
candidate card is checked by the build's own reader (`read_city_card(text=…)`) before
anything is written, and its problem is placed next to the field it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from avf.content.cards import read_city_card
from avf.content.frontmatter import parse_yaml_file
from avf.content.model import ACCENTS
from avf.content.problems import ContentError
from avf.editor.plain_fields import NO_MARKUP, first_problem, markup_problem
from avf.editor.yaml_text import Plain, dump_yaml

# The form's fields, in the order they are shown (and added to a card that lacks them).
TEXT_FIELDS = ("name", "city", "postal_codes", "department", "department_code", "region",
               "address", "phone", "email", "lat", "lon", "tagline")
REQUIRED = ("name", "city", "postal_codes", "department", "department_code", "region",
            "email", "lat", "lon")
LIST_FIELDS = ("opening_hours", "social")
# The theme writes the card's texts into the city's pages as they are (no markup: see
# avf.editor.plain_fields); these two go inside an attribute (meta description, tel: link).
IN_ATTRIBUTES = ("tagline", "phone")
DEFAULT_ACCENT = "bleu"
_REQUIRED_WORDS = {
    "name": "le nom de l'association", "city": "le nom de la ville",
    "postal_codes": "le code postal", "department": "le département",
    "department_code": "le numéro du département", "region": "la région",
    "email": "l'adresse de l'équipe d'accueil", "lat": "la latitude", "lon": "la longitude",
}
_SOCIAL_LINE = re.compile(r"^(?P<label>.*?)[\s:–—-]*(?P<url>https?://\S+)\s*$")
_CODES = re.compile(r"[\s,;]+")


class CardUnreadable(Exception):
    """The card on disk cannot be read as YAML at all; the message says where, in French."""


@dataclass(frozen=True)
class Candidate:
    """A card as the form made it: its text, and the problems per form field (None: the
    card as a whole); nothing is written while there is one."""

    text: str
    problems: dict[str | None, str]


def card_fields(text: str) -> dict[str, object]:
    """The card's fields as written (every scalar as text), in the file's order."""
    try:
        fields, _ = parse_yaml_file(text.removeprefix("\ufeff"), "city.yaml")
    except ContentError as error:
        raise CardUnreadable(error.problem.message) from None
    return dict(fields)


def card_values(fields: Mapping[str, object]) -> dict[str, str]:
    """What the form shows for a card."""
    values = {name: _text(fields.get(name)) for name in TEXT_FIELDS}
    codes = fields.get("postal_codes") or fields.get("postal_code")
    values["postal_codes"] = ", ".join(_list(codes))
    values["opening_hours"] = "\n".join(_list(fields.get("opening_hours")))
    social = fields.get("social")
    values["social"] = "\n".join(f"{label} {url}" for label, url in social.items()) \
        if isinstance(social, dict) else ""
    values["accent"] = _text(fields.get("accent")) or DEFAULT_ACCENT
    values["network_news"] = "" if _text(fields.get("network_news")).lower() in (
        "false", "non", "no", "0") else "1"
    values["domain"] = _text(fields.get("domain"))
    return values


def card_from_form(form: Mapping[str, str], previous: Mapping[str, object],
                   may_edit_domain: bool) -> tuple[dict[str, object], dict[str | None, str]]:
    """The card's new fields (unshown ones kept, in place) and the problems the form alone
    shows (an empty required field, a social line without a link)."""
    fields = {name: _kept(value) for name, value in previous.items()}
    problems: dict[str | None, str] = {}
    for name in TEXT_FIELDS:
        value = " ".join(str(form.get(name, "")).split())
        if name in REQUIRED and not value:
            problems[name] = f"indiquez {_REQUIRED_WORDS[name]}"
        markup = markup_problem(value, in_attribute=name in IN_ATTRIBUTES)
        if markup:
            problems[name] = markup
        if name == "postal_codes":
            _set_postal_codes(fields, value)
        elif name in ("lat", "lon"):
            _set(fields, name, Plain(value.replace(",", ".")) if value else "")
        else:
            _set(fields, name, value)
    hours = [line.strip() for line in str(form.get("opening_hours", "")).splitlines()]
    markup = first_problem(hours)
    if markup:
        problems["opening_hours"] = markup
    _set(fields, "opening_hours", [line for line in hours if line])
    social, problem = _social(str(form.get("social", "")))
    problem = problem or first_problem(social) or next(
        (NO_MARKUP for url in social.values() if any(char in url for char in '<>"')), "")
    if problem:
        problems["social"] = problem
    _set(fields, "social", social)
    accent = str(form.get("accent", "")).strip()
    if accent not in ACCENTS:
        problems["accent"] = "choisissez une des couleurs proposées"
    elif accent != DEFAULT_ACCENT or "accent" in fields:
        fields["accent"] = accent
    news = form.get("network_news") == "1"
    if not news or "network_news" in fields:
        fields["network_news"] = Plain("true" if news else "false")
    if may_edit_domain:
        _set(fields, "domain", str(form.get("domain", "")).strip().lower())
    return fields, problems


def card_text(fields: Mapping[str, object]) -> str:
    """The card's text, in the card's style."""
    return dump_yaml(dict(fields), card_style=True)


def check_card(content_dir: Path, city: str, text: str) -> dict[str | None, str]:
    """The build's verdict on a candidate card, placed next to its form field ({}: fine)."""
    path = content_dir / city / "city.yaml"
    try:
        read_city_card(path, f"{city}/city.yaml", city, text=text)
    except ContentError as error:
        return {_field_at(text, error.problem.line): error.problem.message}
    return {}


def candidate(content_dir: Path, city: str, form: Mapping[str, str],
              previous: Mapping[str, object], may_edit_domain: bool) -> Candidate:
    """The card the form describes, with every problem found (the form's first; then,
    when it has none, the build's)."""
    fields, problems = card_from_form(form, previous, may_edit_domain)
    text = card_text(fields)
    if not problems:
        problems = check_card(content_dir, city, text)
    return Candidate(text, problems)


# --- Internals ------------------------------------------------------------------------

def _set(fields: dict[str, object], name: str, value: object) -> None:
    """Replace a field in place; an emptied field leaves the card (a required one stays,
    empty, so the build's check names it)."""
    if value in ("", [], {}) and name not in REQUIRED:
        fields.pop(name, None)
    else:
        fields[name] = value


def _set_postal_codes(fields: dict[str, object], value: str) -> None:
    codes = [code for code in _CODES.split(value) if code]
    several = len(codes) > 1 or "postal_codes" in fields
    if several:
        fields.pop("postal_code", None)
        fields["postal_codes"] = codes
    else:
        fields.pop("postal_codes", None)
        fields["postal_code"] = codes[0] if codes else ""


def _social(text: str) -> tuple[dict[str, str], str]:
    links: dict[str, str] = {}
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        found = _SOCIAL_LINE.match(line)
        if not found:
            return links, (f"la ligne « {line} » n'a pas d'adresse complète : écrivez le nom "
                           "du réseau puis l'adresse, par exemple « facebook "
                           "https://www.facebook.com/avf.ville »")
        label = found.group("label").strip() or "site"
        links[label] = found.group("url")
    return links, ""


def _field_at(text: str, line: int | None) -> str | None:
    """The form field of the card's key at `line` (or the last one above it)."""
    if line is None:
        return None
    try:
        _, key_lines = parse_yaml_file(text, "city.yaml")
    except ContentError:
        return None
    above = [(key_line, path[0]) for path, key_line in key_lines.items() if key_line <= line]
    if not above:
        return None
    name = max(above)[1]
    if name == "postal_code":
        return "postal_codes"
    shown = (*TEXT_FIELDS, *LIST_FIELDS, "accent", "network_news", "domain")
    return name if name in shown else None


def _kept(value: object) -> object:
    """A field as read (text), to be written back as it was: yes/no words bare."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return Plain(value)
    return value


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _list(value: object) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return [str(value)] if value not in (None, "") else []
