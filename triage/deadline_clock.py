"""Deadline arithmetic: when a deadline falls due, in calendar or in business hours (pure).

The clock mode is stored with each deadline, so a later change of configuration does not move
deadlines already running.

- CALENDAR counts real elapsed time. 48 hours are 48 hours on a stopwatch, also across a
  summer-time change: a concern received Saturday 28 March 2026 at 12:00 (CET) is due Monday
  30 March at 13:00 (CEST), not 12:00. The action plan's "within 48 hours" means elapsed hours;
  wall-clock arithmetic would give 47 or 49 real hours twice a year. (Python's `+` on a datetime
  in a zoneinfo zone is wall-clock arithmetic, which is why every sum here is done in UTC.)
- BUSINESS_HOURS counts only time inside the calendar's open spans on local dates that are not
  closed. A span is wall-clock time: open while the clock on the wall reads inside it, exactly
  as `intake.opening_hours.is_open` decides (08:00 is 08:00 local on both sides of a change).
  The time is counted in real minutes, as in calendar mode: a 00:00–24:00 span holds 23 hours
  on the spring-forward Sunday and 25 on the fall-back Sunday; wall time the spring change
  skips is never open, and a span that covers the repeated autumn hour counts it twice. A start
  outside the hours starts the clock at the next opening; a deadline that uses up a span to
  its last minute is due at that closing time, not at the next opening. A zero duration is
  due at the start.

The work is done span by span and day by day (never minute by minute), so long durations cost
a few operations per calendar day. Every result is in UTC; time is always a parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from denmark.closed_days import DEFAULT_CLOSURES, Closures, closed_dates
from intake.opening_hours import DAYS, OpeningHours, minute_of_day

DEFAULT_TIMEZONE = "Europe/Copenhagen"
_DAY_MINUTES = 24 * 60
# Defensive: a calendar still closed after this many days in a row is taken never to open.
_MAX_CLOSED_DAYS = 400

Span = tuple[int, int]  # [opening, closing) in minutes after local midnight


class DeadlineKind(StrEnum):
    TRIAGE = "triage"
    VISITATION = "visitation"


class ClockMode(StrEnum):
    CALENDAR = "calendar"
    BUSINESS_HOURS = "business_hours"


@dataclass(frozen=True)
class BusinessCalendar:
    """Open spans per weekday (Monday first) in a time zone, closed on Danish holidays and on
    the chosen customary closures. Build it with `from_hours` from the opening-hours shape
    used by hotlines ({"mon": [["08:00", "16:00"]], …})."""

    spans: tuple[tuple[Span, ...], ...]
    timezone: str = DEFAULT_TIMEZONE
    closures: Closures = DEFAULT_CLOSURES

    def __post_init__(self) -> None:
        if len(self.spans) != 7:
            raise ValueError("spans: one entry per weekday, Monday first")
        for day, day_spans in zip(DAYS, self.spans, strict=True):
            previous_closing = -1
            for opening, closing in day_spans:
                if not 0 <= opening < closing <= _DAY_MINUTES or opening <= previous_closing:
                    raise ValueError(f"spans.{day}: spans must be ordered, apart and non-empty")
                previous_closing = closing
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None

    @classmethod
    def from_hours(
        cls,
        opening_hours: OpeningHours,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        closures: Closures = DEFAULT_CLOSURES,
    ) -> BusinessCalendar:
        """Parse opening hours; errors name the bad field, e.g. "opening_hours.fri[1]".
        Overlapping or touching spans are merged so no time counts twice."""
        unknown = sorted(set(opening_hours) - set(DAYS))
        if unknown:
            raise ValueError(f"opening_hours.{unknown[0]}: not a weekday (use {', '.join(DAYS)})")
        week: list[tuple[Span, ...]] = []
        for day in DAYS:
            parsed: list[Span] = []
            for index, span in enumerate(opening_hours.get(day, ())):
                field = f"opening_hours.{day}[{index}]"
                try:
                    opening, closing = (minute_of_day(clock) for clock in span)
                except (TypeError, ValueError, AttributeError):
                    raise ValueError(f'{field}: expected ["HH:MM", "HH:MM"]') from None
                if opening >= closing:
                    raise ValueError(f"{field}: opens at or after it closes")
                parsed.append((opening, closing))
            week.append(_merged(parsed))
        return cls(spans=tuple(week), timezone=timezone, closures=closures)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # zoneinfo caches instances by key

    @property
    def has_open_time(self) -> bool:
        return any(self.spans)

    def is_closed_date(self, day: date) -> bool:
        return day in closed_dates(day.year, self.closures)

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The real instants of one local date whose wall-clock time lies in an open span,
        as ordered, non-overlapping UTC intervals (empty on a closed date)."""
        if self.is_closed_date(day):
            return []
        before, after, change = _offsets_on(self.timezone, day)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)  # naive wall, as UTC
        pieces: list[tuple[datetime, datetime]] = []
        for opening, closing in self.spans[day.weekday()]:
            wall_open = midnight + timedelta(minutes=opening)
            wall_close = midnight + timedelta(minutes=closing)
            # Before the change the wall clock reads UTC + `before`, from it on UTC + `after`:
            # a span maps to at most one piece on each side (two in the repeated autumn hour,
            # and the wall time skipped in spring maps to nothing).
            pieces.append((wall_open - before, min(wall_close - before, change)))
            pieces.append((max(wall_open - after, change), wall_close - after))
        return _union(pieces)

    def is_open(self, moment: datetime) -> bool:
        moment = _utc(moment, "moment")
        day = moment.astimezone(self.zone).date()
        return any(start <= moment < end for start, end in self.open_intervals(day))


