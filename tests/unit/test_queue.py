"""triage.queue: the keyset cursor survives a round trip (and only with its filters); anything
else is refused. The deadline state of a case: on time, at risk (due soon) or overdue."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from triage.queue import (
    CursorForOtherFilters,
    DeadlineState,
    InvalidCursor,
    QueuePosition,
    deadline_state,
    decode_cursor,
    encode_cursor,
)
from triage.queue_filters import MINE, NO_FILTERS, Due, QueueFilters

DUE = datetime(2026, 3, 3, 9, 30, 15, 123456, tzinfo=UTC)


def _cursor(text: str) -> str:
    """Encode arbitrary text the way the queue encodes its cursors."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _json_cursor(value: object) -> str:
    return _cursor(json.dumps(value))


@pytest.mark.parametrize(
    "position",
    [
        QueuePosition(0, DUE, 1),
        QueuePosition(1, DUE, 9_007_199_254_740_993),
        QueuePosition(1, datetime(2026, 12, 31, 23, 59, tzinfo=UTC), 42),
    ],
)
def test_round_trip(position: QueuePosition) -> None:
    cursor = position.encode()

    assert QueuePosition.decode(cursor) == position


def test_cursor_is_url_safe_without_padding() -> None:
    cursor = QueuePosition(1, DUE, 123_456_789).encode()

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_non_utc_due_time_keeps_its_instant() -> None:
    copenhagen_summer = timezone(timedelta(hours=2))
    position = QueuePosition(0, datetime(2026, 6, 1, 12, 0, tzinfo=copenhagen_summer), 7)

    decoded = QueuePosition.decode(position.encode())

    assert decoded.due_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert decoded.due_at.utcoffset() is not None


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage",
        "not a cursor!",
        "@@@@",
        "%%%",
        "w6k",  # valid base64 of bytes that are not UTF-8 JSON
        _cursor("not json"),
        _json_cursor(None),
        _json_cursor(5),
        _json_cursor("abc"),
        _json_cursor({"rank": 1, "due_at": DUE.isoformat(), "case_id": 3}),
        _json_cursor([1, DUE.isoformat()]),
        _json_cursor([1, DUE.isoformat(), 3, 4]),
        _json_cursor(["x", DUE.isoformat(), 3]),
        _json_cursor([1, "tomorrow", 3]),
        _json_cursor([1, 1_772_443_800, 3]),
        _json_cursor([1, DUE.isoformat(), None]),
        _json_cursor([1, DUE.isoformat(), "three"]),
        _cursor(f'[NaN, "{DUE.isoformat()}", 3]'),
    ],
)
def test_garbage_and_wrong_shapes_are_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        QueuePosition.decode(cursor)


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(f'[1e999, "{DUE.isoformat()}", 3]'),
        _cursor(f'[1, "{DUE.isoformat()}", -1e999]'),
    ],
)
def test_infinite_numbers_are_invalid_not_a_crash(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        QueuePosition.decode(cursor)


@pytest.mark.parametrize(
    "value",
    [
        [1.5, "2026-03-02T09:30:00+00:00", 3],
        [True, "2026-03-02T09:30:00+00:00", 3],
        [1, "2026-03-02T09:30:00+00:00", 2.0],
        [1, "2026-03-02T09:30:00+00:00", 2**63],
        [1, "2026-03-02T09:30:00+00:00", 0],
        [-1, "2026-03-02T09:30:00+00:00", 3],
    ],
)
def test_positions_must_be_whole_numbers_in_range(value: object) -> None:
    with pytest.raises(InvalidCursor):
        QueuePosition.decode(_json_cursor(value))


def test_naive_due_time_is_invalid() -> None:
    cursor = _json_cursor([1, "2026-03-03T09:30:00", 3])

    with pytest.raises(InvalidCursor):
        QueuePosition.decode(cursor)


def test_invalid_cursor_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="garbage"):
        QueuePosition.decode("garbage")


# --- deadline states ------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
WINDOW = timedelta(hours=4)


@pytest.mark.parametrize(
    ("due_in", "state"),
    [
        (timedelta(days=2), DeadlineState.ON_TIME),
        (WINDOW + timedelta(seconds=1), DeadlineState.ON_TIME),
        (WINDOW, DeadlineState.AT_RISK),
        (timedelta(minutes=1), DeadlineState.AT_RISK),
        (timedelta(microseconds=1), DeadlineState.AT_RISK),
        (timedelta(0), DeadlineState.OVERDUE),
        (-timedelta(days=3), DeadlineState.OVERDUE),
    ],
)
def test_deadline_state(due_in: timedelta, state: DeadlineState) -> None:
    assert deadline_state(NOW + due_in, NOW, WINDOW) is state


def test_the_at_risk_window_is_a_parameter() -> None:
    due = NOW + timedelta(hours=6)

    assert deadline_state(due, NOW, timedelta(hours=4)) is DeadlineState.ON_TIME
    assert deadline_state(due, NOW, timedelta(hours=8)) is DeadlineState.AT_RISK


def test_deadline_state_compares_instants_not_wall_clocks() -> None:
    copenhagen = timezone(timedelta(hours=1))
    due = datetime(2026, 3, 2, 10, 0, tzinfo=copenhagen)  # 09:00 UTC: half an hour ago

    assert deadline_state(due, NOW, WINDOW) is DeadlineState.OVERDUE


# --- cursors and filters --------------------------------------------------------------------

FILTERED = QueueFilters(hotline="national", due=Due.OVERDUE)


def test_an_unfiltered_cursor_is_the_bare_position() -> None:
    position = QueuePosition(1, DUE, 42)

    assert encode_cursor(position, NO_FILTERS) == position.encode()
    assert decode_cursor(position.encode(), NO_FILTERS) == position


def test_a_filtered_cursor_round_trips_with_its_filters() -> None:
    position = QueuePosition(0, DUE, 7)
    cursor = encode_cursor(position, FILTERED)

    assert cursor.startswith(position.encode() + ".")
    assert decode_cursor(cursor, QueueFilters(due=Due.OVERDUE, hotline="national")) == position


@pytest.mark.parametrize(
    ("made_for", "used_with"),
    [
        (FILTERED, NO_FILTERS),
        (NO_FILTERS, FILTERED),
        (FILTERED, QueueFilters(hotline="national")),
        (QueueFilters(assignee=MINE), QueueFilters(assignee=3)),
    ],
)
def test_a_cursor_with_other_filters_is_refused(
    made_for: QueueFilters, used_with: QueueFilters
) -> None:
    cursor = encode_cursor(QueuePosition(1, DUE, 9), made_for)

    with pytest.raises(CursorForOtherFilters):
        decode_cursor(cursor, used_with)


def test_a_garbled_filtered_cursor_is_invalid() -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor("garbage." + FILTERED.tag(), FILTERED)
