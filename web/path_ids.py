"""Row ids taken from the URL path: digits only (the route's pattern), and no larger than a
BIGINT, so an absurd id is a 404 rather than a database error."""

from __future__ import annotations

from aiohttp import web

MAX_ID = 2**63 - 1


def path_id(request: web.Request, name: str, *, missing: str) -> int:
    """The `{name:\\d+}` part of the path as an int; 404 with `missing` if it cannot exist."""
    value = int(request.match_info[name])
    if value > MAX_ID:
        raise web.HTTPNotFound(reason=missing)
    return value
