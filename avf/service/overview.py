"""What the webmaster's dashboard shows, read from the build report, the published output
and the database: one row per city, and the network's figures for the year's review.

Reads only (files and tables); it never starts a build (the dashboard asks the build queue).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, distinct, func, select

from avf.content import discover_cities
from avf.store.schema import NETWORK, build_jobs, contact_messages, outbox, people, roles

PARIS = ZoneInfo("Europe/Paris")
DORMANT_AFTER = timedelta(days=60)  # nothing published for this long: the city is flagged
REPORT = "build-report.json"


@dataclass
class CityRow:
    slug: str
    name: str
    online: bool
    status: str  # ok | failed | never (not built yet)
    built_at: datetime | None = None
    seconds: float | None = None
    online_since: datetime | None = None
    last_published: date | None = None
    publications: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, object]] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)
    queued: bool = False  # a build of this city is waiting or running

    def is_dormant(self, today: date) -> bool:
        return self.last_published is None or today - self.last_published > DORMANT_AFTER


@dataclass
class NetworkFigures:
    cities: int
    online: int
    failing: int
    dormant: int
    members: int
    active_this_month: int
    public_posts: int
    member_posts: int
    contact_messages_this_month: int
    mails_waiting: int
    mails_failed: int


def city_rows(content_dir: Path, output_dir: Path, engine: Engine) -> list[CityRow]:
    """Every city of the content folder, plus any still in the report (a removed folder)."""
    report = read_report(output_dir)
    slugs = sorted(set(discover_cities(content_dir)) | set(report))
    waiting = _cities_waiting(engine)
    rows = []
    for slug in slugs:
        entry = report.get(slug, {})
        rows.append(CityRow(
            slug=slug, name=str(entry.get("name") or slug),
            online=(output_dir / "public" / slug / "index.html").is_file(),
            status=str(entry.get("status", "never")),
            built_at=_moment(entry.get("built_at")), seconds=entry.get("seconds"),
            online_since=_moment(entry.get("online_since")),
            last_published=_day(entry.get("last_published")),
            publications=dict(entry.get("publications") or {}),
            errors=list(entry.get("errors") or []), warnings=list(entry.get("warnings") or []),
            queued=slug in waiting or "*" in waiting))
    return rows


def network_figures(rows: list[CityRow], engine: Engine, now: datetime) -> NetworkFigures:
    today = now.astimezone(PARIS).date()
    month_start = datetime(today.year, today.month, 1, tzinfo=PARIS)
    active_roles = and_(roles.c.city != NETWORK, roles.c.suspended_at.is_(None))
    city_people = select(roles.c.person_id).where(active_roles).distinct()
    with engine.connect() as connection:
        members = connection.execute(
            select(func.count()).select_from(city_people.subquery())).scalar_one()
        active = connection.execute(
            select(func.count(distinct(people.c.id))).select_from(people.join(roles))
            .where(and_(active_roles, people.c.last_seen_at >= month_start))
        ).scalar_one()
        messages = connection.execute(
            select(func.count()).select_from(contact_messages)
            .where(contact_messages.c.created_at >= month_start)).scalar_one()
        mails = dict(connection.execute(
            select(outbox.c.status, func.count()).group_by(outbox.c.status)).all())
    return NetworkFigures(
        cities=len(rows), online=sum(row.online for row in rows),
        failing=sum(row.status == "failed" for row in rows),
        dormant=sum(row.is_dormant(today) for row in rows),
        members=int(members), active_this_month=int(active),
        public_posts=sum(row.publications.get("public", 0) for row in rows),
        member_posts=sum(row.publications.get("members", 0) for row in rows),
        contact_messages_this_month=int(messages),
        mails_waiting=int(mails.get("pending", 0)), mails_failed=int(mails.get("failed", 0)))


def read_report(output_dir: Path) -> dict[str, dict[str, object]]:
    """The cities of OUT/build-report.json; empty when there is none yet or it is damaged."""
    try:
        cities = json.loads((output_dir / REPORT).read_text(encoding="utf-8"))["cities"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {slug: entry for slug, entry in cities.items() if isinstance(entry, dict)}


def _cities_waiting(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(
            select(build_jobs.c.city).distinct()
            .where(build_jobs.c.kind == "build",
                   build_jobs.c.status.in_(("queued", "running")))).scalars())


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
