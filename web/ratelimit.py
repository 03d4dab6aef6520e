"""Rate limits per client on public endpoints: a token bucket per client and limit, in memory.

A client is its address (the socket peer, or the address a trusted proxy put in
X-Forwarded-For), kept only as a keyed hash. Limits are per server process: with N processes a
client can make up to N times the requests. That keeps the hot path free of a network call and
keeps intake working when Redis is down; the aim is to stop floods and code guessing, not to
meter.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from web.appkeys import deps_key, rate_limiter_key
from web.policy import rate_limit_of


@dataclass(frozen=True)
class Limit:
    name: str
    # A client may make `requests` requests in any `per_seconds` window, in bursts or spread out.
    requests: int
    per_seconds: float


# Reports: far more than one person writes, few enough to stop a flood filling the queue.
REPORTS = Limit("reports", requests=30, per_seconds=600)
# Receipt-code checks and logins: guessing needs many tries; people need a handful. Separate
# budgets, so a busy public network cannot lock staff out of logging in.
RECEIPT_CHECKS = Limit("receipt_checks", requests=30, per_seconds=600)
LOGINS = Limit("logins", requests=30, per_seconds=600)
# Chats: opening (or reconnecting) a chat per client, and messages within one chat. A person
# types far slower than this; a script filling the transcript does not.
CHAT_CONNECTIONS = Limit("chat_connections", requests=30, per_seconds=600)
CHAT_MESSAGES = Limit("chat_messages", requests=20, per_seconds=60)


class RateLimiter:
    """Token buckets by key, forgetting the least recently used beyond `max_clients`."""

    def __init__(
        self, *, max_clients: int = 100_000, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_clients = max_clients
        self._now = now

    def take(self, client: str, limit: Limit) -> float:
        """Take one request's token; returns 0 if allowed, else seconds until one is free."""
        key = f"{limit.name}:{client}"
        now = self._now()
        rate = limit.requests / limit.per_seconds
        tokens, updated = self._buckets.pop(key, (float(limit.requests), now))
        tokens = min(float(limit.requests), tokens + (now - updated) * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return wait


def client_address(request: web.Request, trusted_proxies: Iterable[str]) -> str:
    """The client's address: the peer, or, behind trusted proxies, the last untrusted hop."""
    trusted = set(trusted_proxies)
    peer = request.remote or "unknown"
    if peer not in trusted:
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in trusted and _is_address(hop):
            return hop
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    limit = rate_limit_of(request.match_info.handler)
    deps = request.app[deps_key]
    if limit is None or not deps.settings.rate_limits:
        return await handler(request)
    address = client_address(request, deps.settings.trusted_proxy_addresses)
    # Only a keyed hash of the address is kept, and only in memory.
    client = hmac.new(deps.secret_key, address.encode(), hashlib.sha256).hexdigest()[:32]
    wait = request.app[rate_limiter_key].take(client, limit)
    if wait > 0:
        raise web.HTTPTooManyRequests(
            reason="too many requests from this client; wait and try again",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    return await handler(request)
