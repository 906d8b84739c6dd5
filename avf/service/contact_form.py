"""The pré-accueil form: its fields (the names the service's page and the city sites' pages
post), and the checks a newcomer's message must pass, with one French message per field.

Nothing here knows HTTP: `read_contact_form` takes the posted fields and gives back either
a clean `ContactMessage` or, per field, what to fix, with what was typed kept to show it
again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from avf.service.form_text import french_number, one_line, text_block

TRAP = "site_web"  # the honeypot: hidden from people, filled in by robots

# The HTML standard's own check for <input type="email">, so the server agrees with browsers.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


@dataclass(frozen=True)
class Field:
    name: str  # as posted
    max_length: int  # characters, after spaces are tidied
    missing: str | None = None  # the message when it is left empty; None: optional
    too_long: str = ""  # may use {max} and {count}
    min_length: int = 0
    multiline: bool = False


FIELDS = (
    Field("nom", 200, missing="Indiquez votre nom.",
          too_long="Votre nom est trop long : {max} caractères au plus (il en compte {count})."),
    Field("email", 320,
          missing="Indiquez votre adresse email : l'équipe d'accueil vous répondra à cette "
                  "adresse.",
          too_long="Cette adresse email est trop longue : {max} caractères au plus."),
    Field("telephone", 50,
          too_long="Ce numéro de téléphone est trop long : {max} caractères au plus."),
    Field("arrivee", 100,
          too_long="Écrivez la date d'arrivée en quelques mots ({max} caractères au plus), "
                   "par exemple « janvier 2027 »."),
    Field("message", 5000, min_length=10, multiline=True,
          missing="Écrivez votre message.",
          too_long="Votre message est trop long : {max} caractères au plus (il en compte "
                   "{count}). Raccourcissez-le, ou appelez l'association."),
)
TOO_SHORT = ("Votre message est trop court : écrivez au moins {min} caractères, pour que "
             "l'équipe d'accueil sache comment vous aider.")
BAD_EMAIL = ("Cette adresse email n'est pas valable : vérifiez-la. Elle s'écrit comme "
             "prenom.nom@exemple.fr, sans espace.")


@dataclass(frozen=True)
class ContactMessage:
    """A newcomer's message, checked: what is stored and relayed."""

    name: str
    email: str  # lower-cased
    phone: str
    arrival: str
    message: str


@dataclass(frozen=True)
class ContactForm:
    values: dict[str, str]  # field name -> what was typed (spaces tidied), to show it again
    errors: dict[str, str]  # field name -> what to fix, in French; empty when all is well

    def message(self) -> ContactMessage:
        """The checked message; only for a form without errors."""
        if self.errors:
            raise ValueError("a form with errors has no message")
        return ContactMessage(name=self.values["nom"], email=self.values["email"].lower(),
                              phone=self.values["telephone"], arrival=self.values["arrivee"],
                              message=self.values["message"])


def read_contact_form(posted: Mapping[str, object]) -> ContactForm:
    """Tidy and check every field; collect every problem, not just the first."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in FIELDS:
        raw = posted.get(field.name)
        value = text_block(raw) if field.multiline else one_line(raw)
        values[field.name] = value
        count = len(value)
        if not value:
            if field.missing:
                errors[field.name] = field.missing
        elif count > field.max_length:
            errors[field.name] = field.too_long.format(max=french_number(field.max_length),
                                                       count=french_number(count))
        elif count < field.min_length:
            errors[field.name] = TOO_SHORT.format(min=field.min_length)
    if values["email"] and "email" not in errors and (
            not _EMAIL.match(values["email"]) or "=?" in values["email"]):
        # "=?": an RFC 2047 encoded word, which mail software would decode (maybe into a
        # line break): never a real address.
        errors["email"] = BAD_EMAIL
    return ContactForm(values, errors)


def caught_a_robot(posted: Mapping[str, object]) -> bool:
    """The honeypot was filled in: no person sees that field."""
    trap = posted.get(TRAP)
    return bool(trap.strip()) if isinstance(trap, str) else trap is not None
