"""Deadline arithmetic: calendar hours vs business hours, Danish holidays, summer-time changes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from denmark.closed_days import Closures, closed_dates, statutory_holidays
from intake.opening_hours import is_open as intake_is_open
from triage import models
from triage.deadline_clock import (
    BusinessCalendar,
    ClockMode,
    DeadlineKind,
    business_time_between,
    due_at,
    elapsed,
    offset_from_start,
)

CPH = ZoneInfo("Europe/Copenhagen")
CAL, BIZ = ClockMode.CALENDAR, ClockMode.BUSINESS_HOURS
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = (*WEEKDAYS, "sat", "sun")
OFFICE_HOURS = {day: [["08:00", "16:00"]] for day in WEEKDAYS}
OFFICE = BusinessCalendar.from_hours(OFFICE_HOURS)
DAILY_8_22 = BusinessCalendar.from_hours({day: [["08:00", "22:00"]] for day in ALL_DAYS})
ROUND_THE_CLOCK = BusinessCalendar.from_hours({day: [["00:00", "24:00"]] for day in ALL_DAYS})


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CPH)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# --- calendar hours ---------------------------------------------------------------------------


def test_calendar_48_hours_from_friday_afternoon_is_sunday_afternoon() -> None:
    due = due_at(local(2026, 3, 6, 16), hours(48), CAL)
    assert due == local(2026, 3, 8, 16)
    assert due.tzinfo is UTC


def test_calendar_mode_ignores_any_calendar_given() -> None:
    assert due_at(local(2026, 3, 6, 16), hours(48), CAL, OFFICE) == local(2026, 3, 8, 16)


def test_calendar_hours_are_elapsed_hours_across_spring_forward() -> None:
    # 29 March 2026 02:00 CET → 03:00 CEST: 48 real hours end at 13:00 local, not 12:00.
    due = due_at(local(2026, 3, 28, 12), hours(48), CAL)
    assert due == datetime(2026, 3, 30, 11, 0, tzinfo=UTC)
    assert due.astimezone(CPH).hour == 13
    assert due - local(2026, 3, 28, 12) == hours(48)


def test_calendar_hours_are_elapsed_hours_across_fall_back() -> None:
    # 25 October 2026 03:00 CEST → 02:00 CET: 48 real hours end at 11:00 local.
    due = due_at(local(2026, 10, 24, 12), hours(48), CAL)
    assert due == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    assert due.astimezone(CPH).hour == 11


def test_calendar_start_in_the_repeated_autumn_hour() -> None:
    first = datetime(2026, 10, 25, 2, 30, tzinfo=CPH, fold=0)  # 00:30 UTC (CEST)
    second = datetime(2026, 10, 25, 2, 30, tzinfo=CPH, fold=1)  # 01:30 UTC (CET)
    assert due_at(first, hours(1), CAL) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert due_at(second, hours(1), CAL) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


# --- business hours: weekends, closing time, long durations ---------------------------------


def test_business_friday_afternoon_plus_two_hours_is_monday_morning() -> None:
    assert due_at(local(2026, 3, 6, 15), hours(2), BIZ, OFFICE) == local(2026, 3, 9, 9)


def test_a_due_time_exactly_at_closing_stays_at_closing() -> None:
    assert due_at(local(2026, 3, 6, 15), hours(1), BIZ, OFFICE) == local(2026, 3, 6, 16)
    assert due_at(local(2026, 3, 2, 8), hours(8), BIZ, OFFICE) == local(2026, 3, 2, 16)


def test_start_after_closing_starts_the_clock_at_the_next_opening() -> None:
    assert due_at(local(2026, 3, 2, 18, 30), hours(1), BIZ, OFFICE) == local(2026, 3, 3, 9)
    # Exactly at closing is outside the hours too.
    assert due_at(local(2026, 3, 2, 16), hours(1), BIZ, OFFICE) == local(2026, 3, 3, 9)
    # Before opening on the same day.
    assert due_at(local(2026, 3, 3, 6), hours(0.5), BIZ, OFFICE) == local(2026, 3, 3, 8, 30)


def test_start_on_a_weekend_starts_monday() -> None:
    assert due_at(local(2026, 3, 7, 11), hours(3), BIZ, OFFICE) == local(2026, 3, 9, 11)


def test_zero_duration_is_due_at_the_start_even_outside_hours() -> None:
    start = local(2026, 3, 7, 11)  # Saturday
    assert due_at(start, timedelta(0), BIZ, OFFICE) == start
    assert due_at(start, timedelta(0), CAL) == start


def test_48_business_hours_over_a_fortnight() -> None:
    # 40 open hours a week: Monday 08:00 + 48 h = the following Monday at closing.
    assert due_at(local(2026, 3, 2, 8), hours(48), BIZ, OFFICE) == local(2026, 3, 9, 16)
    # From Wednesday noon: Wed 4 + Thu 8 + Fri 8 + Mon–Thu 32 = 52 > 48 → Thursday 12:00.
    assert due_at(local(2026, 3, 4, 12), hours(48), BIZ, OFFICE) == local(2026, 3, 12, 12)


def test_several_spans_a_day() -> None:
    split = BusinessCalendar.from_hours({"mon": [["13:00", "15:30"], ["09:00", "12:00"]]})
    assert split.spans[0] == ((540, 720), (780, 930))
    # Monday 11:00 + 2 h: 11–12, then 13–14.
    assert due_at(local(2026, 3, 2, 11), hours(2), BIZ, split) == local(2026, 3, 2, 14)
    # Monday 15:00 + 1 h: 15:00–15:30, then next Monday 09:00–09:30.
    assert due_at(local(2026, 3, 2, 15), hours(1), BIZ, split) == local(2026, 3, 9, 9, 30)


def test_long_durations_are_computed_day_by_day_not_minute_by_minute() -> None:
    # 2,000 business hours (50 working weeks, across holidays and two DST changes).
    start = local(2026, 1, 5, 8)
    due = due_at(start, hours(2000), BIZ, OFFICE)
    assert business_time_between(start, due, OFFICE) == hours(2000)
    assert local(2026, 12, 1) < due < local(2027, 1, 31)


# --- business hours: Danish holidays ---------------------------------------------------------


def test_easter_2026_is_closed_from_maundy_thursday_to_easter_monday() -> None:
    # Wednesday 1 April 12:00 + 8 h: 4 h on Wednesday, Thu 2 – Mon 6 April closed, 4 h Tuesday.
    assert due_at(local(2026, 4, 1, 12), hours(8), BIZ, OFFICE) == local(2026, 4, 7, 12)


def test_christmas_eve_closure_can_be_switched_off() -> None:
    start = local(2026, 12, 23, 12)  # Wednesday; the 24th is a Thursday
    assert due_at(start, hours(8), BIZ, OFFICE) == local(2026, 12, 28, 12)  # 24, 25 closed
    open_on_the_24th = BusinessCalendar.from_hours(
        OFFICE_HOURS, closures=Closures(christmas_eve=False)
    )
    assert due_at(start, hours(8), BIZ, open_on_the_24th) == local(2026, 12, 24, 12)


def test_new_years_eve_and_constitution_day_switches() -> None:
    start = local(2026, 12, 30, 12)  # Wednesday; 31 Dec Thursday, 1 Jan Friday (holiday)
    assert due_at(start, hours(8), BIZ, OFFICE) == local(2027, 1, 4, 12)
    no_eve = BusinessCalendar.from_hours(OFFICE_HOURS, closures=Closures(new_years_eve=False))
    assert due_at(start, hours(8), BIZ, no_eve) == local(2026, 12, 31, 12)

    start = local(2026, 6, 4, 12)  # Thursday; 5 June is a Friday
    assert due_at(start, hours(8), BIZ, OFFICE) == local(2026, 6, 5, 12)  # open by default
    grundlovsdag = BusinessCalendar.from_hours(
        OFFICE_HOURS, closures=Closures(constitution_day=True)
    )
    assert due_at(start, hours(8), BIZ, grundlovsdag) == local(2026, 6, 8, 12)


def test_store_bededag_closes_in_2023_and_not_from_2024() -> None:
    # Store Bededag 2023: Friday 5 May. Its date in 2024 would have been Friday 26 April.
    assert due_at(local(2023, 5, 4, 12), hours(8), BIZ, OFFICE) == local(2023, 5, 8, 12)
    assert due_at(local(2024, 4, 25, 12), hours(8), BIZ, OFFICE) == local(2024, 4, 26, 12)
    assert date(2023, 5, 5) in statutory_holidays(2023)
    assert date(2024, 4, 26) not in statutory_holidays(2024)
    # Easter + 26 days, the rule Store Bededag followed, for the years after its abolition.
    for year, easter in ((2024, date(2024, 3, 31)), (2025, date(2025, 4, 20))):
        assert easter + timedelta(days=26) not in statutory_holidays(year)


# domain-research.md §5: Skærtorsdag, Langfredag, Påskedag, 2. Påskedag, Kristi Himmelfart,
# Pinsedag, 2. Pinsedag.
EASTER_BASED = {
    2025: ["04-17", "04-18", "04-20", "04-21", "05-29", "06-08", "06-09"],
    2026: ["04-02", "04-03", "04-05", "04-06", "05-14", "05-24", "05-25"],
    2027: ["03-25", "03-26", "03-28", "03-29", "05-06", "05-16", "05-17"],
}


@pytest.mark.parametrize("year", sorted(EASTER_BASED))
def test_easter_based_holidays(year: int) -> None:
    easter_based = {date.fromisoformat(f"{year}-{day}") for day in EASTER_BASED[year]}
    fixed = {date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)}
    assert statutory_holidays(year) == easter_based | fixed
    assert closed_dates(year) == statutory_holidays(year) | {
        date(year, 12, 24),
        date(year, 12, 31),
    }


def test_start_on_a_holiday_waits_for_the_next_open_day() -> None:
    # Good Friday 3 April 2026, 10:00 → the clock starts Tuesday 7 April 08:00.
    assert due_at(local(2026, 4, 3, 10), hours(1), BIZ, OFFICE) == local(2026, 4, 7, 9)
    # Ascension Day, Thursday 14 May 2026 → Friday.
    assert due_at(local(2026, 5, 14, 10), hours(1), BIZ, OFFICE) == local(2026, 5, 15, 9)


def test_closed_dates_are_local_dates() -> None:
    # 23:30 UTC on 23 December is already Christmas Eve in Copenhagen.
    assert not ROUND_THE_CLOCK.is_open(datetime(2026, 12, 23, 23, 30, tzinfo=UTC))
    assert ROUND_THE_CLOCK.is_open(datetime(2026, 12, 23, 22, 30, tzinfo=UTC))


# --- business hours: summer-time changes -----------------------------------------------------


def test_business_hours_open_at_local_eight_after_spring_forward() -> None:
    # Saturday 28 March 20:00 CET + 4 h: 2 h Saturday, then Sunday 08:00 CEST (06:00 UTC) + 2 h.
    due = due_at(local(2026, 3, 28, 20), hours(4), BIZ, DAILY_8_22)
    assert due == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert due.astimezone(CPH).hour == 10


def test_business_hours_open_at_local_eight_after_fall_back() -> None:
    due = due_at(local(2026, 10, 24, 20), hours(4), BIZ, DAILY_8_22)
    assert due == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)  # 10:00 CET
    assert due.astimezone(CPH).hour == 10


def test_round_the_clock_business_time_is_elapsed_time_across_dst() -> None:
    # With no closed time, business hours and calendar hours agree, both in real hours.
    for start in (local(2026, 3, 28, 12), local(2026, 10, 24, 12)):
        assert due_at(start, hours(48), BIZ, ROUND_THE_CLOCK) == due_at(start, hours(48), CAL)
    assert business_time_between(local(2026, 3, 29), local(2026, 3, 30), ROUND_THE_CLOCK) == hours(
        23
    )
    assert business_time_between(
        local(2026, 10, 25), local(2026, 10, 26), ROUND_THE_CLOCK
    ) == hours(25)


def test_a_span_across_the_spring_gap_holds_its_real_length() -> None:
    night = BusinessCalendar.from_hours({"sun": [["01:00", "04:00"]]})
    spring, autumn, plain = local(2026, 3, 29), local(2026, 10, 25), local(2026, 3, 22)
    assert business_time_between(spring, spring + hours(24), night) == hours(2)
    assert business_time_between(autumn, autumn + hours(24), night) == hours(4)
    assert business_time_between(plain, plain + hours(24), night) == hours(3)
    # 2 h from Sunday 01:00 CET on the spring day ends at 04:00 CEST (02:00 UTC).
    assert due_at(spring + hours(1), hours(2), BIZ, night) == datetime(
        2026, 3, 29, 2, 0, tzinfo=UTC
    )


def test_wall_time_skipped_in_spring_is_never_open() -> None:
    gap = BusinessCalendar.from_hours({"sun": [["01:00", "02:30"], ["02:45", "03:00"]]})
    day = local(2026, 3, 29)
    # Only 01:00–01:59 CET is ever shown on the wall; 02:45–03:00 does not exist that night.
    assert gap.open_intervals(day.date()) == [
        (datetime(2026, 3, 29, 0, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    ]
    assert business_time_between(day, day + hours(24), gap) == hours(1)
    # A span that exists only inside the gap is closed that night and open on the next open
    # Sunday (5 April is Easter Sunday, so the 12th).
    only_gap = BusinessCalendar.from_hours({"sun": [["02:00", "02:01"]]})
    assert only_gap.open_intervals(day.date()) == []
    assert due_at(local(2026, 3, 29, 1), timedelta(minutes=1), BIZ, only_gap) == local(
        2026, 4, 12, 2, 1
    )


def test_the_repeated_autumn_hour_counts_twice() -> None:
    repeated = BusinessCalendar.from_hours({"sun": [["02:00", "02:30"]]})
    day = local(2026, 10, 25)
    # 02:00–02:30 CEST (00:00 UTC) and again 02:00–02:30 CET (01:00 UTC).
    assert repeated.open_intervals(day.date()) == [
        (datetime(2026, 10, 25, 0, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ]
    assert due_at(day, timedelta(minutes=45), BIZ, repeated) == datetime(
        2026, 10, 25, 1, 15, tzinfo=UTC
    )
    assert not repeated.is_open(datetime(2026, 10, 25, 0, 45, tzinfo=UTC))  # 02:45 CEST


# --- inverse, elapsed, offsets ---------------------------------------------------------------


def test_business_time_between() -> None:
    assert business_time_between(local(2026, 3, 6, 15), local(2026, 3, 9, 9), OFFICE) == hours(2)
    assert business_time_between(local(2026, 3, 9, 9), local(2026, 3, 6, 15), OFFICE) == hours(0)
    assert business_time_between(local(2026, 3, 7), local(2026, 3, 8, 23), OFFICE) == hours(0)


def test_elapsed_in_either_mode() -> None:
    start, end = local(2026, 3, 6, 15), local(2026, 3, 9, 9)
    assert elapsed(start, end, CAL) == hours(66)
    assert elapsed(start, end, BIZ, OFFICE) == hours(2)
    assert elapsed(end, start, CAL) == hours(0)


def test_offset_from_start_is_the_same_arithmetic() -> None:
    start = local(2026, 3, 6, 15)
    assert offset_from_start(start, hours(36), CAL) == start + hours(36)
    assert offset_from_start(start, hours(2), BIZ, OFFICE) == local(2026, 3, 9, 9)
    assert offset_from_start(start, hours(2), ClockMode("business_hours"), OFFICE) == local(
        2026, 3, 9, 9
    )


def _reference_due(start: datetime, minutes: int, calendar: BusinessCalendar) -> datetime:
    """Minute-by-minute oracle built on intake's wall-clock is_open (an independent check)."""
    hours_shape = {
        day: [[f"{o // 60:02d}:{o % 60:02d}", f"{c // 60:02d}:{c % 60:02d}"] for o, c in spans]
        for day, spans in zip(ALL_DAYS, calendar.spans, strict=True)
    }
    closed = closed_dates(start.year) | closed_dates(start.year + 1)
    # Step in UTC: `+` on a zoneinfo datetime would step the wall clock instead.
    moment, counted = start.astimezone(UTC), 0
    while counted < minutes:
        if intake_is_open(hours_shape, calendar.timezone, moment, closed):
            counted += 1
        moment += timedelta(minutes=1)
    return moment


