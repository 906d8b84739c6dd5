"""The editor's form, field by field, and the file it makes: no syntax to know.

A volunteer fills plain fields (a title, a date and a time, a summary, tags separated by
commas — shown as chips —, "réservé aux adhérents", and for an event its start, end,
place and registration) and writes the text in the WYSIWYG editor, which hands Markdown
back in the `body` field. `draft_from_form` lays those values over the file's previous
fields, so what the form does not show is kept; `form_values` does the reverse to fill the
form. Every part of the editor (the pages, autosave, preview) goes through these two.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from avf.content.values import PARIS
from avf.editor.drafts import Draft

# Every field the form sends (besides `action`, `base`, `path`, `csrf_token`…).
TEXT_FIELDS = ("title", "summary", "category", "author", "image", "image_alt")
EVENT_PREFIX = "event_"
MAX_FIELD = 2_000  # characters of a one-line field
MAX_BODY = 200_000  # characters of the text itself (a long page is ~20,000)
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def form_values(draft: Draft) -> dict[str, str]:
    """The values to fill the form with, all text (dates split into date and time)."""
    fields = draft.fields
    values = {name: _text(fields.get(name)) for name in TEXT_FIELDS}
    values["title"] = _text(fields.get("title"))
    values["date"], values["time"] = _split_moment(fields.get("date"))
    values["tags"] = ", ".join(_text(tag) for tag in _as_list(fields.get("tags")))
    values["members_only"] = "1" if _text(fields.get("visibility")) in (
        "members", "membres", "adhérents", "adherents") else ""
    values["order"] = _text(fields.get("order"))
    event = fields.get("event") if isinstance(fields.get("event"), dict) else None
    values["event"] = "1" if event else ""
    event = event or {}
    values["event_start_date"], values["event_start_time"] = _split_moment(event.get("start"))
    values["event_end_date"], values["event_end_time"] = _split_moment(event.get("end"))
    values["event_place"] = _text(event.get("place"))
    values["event_registration"] = "1" if _truthy(event.get("registration")) else ""
    values["event_capacity"] = _text(event.get("capacity"))
    values["body"] = draft.body
    return values


def draft_from_form(form: Mapping[str, str], previous: Draft | None = None,
                    kind: str = "post") -> Draft:
    """The draft the form describes, over `previous` (its unknown fields are kept; its
    `status` too: the workflow, not the form, changes a status)."""
    fields = dict(previous.fields) if previous else {}
    for name in TEXT_FIELDS:
        _put(fields, name, _line(form.get(name, "")))
    if "image" not in fields:  # « Pas de photo »: its description goes with it
        fields.pop("image_alt", None)
    _put_moment(fields, "date", form.get("date", ""), form.get("time", ""))
    tags = [tag for tag in (_line(part) for part in form.get("tags", "").split(",")) if tag]
    _put(fields, "tags", list(dict.fromkeys(tags)))
    if form.get("members_only"):
        fields["visibility"] = "members"
    else:
        fields.pop("visibility", None)
    if kind == "page":
        _put(fields, "order", _line(form.get("order", "")))
        fields.pop("event", None)
    elif form.get("event"):
        fields["event"] = _event(form, fields.get("event"))
    else:
        fields.pop("event", None)
    body = form.get("body", "").replace("\r\n", "\n")[:MAX_BODY]
    return Draft(fields, body)


def _event(form: Mapping[str, str], previous: object) -> dict[str, object]:
    event = dict(previous) if isinstance(previous, dict) else {}
    _put_moment(event, "start", form.get("event_start_date", ""),
                form.get("event_start_time", ""))
    _put_moment(event, "end", form.get("event_end_date", ""), form.get("event_end_time", ""))
    _put(event, "place", _line(form.get("event_place", "")))
    if form.get("event_registration"):
        event["registration"] = "true"
        _put(event, "capacity", _line(form.get("event_capacity", "")))
    else:
        event.pop("registration", None)
        event.pop("capacity", None)
    return event


def _put_moment(fields: dict[str, object], name: str, day: str, time: str) -> None:
    """Write a date and time, unless it is the moment already written (in whatever form:
    `2025-09-13T10:00:00+02:00` stays as it is when the form shows 2025-09-13, 10:00)."""
    if name in fields and _split_moment(fields[name]) == (_line(day), _line(time)):
        return
    _put(fields, name, _moment(day, time))


def _moment(day: str, time: str) -> str:
    """"2026-12-05" or "2026-12-05 14:30" (Paris time, as the content format reads it);
    what is not a date is kept as typed, for the validation to explain."""
    day, time = _line(day), _line(time)
    if not day:
        return ""
    if time and _TIME.match(time) and _DATE.match(day):
        hours, minutes = time.split(":")
        return f"{day} {int(hours):02d}:{minutes}"
    return f"{day} {time}".strip()


def _split_moment(value: object) -> tuple[str, str]:
    text = _text(value)
    if not text:
        return "", ""
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return text, ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(PARIS)
    has_time = bool(re.search(r"\d[T ]\d", text))
    return f"{moment:%Y-%m-%d}", f"{moment:%H:%M}" if has_time else ""


def _put(fields: dict[str, object], name: str, value: object) -> None:
    if value in ("", None, []):
        fields.pop(name, None)
    else:
        fields[name] = value


def _line(value: str) -> str:
    return " ".join(str(value).split())[:MAX_FIELD]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _as_list(value: object) -> list[object]:
    if isinstance(value, list):
        return value
    return [part.strip() for part in str(value).split(",") if part.strip()] if value else []


def _truthy(value: object) -> bool:
    return _text(value).strip().lower() in ("true", "oui", "yes", "1", "vrai")
