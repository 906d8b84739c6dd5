"""Jinja filters of the avf theme: French dates, without relying on the system's locales.

Servers often lack the fr_FR locale; these names are spelled out so every site says
« samedi 5 décembre 2026 à 14 h 30 » whatever the machine.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from avf.theme.directory import directory_words
from avf.theme.france_map import france_map, overseas

if TYPE_CHECKING:
    from avf.content.model import Event

PARIS = ZoneInfo("Europe/Paris")
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def _local(moment: date) -> date:
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.astimezone(PARIS)
    return moment


def date_fr(moment: date, weekday: bool = False) -> str:
    """'5 décembre 2026', or 'samedi 5 décembre 2026' with weekday=True."""
    moment = _local(moment)
    day = "1er" if moment.day == 1 else str(moment.day)
    text = f"{day} {MONTHS[moment.month - 1]} {moment.year}"
    return f"{DAYS[moment.weekday()]} {text}" if weekday else text


def time_fr(moment: datetime) -> str:
    """'14 h 30', or '14 h' on the hour."""
    moment = _local(moment)  # type: ignore[assignment]
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def event_when(event: Event) -> str:
    """'samedi 5 décembre 2026, de 14 h à 17 h', across days, or whole days."""
    start, end = event.start, event.end
    if event.all_day:
        if end is None or end.date() == start.date():
            return f"{date_fr(start, weekday=True)} (toute la journée)"
        return f"du {date_fr(start, weekday=True)} au {date_fr(end, weekday=True)}"
    start_local = _local(start)
    if end is None:
        return f"{date_fr(start, weekday=True)} à {time_fr(start)}"
    end_local = _local(end)
    if start_local.date() == end_local.date():  # type: ignore[union-attr]
        return f"{date_fr(start, weekday=True)}, de {time_fr(start)} à {time_fr(end)}"
    return (f"du {date_fr(start, weekday=True)} à {time_fr(start)} "
            f"au {date_fr(end, weekday=True)} à {time_fr(end)}")


def iso(moment: date) -> str:
    return moment.isoformat()


def unbroken_times(text: str) -> str:
    """« 14 h 30 » and « 14 h » held on one line (no-break spaces): a phone-width card
    must not leave « 14 » at the end of one line and « h 30 » on the next."""
    return _TIME.sub(lambda found: found.group(0).replace(" ", NO_BREAK_SPACE), text)


NO_BREAK_SPACE = "\u00a0"
_TIME = re.compile(r"\b\d{1,2} h(?: \d{2})?\b")

FILTERS = {"date_fr": date_fr, "unbroken_times": unbroken_times, "time_fr": time_fr,
           "event_when": event_when, "iso": iso,
           "directory_words": directory_words, "france_map": france_map,
           "overseas": overseas}
