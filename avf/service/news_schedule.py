"""When a member's news mail may go: the slots of each frequency and the caps.

- **digest** (the default): slots on Tuesday and Friday at 08:00, Paris time; a slot is
  open for `SLOT_OPEN` (until 20:00): news that come later wait for the next slot, so
  mails arrive in the morning of the slot's day, or the same day. One digest per slot at
  most (its period key, `digest:<slot date>`, is unique per person in
  `news_deliveries`), and never a third one within a rolling 7 days: a digest is held
  while two were created in the last 7 days. The slots alone would not guarantee that —
  a Tuesday slot sent late (the service was down) followed by Friday's and next Tuesday's
  — so the rolling count is the cap, the slots the rhythm. A slot that cannot go because of
  the cap waits for the next pass (at most an hour, the housekeeping's rhythm) and its
  news are never lost: a mail carries everything since the previous one.
- **weekly**: one slot a week, Friday 08:00 Paris (`weekly:<slot date>`), open as long,
  at most one in a rolling 7 days.
- **each**: a mail as soon as a pass finds something new, bundling what that pass found
  (`each:<last publication id>:<last topic id>`: the same news give the same key, so a
  crashed pass sent again never mails them twice). Not capped: the member asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
SLOT_TIME = time(8, 0)
DIGEST_DAYS = (1, 4)  # Tuesday, Friday (Monday is 0)
WEEKLY_DAYS = (4,)  # Friday
SLOT_OPEN = timedelta(hours=12)  # a slot's mail goes between 08:00 and 20:00, or waits
ROLLING = timedelta(days=7)
CAPS = {"digest": 2, "weekly": 1}  # mails of that frequency per rolling 7 days
FREQUENCIES = ("digest", "weekly", "each")


@dataclass(frozen=True)
class Slot:
    period: str  # the key stored in news_deliveries.period
    starts: datetime


def current_slot(frequency: str, now: datetime) -> Slot:
    """The latest slot of `frequency` that started at or before `now`."""
    days = DIGEST_DAYS if frequency == "digest" else WEEKLY_DAYS
    local = now.astimezone(PARIS)
    for back in range(8):
        day: date = local.date() - timedelta(days=back)
        if day.weekday() not in days:
            continue
        starts = datetime.combine(day, SLOT_TIME, tzinfo=PARIS)
        if starts <= local:
            return Slot(f"{frequency}:{day.isoformat()}", starts.astimezone(UTC))
    raise AssertionError("a week always holds a slot")  # unreachable: 8 days looked at


def is_open(slot: Slot, now: datetime) -> bool:
    """Whether a mail may still go for `slot` at `now`."""
    return slot.starts <= now < slot.starts + SLOT_OPEN


def within_cap(frequency: str, recent: list[datetime], now: datetime) -> bool:
    """Whether one more mail of `frequency` keeps its cap, given when the member's mails of
    that frequency were created (`recent`)."""
    cap = CAPS.get(frequency)
    if cap is None:
        return True
    return sum(1 for when in recent if now - ROLLING < when <= now) < cap
