"""Every typed key on the application and on requests, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from access.service import Staff
    from bootstrap import Deps
    from db import RowInserter
    from intake.messaging import CaseTimeline
    from web.ratelimit import RateLimiter

deps_key: web.AppKey[Deps] = web.AppKey("deps")
contact_inserter_key: web.AppKey[RowInserter] = web.AppKey("contact_inserter")
case_timeline_key: web.AppKey[CaseTimeline] = web.AppKey("case_timeline")
rate_limiter_key: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
staff_key: web.RequestKey[Staff | None] = web.RequestKey("staff")
language_key: web.RequestKey[str] = web.RequestKey("language")
csrf_failed_key: web.RequestKey[bool] = web.RequestKey("csrf_failed")
