"""The two forms that bring a person into a city: a city admin's invitation and a visitor's
join request. Their fields, and the checks they must pass, with one French message per
field; the same checks as the rows of an imported list (member_csv).

Nothing here knows HTTP or the store: `read_invitation` and `read_join_request` take the
posted fields and give back the clean values, or, per field, what to fix.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from avf.service.accounts import InvalidEmail, normalize_email

NAME_MAX = 200  # characters: people.display_name
EMAIL_MAX = 320
PHONE_MAX = 50  # profiles.phone
INTERESTS_MAX = 300  # profiles.interests
MESSAGE_MAX = 2000  # a visitor's few words to the city admins
REASON_MAX = 500  # the optional reason of a declined request

NAME_MISSING = "Indiquez le nom."
EMAIL_MISSING = "Indiquez l'adresse email."
TOO_LONG = "Trop long : {max} caractères au plus (il y en a {count})."


@dataclass(frozen=True)
class Invitee:
    """A person a city admin brings in (typed, imported, or approved from a request)."""

    name: str
    email: str  # normalized (accounts.normalize_email)
    phone: str = ""
    interests: str = ""


@dataclass(frozen=True)
class JoinRequestForm:
    """What a visitor asks with: who they are and, optionally, a few words."""

    invitee: Invitee
    message: str


@dataclass(frozen=True)
class CheckedForm:
    values: dict[str, str]  # field name -> what was typed (tidied), to show it again
    errors: dict[str, str]  # field name -> what to fix, in French; empty when all is well


INVITATION_FIELDS = {"nom": NAME_MAX, "email": EMAIL_MAX, "telephone": PHONE_MAX,
                     "interets": INTERESTS_MAX}
JOIN_FIELDS = {"nom": NAME_MAX, "email": EMAIL_MAX, "telephone": PHONE_MAX,
               "message": MESSAGE_MAX}


def read_invitation(posted: Mapping[str, object]) -> tuple[CheckedForm, Invitee | None]:
    """The invitation form checked; the invitee when there is nothing to fix."""
    form = _check(posted, INVITATION_FIELDS, multiline=())
    if form.errors:
        return form, None
    values = form.values
    return form, Invitee(name=values["nom"], email=normalize_email(values["email"]),
                         phone=values["telephone"], interests=values["interets"])


def read_join_request(posted: Mapping[str, object]) -> tuple[CheckedForm, JoinRequestForm | None]:
    """The visitor's join request checked; the request when there is nothing to fix."""
    form = _check(posted, JOIN_FIELDS, multiline=("message",))
    if form.errors:
        return form, None
    values = form.values
    invitee = Invitee(name=values["nom"], email=normalize_email(values["email"]),
                      phone=values["telephone"])
    return form, JoinRequestForm(invitee=invitee, message=values["message"])


def read_reason(posted: Mapping[str, object]) -> tuple[str, str | None]:
    """The optional reason of a declined request: (the text, what to fix or None)."""
    raw = posted.get("motif")
    reason = tidy(raw if isinstance(raw, str) else "", multiline=True)
    if len(reason) > REASON_MAX:
        return reason, TOO_LONG.format(max=REASON_MAX, count=len(reason))
    return reason, None


def check_person(name: str, email: str, phone: str, interests: str) -> tuple[Invitee | None, str]:
    """One row of an imported list: the invitee, or None and the reason (French)."""
    problems = []
    if not name:
        problems.append("nom manquant")
    elif len(name) > NAME_MAX:
        problems.append(f"nom trop long ({NAME_MAX} caractères au plus)")
    normalized = ""
    if not email:
        problems.append("adresse email manquante")
    else:
        try:
            normalized = normalize_email(email)
        except InvalidEmail as error:
            problems.append(str(error))
    if len(phone) > PHONE_MAX:
        problems.append(f"téléphone trop long ({PHONE_MAX} caractères au plus)")
    if len(interests) > INTERESTS_MAX:
        problems.append(f"centres d'intérêt trop longs ({INTERESTS_MAX} caractères au plus)")
    if problems:
        return None, " ; ".join(problems)
    return Invitee(name=name, email=normalized, phone=phone, interests=interests), ""


def tidy(value: str, multiline: bool = False) -> str:
    """Without control characters; one line (one space between words) unless `multiline`,
    where line ends become `\\n`. A line break in a name would end up in a mail header."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(char for char in value
                    if char in "\n\t" or unicodedata.category(char) != "Cc")
    if not multiline:
        return " ".join(value.split())
    return value.strip()


def _check(posted: Mapping[str, object], fields: dict[str, int],
           multiline: tuple[str, ...]) -> CheckedForm:
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, max_length in fields.items():
        raw = posted.get(name)
        value = tidy(raw if isinstance(raw, str) else "", multiline=name in multiline)
        values[name] = value
        if len(value) > max_length:
            errors[name] = TOO_LONG.format(max=max_length, count=len(value))
    if not values["nom"]:
        errors["nom"] = NAME_MISSING
    if not values["email"]:
        errors["email"] = EMAIL_MISSING
    elif "email" not in errors:
        try:
            normalize_email(values["email"])
        except InvalidEmail as error:
            errors["email"] = f"{error}."
    return CheckedForm(values, errors)
