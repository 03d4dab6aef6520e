"""Small pure pieces of the live queue: announcement payloads, the channel name, durations."""

from __future__ import annotations

import fakeredis
import pytest
from redis import Redis

from triage.queue_events import MAX_IDS, decode_ids, encode_ids, queue_channel
from triage.views import duration_text
from web.i18n import translations


def test_ids_round_trip_sorted() -> None:
    assert decode_ids(encode_ids({5, 3, 11})) == [3, 5, 11]
    assert decode_ids(encode_ids({5}).encode()) == [5]


def test_a_huge_batch_is_cut() -> None:
    assert len(decode_ids(encode_ids(set(range(1, 2000))))) == MAX_IDS


@pytest.mark.parametrize(
    "data", [b"", b"not json", b"{}", b'"5"', b"\xff", b'[true, 1.5, -2, 0, "3", null]']
)
def test_anything_else_on_the_channel_is_no_ids(data: bytes) -> None:
    assert decode_ids(data) == []


def test_the_channel_carries_the_database_number() -> None:
    # Pub/sub ignores database numbers: two deployments on db 2 and db 3 must not hear each other.
    assert queue_channel(Redis.from_url("redis://127.0.0.1:6379/3")) == "hotline:3:queue"
    assert queue_channel(Redis.from_url("redis://127.0.0.1:6379")) == "hotline:0:queue"
    assert queue_channel(fakeredis.FakeRedis()) == "hotline:0:queue"


@pytest.mark.parametrize(
    ("seconds", "english", "danish"),
    [
        (0, "0 min", "0 min"),
        (59, "0 min", "0 min"),
        (-61, "1 min", "1 min"),
        (45 * 60 + 59, "45 min", "45 min"),
        (3600, "1 h 0 min", "1 t 0 min"),
        (3 * 3600 + 20 * 60, "3 h 20 min", "3 t 20 min"),
        (47 * 3600 + 59 * 60, "47 h 59 min", "47 t 59 min"),
        (48 * 3600, "2 d 0 h", "2 d 0 t"),
        (-(3 * 86400 + 5 * 3600 + 59), "3 d 5 h", "3 d 5 t"),
    ],
)
def test_durations_in_whole_minutes(seconds: float, english: str, danish: str) -> None:
    assert duration_text(seconds, translations("en").gettext) == english
    assert duration_text(seconds, translations("da").gettext) == danish
