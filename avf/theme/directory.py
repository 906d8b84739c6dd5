"""The portal's directory of cities: the words its filter matches, folded like the query.

The page's script (`themes/avf/static/js/annuaire.js`) folds what a visitor types the same
way — lower case, no accents, hyphens and apostrophes as spaces — so « orleans » finds
Orléans and « saint etienne » finds Saint-Étienne. Each typed word must start one of these
words: « 35 » finds Ille-et-Vilaine (35) and 35000, not 13500.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

_SEPARATORS = re.compile(r"[\s\-'’.,()/]+")


def fold(text: str) -> str:
    """Lower case, accents and ligatures removed, one space between words."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFD", text.lower())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(word for word in _SEPARATORS.split(bare) if word)


def directory_words(city: Mapping[str, object]) -> str:
    """What the directory filter matches for a city: its names, postal codes, department
    (name and number) and region, folded, each word once."""
    parts = [city.get("city"), city.get("name"), city.get("department"),
             city.get("department_code"), city.get("region"),
             *(city.get("postal_codes") or [])]  # type: ignore[misc]
    words: list[str] = []
    for part in parts:
        for word in fold(str(part or "")).split():
            if word not in words:
                words.append(word)
    return " ".join(words)
