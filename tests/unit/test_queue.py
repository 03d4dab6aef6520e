"""triage.queue.QueuePosition: the keyset cursor survives a round trip; anything else is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from triage.queue import InvalidCursor, QueuePosition

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
