"""Events: upcoming and past lists for the theme, and the city's agenda as iCalendar.

An event is a published public post with an `event:` block. `agenda.ics` lets people
subscribe to a city's agenda from their phone's calendar (RFC 5545); beside each event's
page, `actualites/<slug>.ics` holds that event alone (the same VEVENT, the same UID), for
« Ajouter à mon agenda ». Member-only posts were taken out of `generator.articles` by
avf_visibility before this runs: they get no file, so nothing of theirs reaches OUT/public.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from pelican import signals

ICS_LINE_LIMIT = 75  # octets per line before folding, RFC 5545 §3.1


def build_time(settings: dict[str, Any]) -> datetime:
    """'Now' for upcoming/past: AVF_NOW (for reproducible tests) or the clock."""
    fixed = settings.get("AVF_NOW")
    return datetime.fromisoformat(fixed) if fixed else datetime.now(UTC)


def add_events(generator: Any) -> None:
    now = build_time(generator.settings)
    events = [a for a in generator.articles if getattr(a, "event", None) is not None]
    upcoming = [a for a in events if a.event.finishes > now]
    past = [a for a in events if a.event.finishes <= now]
    generator.context["upcoming_events"] = sorted(upcoming, key=lambda a: a.event.start)
    generator.context["past_events"] = sorted(past, key=lambda a: a.event.start, reverse=True)
    generator.avf_events = sorted(events, key=lambda a: a.event.start)


def write_ics(generator: Any, writer: Any) -> None:
    save_as = generator.settings.get("AGENDA_ICS_SAVE_AS")
    if not save_as:
        return
    site_url = generator.settings["SITEURL"].rstrip("/") + "/"
    domain = generator.settings.get("AVF_CITY", {}).get("slug", "avf") + ".avf"
    calendar = agenda_ics(getattr(generator, "avf_events", []),
                          name=generator.settings["SITENAME"], site_url=site_url, domain=domain)
    _write(os.path.join(writer.output_path, save_as), calendar)
    for article in getattr(generator, "avf_events", []):
        single = agenda_ics([article], name=article.title, site_url=site_url, domain=domain)
        _write(os.path.join(writer.output_path, event_ics_path(article)), single)


def event_ics_path(article: Any) -> str:
    """`actualites/<slug>.ics` beside `actualites/<slug>.html`: the event's own calendar."""
    return os.path.splitext(article.save_as)[0] + ".ics"


def _write(path: str, calendar: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as stream:
        stream.write(calendar)


def agenda_ics(events: list[Any], name: str, site_url: str, domain: str) -> str:
    """An iCalendar document with one VEVENT per event, CRLF lines folded at 75 octets.

    DTSTAMP is when the post was last changed, not the build time: the same content gives
    the same bytes, so calendar apps and caches see a change only when there is one.
    """
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//AVF//avf//FR",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(name)}",
             "X-WR-TIMEZONE:Europe/Paris"]
    for article in events:
        event = article.event
        lines += [
            "BEGIN:VEVENT",
            f"UID:{article.slug}@{domain}",
            f"DTSTAMP:{_utc(getattr(article, 'modified', None) or article.date)}",
        ]
        if event.all_day:  # whole days: DTEND is the day after the last one (RFC 5545)
            lines += [f"DTSTART;VALUE=DATE:{event.start:%Y%m%d}",
                      f"DTEND;VALUE=DATE:{event.finishes:%Y%m%d}"]
        else:
            lines.append(f"DTSTART:{_utc(event.start)}")
            if event.end is not None:
                lines.append(f"DTEND:{_utc(event.end)}")
        lines.append(f"SUMMARY:{_escape(article.title)}")
        if event.place:
            lines.append(f"LOCATION:{_escape(event.place)}")
        summary = getattr(article, "metadata", {}).get("summary")
        if summary:
            lines.append(f"DESCRIPTION:{_escape(summary)}")
        lines += [f"URL:{urljoin(site_url, article.url)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a character."""
    if len(line) * 4 <= ICS_LINE_LIMIT or len(line.encode("utf-8")) <= ICS_LINE_LIMIT:
        return line
    chunks, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = ICS_LINE_LIMIT if not chunks else ICS_LINE_LIMIT - 1
        if size + width > limit:
            chunks.append(current)
            current, size = "", 0
        current += char
        size += width
    chunks.append(current)
    return "\r\n ".join(chunks)


def register() -> None:
    signals.article_generator_finalized.connect(add_events)
    signals.article_writer_finalized.connect(write_ics)
