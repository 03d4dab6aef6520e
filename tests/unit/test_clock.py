"""clock.FrozenClock: time moves only when told to, and is always aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from clock import FrozenClock, SystemClock

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FrozenClock(datetime(2026, 3, 2, 9, 30))  # noqa: DTZ001


def test_now_does_not_move_by_itself() -> None:
    clock = FrozenClock(START)

    assert clock.now() == START
    assert clock.now() == START


def test_a_non_utc_start_is_converted_to_utc() -> None:
    clock = FrozenClock(datetime(2026, 3, 2, 10, 30, tzinfo=timezone(timedelta(hours=1))))

    assert clock.now() == START
    assert clock.now().utcoffset() == timedelta(0)


def test_advance_moves_time_forward_cumulatively() -> None:
    clock = FrozenClock(START)

    clock.advance(timedelta(hours=23, minutes=59))
    clock.advance(timedelta(minutes=2))

    assert clock.now() == datetime(2026, 3, 3, 9, 31, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)


def test_set_jumps_to_a_moment_in_utc() -> None:
    clock = FrozenClock(START)

    clock.set(datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))

    assert clock.now() == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert clock.now().tzinfo == UTC


def test_set_can_move_back() -> None:
    clock = FrozenClock(START)
    clock.advance(timedelta(days=3))

    clock.set(START)

    assert clock.now() == START


def test_set_refuses_a_naive_moment() -> None:
    clock = FrozenClock(START)

    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 6, 1, 14, 0))  # noqa: DTZ001
    assert clock.now() == START


def test_system_clock_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()

    assert now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)