def offset_from_start(
    start: datetime,
    offset: timedelta,
    mode: ClockMode,
    calendar: BusinessCalendar | None = None,
) -> datetime:
    """The moment `offset` of clock time after `start`, in UTC. Used for due times and for
    escalation steps alike."""
    start = _utc(start, "start")
    if offset < timedelta(0):
        raise ValueError("offset: must not be negative")
    if ClockMode(mode) is ClockMode.CALENDAR:
        return start + offset
    calendar = _business_calendar(calendar)
    if not offset:
        return start
    remaining = offset
    for opening, closing in _intervals_from(calendar, start):
        available = closing - opening
        if remaining <= available:  # equal: due at the closing time itself
            return opening + remaining
        remaining -= available
    raise ValueError(f"calendar: no open time within {_MAX_CLOSED_DAYS} days")


def due_at(
    start: datetime,
    duration: timedelta,
    mode: ClockMode,
    calendar: BusinessCalendar | None = None,
) -> datetime:
    """When a deadline of `duration` started at `start` falls due, in UTC."""
    return offset_from_start(start, duration, mode, calendar)


def business_time_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
    """Open time in [start, end); zero when end is not after start. The inverse of `due_at`:
    business_time_between(s, due_at(s, d, BUSINESS_HOURS, c), c) == d."""
    start, end = _utc(start, "start"), _utc(end, "end")
    total = timedelta(0)
    if end <= start:
        return total
    zone = calendar.zone
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    while day <= last:
        for opening, closing in calendar.open_intervals(day):
            overlap = min(closing, end) - max(opening, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def elapsed(
    start: datetime,
    end: datetime,
    mode: ClockMode,
    calendar: BusinessCalendar | None = None,
) -> timedelta:
    """Clock time from start to end in the given mode (zero when end is not after start)."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if ClockMode(mode) is ClockMode.CALENDAR:
        return max(end - start, timedelta(0))
    return business_time_between(start, end, _business_calendar(calendar))


def _intervals_from(
    calendar: BusinessCalendar, start: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals from `start` on (the first one clipped to it); stops after a long run of
    closed days so a calendar that never opens cannot loop forever."""
    day = start.astimezone(calendar.zone).date()
    closed_run = 0
    while closed_run < _MAX_CLOSED_DAYS:
        intervals = calendar.open_intervals(day)
        closed_run = 0 if intervals else closed_run + 1
        for opening, closing in intervals:
            if closing > start:
                yield max(opening, start), closing
        day += timedelta(days=1)


def _business_calendar(calendar: BusinessCalendar | None) -> BusinessCalendar:
    if calendar is None:
        raise ValueError("calendar: business hours need a calendar")
    if not calendar.has_open_time:
        raise ValueError("calendar: has no opening hours, so business time never passes")
    return calendar


@lru_cache(maxsize=4096)
def _offsets_on(timezone: str, day: date) -> tuple[timedelta, timedelta, datetime]:
    """The UTC offsets before and after a change of offset around a local date, and the
    instant of the change (far in the future when there is none). Looks 36 hours either side
    of the date's noon (UTC), which covers every instant the date's wall times can name; zones
    change their offset at most once in such a window."""
    zone = ZoneInfo(timezone)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    low, high = noon - timedelta(hours=36), noon + timedelta(hours=36)
    before, after = _offset(low, zone), _offset(high, zone)
    if before == after:
        return before, after, datetime.max.replace(tzinfo=UTC)
    # Bisect to the second: `low` keeps the old offset, `high` has the new one.
    low_s, high_s = 0, int((high - low).total_seconds())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if _offset(low + timedelta(seconds=middle), zone) == before:
            low_s = middle
        else:
            high_s = middle
    return before, after, low + timedelta(seconds=high_s)


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _union(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(interval for interval in intervals if interval[1] > interval[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _merged(spans: list[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for opening, closing in sorted(spans):
        if merged and opening <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closing))
        else:
            merged.append((opening, closing))
    return tuple(merged)


def _utc(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field}: must be timezone-aware")
    return moment.astimezone(UTC)
