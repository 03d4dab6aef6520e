"""On-call schedules: who is on call at a moment, and who is next (pure).

A schedule is one rotation plus overrides; no layers. The hotline has one on-call line, and a
second layer (say, nights) can be a second schedule the caller asks in turn; overrides cover
holidays, absences (sick days among them) and swaps.

- A **rotation** hands over at a local wall-clock time (default Monday 09:00, Europe/
  Copenhagen) every `shift_days` days (default 7), passing through its participants in order.
  Shifts are counted in local days, so a 09:00 handoff stays at 09:00 local across summer-time
  changes (the shift that spans the change is an hour shorter or longer). A handoff time that
  the spring change skips is read as PEP 495 does (02:30 → 03:30 summer time); one that occurs
  twice in autumn, as its first occurrence. The first shift starts at the first handoff on or
  after `start`; before it nobody is on call from the rotation.
- An **override** puts someone on call for [start, end) whatever the rotation says; when
  overrides overlap, the one listed last wins (the newest, if the caller keeps them in order of
  creation).

Times in, UTC out; nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Copenhagen"


class OverrideReason(StrEnum):
    HOLIDAY = "holiday"
    # Any absence, sickness included: the reason is never recorded (it would be health data).
    ABSENCE = "absence"
    SWAP = "swap"
    OTHER = "other"


@dataclass(frozen=True)
class Rotation:
    # Staff ids in the order they take their shifts.
    participants: tuple[int, ...]
    start: date
    handoff_weekday: int = 0  # Monday
    handoff_time: time = time(9, 0)
    timezone: str = DEFAULT_TIMEZONE
    shift_days: int = 7

    def __post_init__(self) -> None:
        if not self.participants:
            raise ValueError("participants: a rotation needs at least one person")
        if not 0 <= self.handoff_weekday <= 6:
            raise ValueError("handoff_weekday: 0 (Monday) to 6 (Sunday)")
        if self.handoff_time.tzinfo is not None:
            raise ValueError("handoff_time: a local wall-clock time, without a time zone")
        if self.shift_days < 1:
            raise ValueError("shift_days: at least one day")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def first_handoff_date(self) -> date:
        return self.start + timedelta(days=(self.handoff_weekday - self.start.weekday()) % 7)

    def handoff(self, index: int) -> datetime:
        """The instant (UTC) shift `index` begins; shift 0 is the first."""
        day = self.first_handoff_date + timedelta(days=index * self.shift_days)
        return datetime.combine(day, self.handoff_time, tzinfo=self.zone).astimezone(UTC)

    def shift_index(self, moment: datetime) -> int | None:
        """The shift running at `moment`, or None before the rotation starts."""
        moment = _utc(moment, "moment")
        days = (moment.astimezone(self.zone).date() - self.first_handoff_date).days
        index = days // self.shift_days
        if moment < self.handoff(index):  # the shift's first day, before the handoff time
            index -= 1
        return index if index >= 0 else None

    def on_call_at(self, moment: datetime) -> int | None:
        index = self.shift_index(moment)
        return None if index is None else self.participants[index % len(self.participants)]


@dataclass(frozen=True)
class Override:
    start: datetime
    end: datetime
    staff_id: int
    reason: OverrideReason = OverrideReason.OTHER

    def __post_init__(self) -> None:
        # Kept in UTC so comparisons never meet an ambiguous local time.
        object.__setattr__(self, "start", _utc(self.start, "start"))
        object.__setattr__(self, "end", _utc(self.end, "end"))
        if self.end <= self.start:
            raise ValueError("end: must be after start")

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Schedule:
    rotation: Rotation
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class OnCall:
    """Who is on call now, and who takes over when (None: nobody / no change ahead)."""

    now: int | None
    next: int | None
    changes_at: datetime | None


def on_call_at(schedule: Schedule, moment: datetime) -> int | None:
    """The staff id on call at `moment`: an override if one covers it, else the rotation."""
    moment = _utc(moment, "moment")
    for override in reversed(schedule.overrides):
        if override.covers(moment):
            return override.staff_id
    return schedule.rotation.on_call_at(moment)


def next_change(schedule: Schedule, moment: datetime) -> tuple[datetime, int | None] | None:
    """The first moment after `moment` at which someone else is on call, and who; None when
    nobody else ever will be (one participant, or all the same, and no overrides ahead).
    A handoff to the same person, or an override by whoever is on call anyway, is no change."""
    moment = _utc(moment, "moment")
    rotation = schedule.rotation
    current = on_call_at(schedule, moment)
    edges = sorted(
        {edge for o in schedule.overrides for edge in (o.start, o.end) if edge > moment},
        reverse=True,  # popped from the end, earliest first
    )
    index = rotation.shift_index(moment)
    shift = 0 if index is None else index + 1
    # Once past the last override edge the rotation repeats: a full cycle with nobody new means
    # nobody new ever.
    handoffs_left = len(rotation.participants) + 1
    while handoffs_left:
        handoff = rotation.handoff(shift)
        if edges and edges[-1] <= handoff:
            at = edges.pop()
        else:
            at, shift = handoff, shift + 1
            if not edges:
                handoffs_left -= 1
        who = on_call_at(schedule, at)
        if who != current:
            return at, who
    return None


def on_call_now_and_next(schedule: Schedule, moment: datetime) -> OnCall:
    change = next_change(schedule, moment)
    now = on_call_at(schedule, moment)
    if change is None:
        return OnCall(now=now, next=None, changes_at=None)
    return OnCall(now=now, next=change[1], changes_at=change[0])


def _utc(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field}: must be timezone-aware")
    return moment.astimezone(UTC)