def _random_start(rng: random.Random) -> datetime:
    base = datetime(2023, 1, 1, tzinfo=UTC)
    return base + timedelta(minutes=rng.randrange(5 * 366 * 24 * 60))


NIGHTS = BusinessCalendar.from_hours(
    {
        "sat": [["22:00", "24:00"]],
        "sun": [["00:00", "02:30"], ["02:45", "04:00"], ["12:00", "13:00"]],
    }
)
DST_NIGHTS = [local(2026, 3, 28, 21), local(2026, 10, 24, 21), local(2025, 3, 29, 23)]


@pytest.mark.parametrize(
    "calendar", [OFFICE, DAILY_8_22, NIGHTS], ids=["office", "daily", "dst-nights"]
)
def test_due_at_agrees_with_a_minute_by_minute_count(calendar: BusinessCalendar) -> None:
    rng = random.Random(20261121)
    starts = [_random_start(rng) for _ in range(20)] + DST_NIGHTS
    for start in starts:
        minutes = rng.randrange(0, 600)
        assert due_at(start, timedelta(minutes=minutes), BIZ, calendar) == _reference_due(
            start, minutes, calendar
        ), start


@pytest.mark.parametrize("calendar", [OFFICE, DAILY_8_22, ROUND_THE_CLOCK, NIGHTS])
def test_properties_over_many_starts(calendar: BusinessCalendar) -> None:
    rng = random.Random(48)
    for _ in range(300):
        start = _random_start(rng) + timedelta(seconds=rng.randrange(60))
        durations = sorted(timedelta(minutes=rng.randrange(0, 96 * 60)) for _ in range(3))
        dues = [due_at(start, d, BIZ, calendar) for d in durations]
        assert all(due >= start for due in dues)
        assert dues == sorted(dues)  # monotonic in the duration
        for duration, due in zip(durations, dues, strict=True):
            assert business_time_between(start, due, calendar) == duration
            if duration:  # the last counted moment was open: due is never in closed time
                assert calendar.is_open(due - timedelta(microseconds=1))
        assert due_at(start, durations[-1], CAL) - start == durations[-1]


