"""Every typed key on the application and on requests, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import asyncio

    from access.service import Staff
    from bootstrap import Deps
    from db import RowInserter
    from intake.chat_bus import ChatBus
    from intake.messaging import CaseTimeline
    from notifications.alert_calls import AlertCallEvents
    from triage.queue_bus import QueueBus
    from web.openapi import CachedDocument
    from web.ratelimit import RateLimiter

deps_key: web.AppKey[Deps] = web.AppKey("deps")
contact_inserter_key: web.AppKey[RowInserter] = web.AppKey("contact_inserter")
case_timeline_key: web.AppKey[CaseTimeline] = web.AppKey("case_timeline")
# The alert engine's side of alert calls (integrations/twilio/alert_webhooks.py).
alert_call_events_key: web.AppKey[AlertCallEvents] = web.AppKey("alert_call_events")
rate_limiter_key: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
staff_key: web.RequestKey[Staff | None] = web.RequestKey("staff")
language_key: web.RequestKey[str] = web.RequestKey("language")
csrf_failed_key: web.RequestKey[bool] = web.RequestKey("csrf_failed")
# The OpenAPI document, built at its first request (web/api_docs.py).
openapi_document_key: web.AppKey[CachedDocument] = web.AppKey("openapi_document")
chat_bus_key: web.AppKey[ChatBus] = web.AppKey("chat_bus")
# Per process: the timers that miss a waiting chat nobody accepted, by chat id.
chat_timers_key: web.AppKey[dict[int, asyncio.Task[None]]] = web.AppKey("chat_timers")
queue_bus_key: web.AppKey[QueueBus] = web.AppKey("queue_bus")
