"""The profile form: its fields (French names, as posted) and the checks, one French
message per field, with what was typed kept to show it again. Nothing here knows HTTP."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from avf.service.form_text import french_number, one_line, text_block
from avf.service.profiles import (
    ABOUT_MAX,
    INTERESTS_MAX,
    LANGUAGES_MAX,
    NAME_MAX,
    PHONE_MAX,
    Profile,
    ProfileEdit,
)

CHECKED = "oui"  # the value of a ticked box
# How the news come (field `rythme`): the form's values are the stored ones
FREQUENCIES = ("digest", "weekly", "each")
TEXT_FIELDS = ("nom", "a_propos", "centres_interet", "langues", "telephone")
LIMITS = {"nom": NAME_MAX, "a_propos": ABOUT_MAX, "centres_interet": INTERESTS_MAX,
          "langues": LANGUAGES_MAX, "telephone": PHONE_MAX}
TOO_LONG = {
    "nom": "Votre nom est trop long : {max} caractères au plus (il en compte {count}).",
    "a_propos": "Votre présentation est trop longue : {max} caractères au plus (elle en "
                "compte {count}). Raccourcissez-la un peu.",
    "centres_interet": "Vos centres d'intérêt sont trop longs : {max} caractères au plus "
                       "(ils en comptent {count}).",
    "langues": "La liste des langues est trop longue : {max} caractères au plus (elle en "
               "compte {count}).",
    "telephone": "Ce numéro de téléphone est trop long : {max} caractères au plus.",
}
NAME_FOR_DIRECTORY = ("Pour apparaître dans l'annuaire, indiquez votre nom : c'est lui que "
                      "les autres membres verront.")
BAD_PHONE = ("Ce numéro de téléphone ne semble pas valable : écrivez seulement des chiffres, "
             "des espaces, et si besoin le signe +, par exemple 06 12 34 56 78.")
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")
MIN_PHONE_DIGITS = 6


@dataclass(frozen=True)
class ProfileForm:
    values: dict[str, str]  # field -> what was typed (tidied); boxes: CHECKED or ""
    errors: dict[str, str]  # field -> what to fix, in French; empty when all is well

    def edit(self) -> ProfileEdit:
        """The checked edit; only for a form without errors."""
        if self.errors:
            raise ValueError("a form with errors has no edit")
        return ProfileEdit(
            display_name=self.values["nom"], about=self.values["a_propos"],
            interests=self.values["centres_interet"], languages=self.values["langues"],
            phone=self.values["telephone"], in_directory=self.values["annuaire"] == CHECKED,
            news_by_email=self.values["nouvelles"] == CHECKED,
            news_frequency=self.values["rythme"])


def values_of(profile: Profile) -> dict[str, str]:
    """The form's fields filled from a stored profile."""
    return {"nom": profile.display_name, "a_propos": profile.about,
            "centres_interet": profile.interests, "langues": profile.languages,
            "telephone": profile.phone,
            "annuaire": CHECKED if profile.in_directory else "",
            "nouvelles": CHECKED if profile.news_by_email else "",
            "rythme": profile.news_frequency}


def read_profile_form(posted: Mapping[str, object]) -> ProfileForm:
    """Tidy and check every field; collect every problem, not just the first."""
    values = {name: (text_block if name == "a_propos" else one_line)(posted.get(name))
              for name in TEXT_FIELDS}
    values["annuaire"] = CHECKED if posted.get("annuaire") == CHECKED else ""
    values["nouvelles"] = CHECKED if posted.get("nouvelles") == CHECKED else ""
    rhythm = posted.get("rythme")
    values["rythme"] = rhythm if isinstance(rhythm, str) and rhythm in FREQUENCIES else "digest"
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = TOO_LONG[name].format(max=french_number(limit),
                                                 count=french_number(len(values[name])))
    if values["annuaire"] and not values["nom"]:
        errors["nom"] = NAME_FOR_DIRECTORY
    phone = values["telephone"]
    if phone and "telephone" not in errors and (
            not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < MIN_PHONE_DIGITS):
        errors["telephone"] = BAD_PHONE
    return ProfileForm(values, errors)
