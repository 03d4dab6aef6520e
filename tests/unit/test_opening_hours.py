"""Opening hours in Copenhagen time: every day 08–22, across summer-time changes and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from intake.opening_hours import (
    closed_dates_for,
    danish_closed_dates,
    describe_da,
    describe_en,
    is_open,
)

TZ = "Europe/Copenhagen"
DAILY = {day: [["08:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
WEEKDAYS = {day: [["09:00", "12:00"], ["13:00", "15:30"]] for day in ("mon", "tue", "wed")}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 3, 2, 6, 59), False),  # 07:59 CET
        (utc(2026, 3, 2, 7, 0), True),  # 08:00 CET opens
        (utc(2026, 3, 2, 20, 59), True),  # 21:59 CET
        (utc(2026, 3, 2, 21, 0), False),  # 22:00 CET closes
        (utc(2026, 3, 2, 22, 30), False),  # 23:30 CET
        (utc(2026, 7, 1, 6, 0), True),  # 08:00 CEST (UTC+2)
        (utc(2026, 7, 1, 5, 59), False),  # 07:59 CEST
        (utc(2026, 7, 1, 20, 0), False),  # 22:00 CEST
    ],
)
def test_daily_hours_in_local_time(moment: datetime, expected: bool) -> None:
    assert is_open(DAILY, TZ, moment) is expected


def test_the_spring_forward_day_opens_at_local_eight() -> None:
    # 29 March 2026: clocks go from 02:00 to 03:00; 08:00 local is 06:00 UTC that day.
    assert is_open(DAILY, TZ, utc(2026, 3, 29, 5, 59)) is False
    assert is_open(DAILY, TZ, utc(2026, 3, 29, 6, 0)) is True
    assert is_open(DAILY, TZ, utc(2026, 3, 29, 19, 59)) is True
    assert is_open(DAILY, TZ, utc(2026, 3, 29, 20, 0)) is False
    # The day before, still winter time: 08:00 local is 07:00 UTC.
    assert is_open(DAILY, TZ, utc(2026, 3, 28, 6, 30)) is False


def test_the_fall_back_day_closes_at_local_ten_pm() -> None:
    # 25 October 2026: 03:00 becomes 02:00; 22:00 local is 21:00 UTC that evening.
    assert is_open(DAILY, TZ, utc(2026, 10, 25, 7, 0)) is True  # 08:00 CET
    assert is_open(DAILY, TZ, utc(2026, 10, 25, 20, 59)) is True
    assert is_open(DAILY, TZ, utc(2026, 10, 25, 21, 0)) is False
    # The repeated hour at night is closed either way.
    assert is_open(DAILY, TZ, utc(2026, 10, 25, 0, 30)) is False
    assert is_open(DAILY, TZ, utc(2026, 10, 25, 1, 30)) is False


def test_any_timezone_aware_moment_works_and_naive_ones_are_refused() -> None:
    assert is_open(DAILY, TZ, datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=3))))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(DAILY, TZ, datetime(2026, 3, 2, 10, 0))  # noqa: DTZ001


def test_several_spans_and_closed_days() -> None:
    assert is_open(WEEKDAYS, TZ, utc(2026, 3, 2, 8, 0))  # Monday 09:00
    assert not is_open(WEEKDAYS, TZ, utc(2026, 3, 2, 11, 30))  # 12:30 lunch
    assert is_open(WEEKDAYS, TZ, utc(2026, 3, 2, 14, 29))  # 15:29
    assert not is_open(WEEKDAYS, TZ, utc(2026, 3, 2, 14, 30))  # 15:30
    assert not is_open(WEEKDAYS, TZ, utc(2026, 3, 5, 9, 0))  # Thursday: no hours


def test_midnight_closing_is_allowed() -> None:
    late = {"fri": [["20:00", "24:00"]]}
    assert is_open(late, TZ, utc(2026, 3, 6, 22, 59))  # Friday 23:59 CET
    assert not is_open(late, TZ, utc(2026, 3, 6, 23, 0))  # Saturday 00:00


def test_christmas_eve_is_closed_only_when_holidays_close_the_line() -> None:
    christmas_eve_noon = utc(2026, 12, 24, 11, 0)
    assert is_open(DAILY, TZ, christmas_eve_noon)  # the default: open every day
    closed = closed_dates_for(christmas_eve_noon, closed_on_holidays=True)
    assert not is_open(DAILY, TZ, christmas_eve_noon, closed)
    assert closed_dates_for(christmas_eve_noon, closed_on_holidays=False) == frozenset()
    # The closed date is the local one: 23:30 UTC on the 23rd is already the 24th in Copenhagen.
    assert not is_open({"thu": [["00:00", "24:00"]]}, TZ, utc(2026, 12, 23, 23, 30), closed)


def test_danish_closed_dates() -> None:
    dates = danish_closed_dates([2026])
    assert {
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 31),
    } <= dates
    assert date(2026, 3, 2) not in dates
    assert date(2027, 1, 1) in closed_dates_for(utc(2026, 12, 31, 12), closed_on_holidays=True)


def test_hours_read_aloud() -> None:
    assert describe_da(DAILY) == "alle dage fra klokken 8 til 22"
    assert describe_en(DAILY) == "every day from 8 to 22"
    assert describe_da(WEEKDAYS).startswith("mandag fra klokken 9 til 15.30")
