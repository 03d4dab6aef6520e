"""Opening hours: whether a hotline is open at a moment, in its own time zone (pure).

Hours are local wall-clock spans per weekday, e.g. {"mon": [["08:00", "22:00"]], …}, in the
hotline's time zone (Europe/Copenhagen). The moment is converted to that zone first, so summer
time changes need no special handling: 08:00 is 08:00 local on either side of the change.
A span may close at "24:00" (midnight); spans do not cross midnight (split them instead).

Closed dates (public holidays, when the hotline closes on them) are local dates. Whether a
hotline closes on holidays is configuration (HOTLINE_CLOSED_ON_HOLIDAYS, default off: the
national line is open 08–22 every day of the year); `danish_closed_dates` gives the dates, as
computed by `denmark.closed_days` (shared with business-hours deadlines, triage/deadline_clock.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from denmark import closed_days

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DANISH_DAY_NAMES = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")

OpeningHours = Mapping[str, Sequence[Sequence[str]]]


def minute_of_day(clock: str) -> int:
    """Minutes after midnight of "HH:MM" (00:00 to 24:00)."""
    hours, minutes = clock.split(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= 24 * 60 or not 0 <= int(minutes) < 60:
        raise ValueError(f"not a time of day: {clock!r}")
    return value


def is_open(
    opening_hours: OpeningHours,
    timezone: str,
    moment: datetime,
    closed_dates: Collection[date] = frozenset(),
) -> bool:
    """Whether `moment` (timezone-aware) falls inside the opening hours, local time."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    local = moment.astimezone(ZoneInfo(timezone))
    if local.date() in closed_dates:
        return False
    now = local.hour * 60 + local.minute
    for opening, closing in opening_hours.get(DAYS[local.weekday()], ()):
        if minute_of_day(opening) <= now < minute_of_day(closing):
            return True
    return False


def danish_closed_dates(years: Iterable[int]) -> frozenset[date]:
    """Danish public holidays plus Christmas Eve and New Year's Eve, for the given years."""
    return closed_days.closed_dates_in(years, closed_days.DEFAULT_CLOSURES)


def closed_dates_for(moment: datetime, *, closed_on_holidays: bool) -> frozenset[date]:
    """The closed dates that matter around `moment` (its year and the next, for New Year)."""
    if not closed_on_holidays:
        return frozenset()
    return danish_closed_dates([moment.year, moment.year + 1])


def _spoken(clock: str) -> str:
    hours, minutes = clock.split(":")
    return str(int(hours)) if minutes == "00" else f"{int(hours)}.{minutes}"


def describe_da(opening_hours: OpeningHours) -> str:
    """The hours as a Danish sentence to be read aloud, e.g. "alle dage fra klokken 8 til 22"."""
    spans = [tuple(tuple(span) for span in opening_hours.get(day, ())) for day in DAYS]
    if len(set(spans)) == 1 and len(spans[0]) == 1:
        opening, closing = spans[0][0]
        return f"alle dage fra klokken {_spoken(opening)} til {_spoken(closing)}"
    parts = [
        f"{name} fra klokken {_spoken(day_spans[0][0])} til {_spoken(day_spans[-1][1])}"
        for name, day_spans in zip(DANISH_DAY_NAMES, spans, strict=True)
        if day_spans
    ]
    return ", ".join(parts) if parts else "på hverdage"


def describe_en(opening_hours: OpeningHours) -> str:
    spans = [tuple(tuple(span) for span in opening_hours.get(day, ())) for day in DAYS]
    if len(set(spans)) == 1 and len(spans[0]) == 1:
        opening, closing = spans[0][0]
        return f"every day from {_spoken(opening)} to {_spoken(closing)}"
    return "during our opening hours"
