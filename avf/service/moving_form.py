"""The fields of « Je déménage » and their checks, with a French message per field.

| field | meaning | rule |
| --- | --- | --- |
| `depart` | the city the member leaves | one of the member's own cities |
| `destination` | the city they move to | a city of the network, not the one they leave |
| `partager_adresse` | the welcome team may see their address | `oui` if ticked (not at first) |
| `arrivee` | arrival date, optional | `AAAA-MM-JJ` (a date field) or `JJ/MM/AAAA` |
| `message` | a few words for the welcome team, optional | at most MESSAGE_MAX characters |
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from starlette.datastructures import FormData

from avf.service.moves import MoveRequest

MESSAGE_MAX = 2000  # characters
FIELDS = ("depart", "destination", "arrivee", "message")
# Control characters a browser never sends in a text field, except the line breaks.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class MoveForm:
    values: dict[str, str]  # as typed, to show the form again
    errors: dict[str, str]  # field → French message
    request: MoveRequest | None = None  # when there is no error


def read_move_form(form: FormData, origins: Collection[str],
                   destinations: Collection[str]) -> MoveForm:
    """Check the posted fields against the member's cities (`origins`) and the network's
    (`destinations`)."""
    values = {name: CONTROL.sub("", str(form.get(name) or "")).strip() for name in FIELDS}
    values["message"] = values["message"].replace("\r\n", "\n")
    share = form.get("partager_adresse") == "oui"
    errors: dict[str, str] = {}
    if values["depart"] not in origins:
        errors["depart"] = "Choisissez la ville que vous quittez."
    if values["destination"] not in destinations:
        errors["destination"] = "Choisissez la ville où vous vous installez, dans la liste."
    elif values["destination"] == values["depart"]:
        errors["destination"] = "Choisissez une autre ville que celle que vous quittez."
    arrival = None
    if values["arrivee"]:
        arrival = parse_date(values["arrivee"])
        if arrival is None:
            errors["arrivee"] = ("Indiquez la date sous la forme jour/mois/année, par exemple "
                                 "15/09/2027, ou laissez ce champ vide.")
    if len(values["message"]) > MESSAGE_MAX:
        errors["message"] = (f"Votre message compte {len(values['message'])} caractères : "
                             f"raccourcissez-le à {MESSAGE_MAX} au plus.")
    values["partager_adresse"] = "oui" if share else ""
    if errors:
        return MoveForm(values, errors)
    return MoveForm(values, errors, MoveRequest(
        from_city=values["depart"], to_city=values["destination"], share_address=share,
        arrival=arrival, message=values["message"]))


def parse_date(typed: str) -> date | None:
    """A date typed `2027-09-15` (what date fields send) or `15/09/2027`; None otherwise."""
    french = FRENCH_DATE.match(typed)
    try:
        if french:
            day, month, year = (int(part) for part in french.groups())
            return date(year, month, day)
        return datetime.strptime(typed, "%Y-%m-%d").date()
    except ValueError:
        return None