# --- validation --------------------------------------------------------------------------------


def test_a_calendar_with_no_open_time_is_refused_not_looped_over() -> None:
    never = BusinessCalendar.from_hours({})
    with pytest.raises(ValueError, match="calendar: has no opening hours"):
        due_at(local(2026, 3, 2), hours(1), BIZ, never)
    assert business_time_between(local(2026, 3, 2), local(2026, 4, 2), never) == hours(0)


class _AlwaysClosed(BusinessCalendar):
    def is_closed_date(self, day: date) -> bool:
        return True


def test_a_calendar_that_never_opens_stops_after_a_bounded_search() -> None:
    never = _AlwaysClosed(spans=BusinessCalendar.from_hours(OFFICE_HOURS).spans)
    with pytest.raises(ValueError, match="calendar: no open time within 400 days"):
        due_at(local(2026, 3, 2), hours(1), BIZ, never)


def test_business_hours_need_a_calendar() -> None:
    with pytest.raises(ValueError, match="calendar: business hours need a calendar"):
        due_at(local(2026, 3, 2), hours(1), BIZ)
    with pytest.raises(ValueError, match="calendar"):
        elapsed(local(2026, 3, 2), local(2026, 3, 3), BIZ)


def test_negative_durations_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="offset: must not be negative"):
        due_at(local(2026, 3, 2), hours(-1), CAL)
    with pytest.raises(ValueError, match="start: must be timezone-aware"):
        due_at(datetime(2026, 3, 2), hours(1), CAL)  # noqa: DTZ001
    with pytest.raises(ValueError, match="end: must be timezone-aware"):
        business_time_between(local(2026, 3, 2), datetime(2026, 3, 3), OFFICE)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("hours_shape", "message"),
    [
        ({"monday": [["08:00", "16:00"]]}, r"opening_hours\.monday: not a weekday"),
        ({"tue": [["16:00", "08:00"]]}, r"opening_hours\.tue\[0\]: opens at or after it closes"),
        ({"wed": [["08:00", "16:00"], ["9"]]}, r"opening_hours\.wed\[1\]: expected"),
        ({"thu": [["08:00", "25:00"]]}, r"opening_hours\.thu\[0\]: expected"),
        ({"fri": [["08:00", "16:00", "18:00"]]}, r"opening_hours\.fri\[0\]: expected"),
    ],
)
def test_bad_opening_hours_name_the_field(
    hours_shape: dict[str, list[list[str]]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_hours(hours_shape)


def test_calendar_shape_and_zone_are_checked() -> None:
    with pytest.raises(ValueError, match="timezone: unknown time zone"):
        BusinessCalendar.from_hours(OFFICE_HOURS, timezone="Europe/Atlantis")
    with pytest.raises(ValueError, match="spans: one entry per weekday"):
        BusinessCalendar(spans=((),))
    with pytest.raises(ValueError, match=r"spans\.mon: spans must be ordered"):
        BusinessCalendar(spans=(((600, 700), (650, 800)), (), (), (), (), (), ()))


def test_overlapping_and_touching_spans_are_merged() -> None:
    calendar = BusinessCalendar.from_hours(
        {"mon": [["08:00", "12:00"], ["12:00", "14:00"], ["10:00", "11:00"], ["20:00", "24:00"]]}
    )
    assert calendar.spans[0] == ((480, 840), (1200, 1440))
    assert business_time_between(local(2026, 3, 2), local(2026, 3, 3), calendar) == hours(10)


def test_enums_are_shared_with_the_models() -> None:
    assert models.ClockMode is ClockMode
    assert models.DeadlineKind is DeadlineKind
    assert [mode.value for mode in ClockMode] == ["calendar", "business_hours"]
    assert [kind.value for kind in DeadlineKind] == ["triage", "visitation"]
