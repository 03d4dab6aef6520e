"""Token buckets per client and finding the client behind trusted proxies."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from web.ratelimit import Limit, RateLimiter, client_address

LIMIT = Limit("test", requests=3, per_seconds=60)


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_up_to_the_limit_passes_then_waits() -> None:
    ticker = Ticker()
    limiter = RateLimiter(now=ticker)

    assert [limiter.take("a", LIMIT) for _ in range(3)] == [0, 0, 0]
    # One token comes back every 20 s (3 per 60 s).
    assert limiter.take("a", LIMIT) == pytest.approx(20)


def test_tokens_come_back_over_time() -> None:
    ticker = Ticker()
    limiter = RateLimiter(now=ticker)
    for _ in range(3):
        limiter.take("a", LIMIT)

    ticker.now += 20
    assert limiter.take("a", LIMIT) == 0
    assert limiter.take("a", LIMIT) > 0
    ticker.now += 600
    # Never more than the limit saved up.
    assert [limiter.take("a", LIMIT) for _ in range(4)][:3] == [0, 0, 0]
    assert limiter.take("a", LIMIT) > 0


def test_clients_and_limits_are_counted_apart() -> None:
    limiter = RateLimiter(now=Ticker())
    other = Limit("other", requests=1, per_seconds=60)
    for _ in range(3):
        limiter.take("a", LIMIT)

    assert limiter.take("b", LIMIT) == 0
    assert limiter.take("a", other) == 0


def test_the_least_recent_clients_are_forgotten_beyond_the_bound() -> None:
    limiter = RateLimiter(max_clients=2, now=Ticker())
    for _ in range(3):
        limiter.take("a", LIMIT)
    limiter.take("b", LIMIT)
    limiter.take("c", LIMIT)

    # "a" was evicted, so it starts with a full bucket again.
    assert limiter.take("a", LIMIT) == 0


def _request(peer: str, forwarded: str | None = None) -> object:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/report/national", headers=headers)
    # make_mocked_request has no peer; give it one the way aiohttp reads it.
    request._transport_peername = (peer, 12345)
    return request


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", None, set(), "203.0.113.9"),
        # An untrusted peer cannot claim to be someone else.
        ("203.0.113.9", "198.51.100.7", set(), "203.0.113.9"),
        ("10.0.0.2", "198.51.100.7", {"10.0.0.2"}, "198.51.100.7"),
        # The last untrusted hop counts; what the client wrote before it does not.
        ("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.3", {"10.0.0.2", "10.0.0.3"}, "198.51.100.7"),
        # Garbage in the header falls back to the proxy itself.
        ("10.0.0.2", "not-an-address", {"10.0.0.2"}, "10.0.0.2"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, trusted: set[str], expected: str) -> None:
    assert client_address(_request(peer, forwarded), trusted) == expected  # type: ignore[arg-type]
