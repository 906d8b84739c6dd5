"""Typed readers for front-matter values; each failure is a French Problem at the right line."""

from __future__ import annotations

import calendar
import difflib
import re
import unicodedata
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from avf.content.problems import ContentError, Problem

PARIS = ZoneInfo("Europe/Paris")

_DATE_START = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")
_FRENCH_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")


class Place:
    """Where a value stands, to build problems without repeating file and line everywhere."""

    def __init__(self, shown_as: str, line: int, name: str):
        self.shown_as, self.line, self.name = shown_as, line, name

    def fail(self, message: str) -> ContentError:
        return ContentError(Problem(self.shown_as, self.line, message))


def read_text_value(value: object, where: Place) -> str:
    """A non-empty single line of text (numbers are accepted and kept as written)."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise where.fail(
            f"« {where.name} » doit être un texte ; écrivez par exemple "
            f'{where.name}: "…" sur une seule ligne'
        )
    text = str(value).strip()
    if not text:
        raise where.fail(f"« {where.name} » est vide ; écrivez-y un texte ou supprimez la ligne")
    return text


_TRUE, _FALSE = {"true", "oui", "yes", "vrai"}, {"false", "non", "no", "faux"}


def read_bool(value: object, where: Place) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, str) else ""
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise where.fail(f"« {where.name} » doit valoir true (oui) ou false (non)")


def read_int(value: object, where: Place, minimum: int = 0) -> int:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not text.isdigit() or int(text) < minimum:
        raise where.fail(
            f"« {where.name} » doit être un nombre entier (au moins {minimum}), par exemple 20"
        )
    return int(text)


def read_float(value: object, where: Place, low: float, high: float) -> float:
    """A decimal number; the French decimal comma is accepted (45,764)."""
    text = str(value).strip().replace(",", ".") if isinstance(value, (str, int, float)) else ""
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise where.fail(
            f"« {where.name} » doit être un nombre entre {low:g} et {high:g}, par exemple "
            "45.764"
        )
    return number


def read_text_list(value: object, where: Place) -> tuple[str, ...]:
    """A list of texts; a single comma-separated text is accepted too."""
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, list) and all(
        isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in value
    ):
        items = [str(item).strip() for item in value]
    else:
        raise where.fail(
            f"« {where.name} » doit être une liste de textes, par exemple "
            f'{where.name}: ["sortie", "musée"]'
        )
    return tuple(item for item in items if item)


def read_choice(value: object, where: Place, choices: tuple[str, ...],
                aliases: dict[str, str] | None = None) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if text in choices:
        return text
    listed = ", ".join(f"« {choice} »" for choice in choices)
    hint = did_you_mean(text, choices, aliases)
    suggestion = f" ; vouliez-vous dire « {hint} » ?" if hint else ""
    raise where.fail(
        f"la valeur « {text or value} » de « {where.name} » n'est pas possible : choisissez "
        f"parmi {listed}{suggestion}"
    )


def read_datetime(value: object, where: Place) -> datetime:
    """A date, with or without time (ISO 8601); a date alone means midnight in Paris."""
    if isinstance(value, datetime):
        parsed: datetime = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        text = str(value).strip() if value is not None else ""
        _reject_impossible_date(text, where)
        try:
            parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
        except ValueError:
            raise where.fail(_date_format_hint(text, where.name)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PARIS)
    return parsed


def is_date_only(value: object) -> bool:
    """True for `2026-12-05` (a whole day), false when a time is given."""
    return isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", value.strip()))


def _reject_impossible_date(text: str, where: Place) -> None:
    match = _DATE_START.match(text)
    if not match:
        return
    year, month, day = (int(group) for group in match.groups())
    if not 1 <= month <= 12:
        raise where.fail(
            f"la date « {text} » n'existe pas : le mois « {month:02d} » doit être entre 01 "
            f"et 12 ; écrivez la date sous la forme année-mois-jour, par exemple {year}-03-01"
        )
    last_day = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last_day:
        raise where.fail(
            f"la date « {match.group(0)} » n'existe pas ({_MONTHS[month - 1]} {year} a "
            f"{last_day} jours) ; écrivez une date réelle, par exemple "
            f"{year}-{month:02d}-{last_day:02d}"
        )


def _date_format_hint(text: str, name: str) -> str:
    french = _FRENCH_DATE.match(text)
    if french:
        day, month, year = french.groups()
        example = f"{year}-{int(month):02d}-{int(day):02d}"
        return (
            f"la date « {text} » est écrite à la française ; écrivez-la année-mois-jour : "
            f"{name}: {example}"
        )
    return (
        f"« {text} » n'est pas une date lisible ; écrivez-la année-mois-jour, par exemple "
        f"{name}: 2026-03-01 (avec l'heure : {name}: 2026-03-01 14:30)"
    )


def did_you_mean(word: str, choices: tuple[str, ...] | list[str],
                 aliases: dict[str, str] | None = None) -> str | None:
    """The choice the volunteer most likely meant, from a typo or a French name."""
    folded = fold(word)
    if aliases and folded in aliases:
        return aliases[folded]
    matches = difflib.get_close_matches(folded, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def fold(text: str) -> str:
    """Lowercase without accents: 'Résumé' → 'resume'."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def slugify(text: str) -> str:
    """A URL-safe slug from French text: 'Café d'accueil' → 'cafe-d-accueil'."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
