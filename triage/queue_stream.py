"""GET /queue/events: the live queue as server-sent events, for staff browsers.

Each event is `event: queue` with `{"changed": [case ids], "alerts": [{"id", "reference"}]}`;
the queue page (web/static/queue.js) re-fetches its rows on it and raises a banner for each
alert. Every HEARTBEAT seconds a comment keeps proxies from closing a quiet stream (and shows
whether the browser is still there), and the login is checked without extending it: a stream
ends with its login. One Redis subscription per process feeds every stream (triage/queue_bus.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from access.service import login_is_active
from triage.queue_bus import QueueBus
from web.appkeys import deps_key, queue_bus_key, staff_key

HEARTBEAT = 20.0
# How long a browser waits before reconnecting after the stream broke.
RETRY_MS = 3000


async def queue_events(request: web.Request) -> web.StreamResponse:
    deps = request.app[deps_key]
    bus = request.app[queue_bus_key]
    staff = request[staff_key]
    assert staff is not None  # the access guard lets only staff reach here
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            # Reverse proxies (nginx) must pass each event on at once, not buffer the stream.
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    inbox = bus.open_stream()
    try:
        await response.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
        while True:
            try:
                event = await asyncio.wait_for(inbox.get(), HEARTBEAT)
            except TimeoutError:
                async with deps.sessions() as session:
                    if not await login_is_active(session, staff.session_id, now=deps.clock.now()):
                        break
                event = b": keep-alive\n\n"
            if event is None:  # the server is stopping
                break
            await response.write(event)
    except ConnectionError:  # the browser went away
        pass
    finally:
        bus.close_stream(inbox)
    return response


async def _queue_bus(app: web.Application) -> AsyncIterator[None]:
    deps = app[deps_key]
    bus = QueueBus(deps.chat_redis(), deps.announcer.channel, deps.sessions)
    await bus.start()
    app[queue_bus_key] = bus
    yield
    await bus.stop()


async def _end_streams(app: web.Application) -> None:
    # Before the server waits for its handlers to finish: open streams would hold it up.
    app[queue_bus_key].end_streams()


def register(app: web.Application) -> None:
    app.cleanup_ctx.append(_queue_bus)
    app.on_shutdown.append(_end_streams)
    app.router.add_get("/queue/events", queue_events, name="queue_events")
