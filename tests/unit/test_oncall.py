"""On-call schedules: weekly rotations in local time across summer-time changes, overrides,
who is on call now and who is next."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.oncall import (
    OnCall,
    Override,
    OverrideReason,
    Rotation,
    Schedule,
    next_change,
    on_call_at,
    on_call_now_and_next,
)

CPH = ZoneInfo("Europe/Copenhagen")
ANNE, BO, CARL, DORTE = 11, 22, 33, 44
# Mondays at 09:00 Copenhagen time from Monday 2 March 2026: Anne, Bo, Carl, Anne, …
ROTATION = Rotation(participants=(ANNE, BO, CARL), start=date(2026, 3, 2))
PLAIN = Schedule(ROTATION)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CPH)


def at_utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 3, 1, 12), None),  # before the rotation starts
        (local(2026, 3, 2, 8, 59), None),  # the first day, before the first handoff
        (local(2026, 3, 2, 9), ANNE),
        (local(2026, 3, 8, 23, 59), ANNE),
        (local(2026, 3, 9, 8, 59), ANNE),
        (local(2026, 3, 9, 9), BO),
        (local(2026, 3, 16, 9), CARL),
        (local(2026, 3, 23, 8, 59), CARL),
        (local(2026, 3, 23, 9), ANNE),  # round again
    ],
)
def test_weekly_rotation(moment: datetime, expected: int | None) -> None:
    assert on_call_at(PLAIN, moment) == expected


def test_a_year_later_the_rotation_has_kept_count() -> None:
    # Monday 1 March 2027 is 52 weeks after the first handoff: shift 52, 52 % 3 = 1 → Bo.
    assert on_call_at(PLAIN, local(2027, 3, 1, 9)) == BO
    assert on_call_at(PLAIN, local(2027, 3, 1, 8, 59)) == ANNE


def test_the_handoff_stays_at_nine_local_across_spring_forward() -> None:
    # Monday 23 March: 09:00 CET = 08:00 UTC. Monday 30 March (after 29 March): 09:00 CEST =
    # 07:00 UTC.
    assert on_call_at(PLAIN, at_utc(2026, 3, 23, 7, 59)) == CARL
    assert on_call_at(PLAIN, at_utc(2026, 3, 23, 8, 0)) == ANNE
    assert on_call_at(PLAIN, at_utc(2026, 3, 30, 6, 59)) == ANNE
    assert on_call_at(PLAIN, at_utc(2026, 3, 30, 7, 0)) == BO
    assert ROTATION.handoff(4) == at_utc(2026, 3, 30, 7, 0)
    # The shift that spans the change is an hour shorter.
    assert ROTATION.handoff(4) - ROTATION.handoff(3) == timedelta(days=7, hours=-1)


def test_the_handoff_stays_at_nine_local_across_fall_back() -> None:
    # Monday 26 October 2026 (after 25 October): 09:00 CET = 08:00 UTC.
    monday = ROTATION.shift_index(local(2026, 10, 26, 9))
    assert monday is not None
    assert ROTATION.handoff(monday) == at_utc(2026, 10, 26, 8, 0)
    assert ROTATION.handoff(monday) - ROTATION.handoff(monday - 1) == timedelta(days=7, hours=1)
    before = on_call_at(PLAIN, at_utc(2026, 10, 26, 7, 59))
    after = on_call_at(PLAIN, at_utc(2026, 10, 26, 8, 0))
    assert before != after
    assert after == ROTATION.participants[monday % 3]


def test_a_sunday_handoff_on_the_day_of_the_change() -> None:
    sunday = Rotation(participants=(ANNE, BO), start=date(2026, 3, 22), handoff_weekday=6)
    # 29 March 2026, 09:00 CEST = 07:00 UTC (the change happened at 02:00 that morning).
    assert on_call_at(Schedule(sunday), at_utc(2026, 3, 29, 6, 59)) == ANNE
    assert on_call_at(Schedule(sunday), at_utc(2026, 3, 29, 7, 0)) == BO


def test_the_first_shift_starts_at_the_first_handoff_weekday_on_or_after_start() -> None:
    wednesday_start = Rotation(participants=(ANNE, BO), start=date(2026, 3, 4))
    assert wednesday_start.first_handoff_date == date(2026, 3, 9)
    assert on_call_at(Schedule(wednesday_start), local(2026, 3, 5, 12)) is None
    assert on_call_at(Schedule(wednesday_start), local(2026, 3, 9, 9)) == ANNE


def test_daily_shifts_and_other_handoff_times() -> None:
    daily = Rotation(
        participants=(ANNE, BO),
        start=date(2026, 3, 2),
        handoff_time=time(7, 30),
        shift_days=1,
    )
    schedule = Schedule(daily)
    assert on_call_at(schedule, local(2026, 3, 2, 7, 30)) == ANNE
    assert on_call_at(schedule, local(2026, 3, 3, 7, 29)) == ANNE
    assert on_call_at(schedule, local(2026, 3, 3, 7, 30)) == BO
    # 29 March (the spring change) is shift 27, Bo's, from 07:30 CEST = 05:30 UTC.
    assert on_call_at(schedule, at_utc(2026, 3, 29, 5, 29)) == ANNE
    assert on_call_at(schedule, at_utc(2026, 3, 29, 5, 30)) == BO


# --- overrides ---------------------------------------------------------------------------------

ABSENT_DAY = Override(local(2026, 3, 10), local(2026, 3, 11), DORTE, OverrideReason.ABSENCE)


def test_an_override_wins_for_its_span_only() -> None:
    schedule = Schedule(ROTATION, (ABSENT_DAY,))
    assert on_call_at(schedule, local(2026, 3, 9, 23, 59)) == BO
    assert on_call_at(schedule, local(2026, 3, 10, 0)) == DORTE
    assert on_call_at(schedule, local(2026, 3, 10, 23, 59)) == DORTE
    assert on_call_at(schedule, local(2026, 3, 11, 0)) == BO  # end is exclusive


def test_the_last_listed_override_wins_where_they_overlap() -> None:
    swap = Override(local(2026, 3, 10, 12), local(2026, 3, 10, 14), CARL, OverrideReason.SWAP)
    schedule = Schedule(ROTATION, (ABSENT_DAY, swap))
    assert on_call_at(schedule, local(2026, 3, 10, 11)) == DORTE
    assert on_call_at(schedule, local(2026, 3, 10, 13)) == CARL
    assert on_call_at(schedule, local(2026, 3, 10, 14)) == DORTE
    assert on_call_at(Schedule(ROTATION, (swap, ABSENT_DAY)), local(2026, 3, 10, 13)) == DORTE


def test_an_override_applies_before_the_rotation_starts() -> None:
    early = Override(local(2026, 2, 27), local(2026, 3, 2, 9), DORTE, OverrideReason.HOLIDAY)
    schedule = Schedule(ROTATION, (early,))
    assert on_call_at(schedule, local(2026, 2, 26, 12)) is None
    assert on_call_at(schedule, local(2026, 2, 28, 12)) == DORTE
    assert on_call_at(schedule, local(2026, 3, 2, 9)) == ANNE


# --- next change -------------------------------------------------------------------------------


def test_next_change_is_the_next_handoff() -> None:
    assert next_change(PLAIN, local(2026, 3, 2, 10)) == (local(2026, 3, 9, 9), BO)
    # Exactly at a handoff, the next one is a week later.
    assert next_change(PLAIN, local(2026, 3, 9, 9)) == (local(2026, 3, 16, 9), CARL)
    # Before the rotation starts: its first handoff.
    assert next_change(PLAIN, local(2026, 2, 1)) == (local(2026, 3, 2, 9), ANNE)


def test_next_change_sees_overrides_starting_and_ending() -> None:
    schedule = Schedule(ROTATION, (ABSENT_DAY,))
    assert next_change(schedule, local(2026, 3, 9, 12)) == (local(2026, 3, 10), DORTE)
    assert next_change(schedule, local(2026, 3, 10, 12)) == (local(2026, 3, 11), BO)
    assert next_change(schedule, local(2026, 3, 11, 0)) == (local(2026, 3, 16, 9), CARL)


def test_an_override_by_whoever_is_on_call_anyway_is_no_change() -> None:
    same = Override(local(2026, 3, 10), local(2026, 3, 11), BO, OverrideReason.OTHER)
    assert next_change(Schedule(ROTATION, (same,)), local(2026, 3, 9, 12)) == (
        local(2026, 3, 16, 9),
        CARL,
    )


def test_an_override_ending_at_a_handoff_changes_once() -> None:
    cover = Override(local(2026, 3, 8, 12), local(2026, 3, 9, 9), DORTE, OverrideReason.HOLIDAY)
    schedule = Schedule(ROTATION, (cover,))
    assert next_change(schedule, local(2026, 3, 8, 13)) == (local(2026, 3, 9, 9), BO)


def test_nobody_else_ever_is_none() -> None:
    alone = Schedule(Rotation(participants=(ANNE,), start=date(2026, 3, 2)))
    assert next_change(alone, local(2026, 3, 5)) is None
    same_twice = Schedule(Rotation(participants=(ANNE, ANNE), start=date(2026, 3, 2)))
    assert next_change(same_twice, local(2026, 3, 5)) is None
    # An override ahead is a change, and so is its end.
    covered = Schedule(alone.rotation, (ABSENT_DAY,))
    assert next_change(covered, local(2026, 3, 5)) == (local(2026, 3, 10), DORTE)
    assert next_change(covered, local(2026, 3, 10, 1)) == (local(2026, 3, 11), ANNE)
    assert next_change(covered, local(2026, 3, 11)) is None


def test_who_is_on_call_now_and_next() -> None:
    schedule = Schedule(ROTATION, (ABSENT_DAY,))
    assert on_call_now_and_next(schedule, local(2026, 3, 9, 12)) == OnCall(
        now=BO, next=DORTE, changes_at=local(2026, 3, 10)
    )
    alone = Schedule(Rotation(participants=(ANNE,), start=date(2026, 3, 2)))
    assert on_call_now_and_next(alone, local(2026, 3, 5)) == OnCall(ANNE, None, None)
    assert on_call_now_and_next(PLAIN, local(2026, 3, 1)) == OnCall(
        now=None, next=ANNE, changes_at=local(2026, 3, 2, 9)
    )


def test_next_change_is_consistent_with_on_call_at() -> None:
    overrides = (
        ABSENT_DAY,
        Override(local(2026, 3, 28, 20), local(2026, 3, 30, 12), CARL, OverrideReason.SWAP),
        Override(local(2026, 10, 20), local(2026, 10, 27), DORTE, OverrideReason.HOLIDAY),
    )
    schedule = Schedule(ROTATION, overrides)
    rng = random.Random(5)
    for _ in range(200):
        moment = local(2026, 2, 20) + timedelta(minutes=rng.randrange(300 * 24 * 60))
        change = next_change(schedule, moment)
        assert change is not None
        when, who = change
        now = on_call_at(schedule, moment)
        assert when > moment
        assert who == on_call_at(schedule, when) != now
        # Nobody else in between: sample the gap.
        for _ in range(5):
            between = moment + (when - moment) * rng.random()
            assert on_call_at(schedule, between) == now


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"participants": ()}, "participants: a rotation needs at least one person"),
        ({"handoff_weekday": 7}, "handoff_weekday"),
        ({"handoff_time": time(9, tzinfo=UTC)}, "handoff_time"),
        ({"shift_days": 0}, "shift_days"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
    ],
)
def test_bad_rotations_are_refused(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"participants": (ANNE,), "start": date(2026, 3, 2)}
    fields.update(changes)
    with pytest.raises(ValueError, match=message):
        Rotation(**fields)  # type: ignore[arg-type]


def test_bad_overrides_and_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="end: must be after start"):
        Override(local(2026, 3, 10), local(2026, 3, 10), DORTE)
    with pytest.raises(ValueError, match="start: must be timezone-aware"):
        Override(datetime(2026, 3, 10), local(2026, 3, 11), DORTE)  # noqa: DTZ001
    with pytest.raises(ValueError, match="moment: must be timezone-aware"):
        on_call_at(PLAIN, datetime(2026, 3, 10))  # noqa: DTZ001
    assert ABSENT_DAY.start.tzinfo is UTC  # kept in UTC
