"""The live queue on one server process: one Redis subscription, fanned out to its SSE streams.

Announcements (triage/queue_events.py) carry case ids only. The bus gathers what arrives within
LINGER, asks the database once which of those cases staff must not miss (acute, open, new and
nobody's yet), and hands every stream on this process the same event. Like the chat bus, a
process knows only its own streams; Redis carries changes between processes. On embedded
defaults the client is fakeredis on the process's own in-memory server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Collection
from typing import Any

import redis.asyncio as aredis
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from triage.models import Case, CaseStatus
from triage.queue_events import decode_ids

log = structlog.get_logger(__name__)

# How long to wait for more announcements before passing a batch on (a burst of new cases
# becomes one event per stream, and one page refresh per browser).
LINGER = 0.05
MAX_BATCH = 500
# Events waiting for one slow stream; beyond this it misses some (the next one refreshes it).
INBOX_SIZE = 64


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


# Sent when changes may have been missed (the subscription broke): every page refreshes.
REFRESH = sse("queue", {"changed": [], "alerts": []})


class QueueBus:
    def __init__(
        self, client: aredis.Redis, channel: str, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self._client = client
        self._channel = channel
        self._sessions = sessions
        self._inboxes: set[asyncio.Queue[bytes | None]] = set()
        self._pubsub: Any = None
        self._subscribed = False
        self._task: asyncio.Task[None] | None = None

    # --- this process's streams -------------------------------------------------------------

    def open_stream(self) -> asyncio.Queue[bytes | None]:
        """An inbox of encoded events for one SSE stream; None means "end the stream"."""
        inbox: asyncio.Queue[bytes | None] = asyncio.Queue(INBOX_SIZE)
        self._inboxes.add(inbox)
        return inbox

    def close_stream(self, inbox: asyncio.Queue[bytes | None]) -> None:
        self._inboxes.discard(inbox)

    def end_streams(self) -> None:
        """Ask every stream to finish (the server is shutting down)."""
        for inbox in list(self._inboxes):
            while inbox.full():
                inbox.get_nowait()
            inbox.put_nowait(None)

    @property
    def streams(self) -> int:
        return len(self._inboxes)

    def _fan_out(self, event: bytes) -> None:
        for inbox in list(self._inboxes):
            try:
                inbox.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("queue_stream_behind")

    # --- the subscription -------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe (awaited, so changes committed after start-up are heard), then listen.
        Without Redis the server still starts; the listener keeps trying to subscribe."""
        self._pubsub = self._client.pubsub()
        try:
            await self._subscribe()
        except Exception as exc:
            log.warning("queue_bus_subscribe_failed", error=type(exc).__name__)
        self._task = asyncio.create_task(self._listen(), name="queue-bus")

    async def _subscribe(self) -> None:
        await self._pubsub.subscribe(self._channel)
        self._subscribed = True

    async def stop(self) -> None:
        self.end_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe()
            await self._pubsub.aclose()
        await self._client.aclose()

    async def _listen(self) -> None:
        delay = 1.0
        while True:
            try:
                if not self._subscribed:
                    await self._subscribe()
                    self._fan_out(REFRESH)
                case_ids = await self._next_batch()
                self._fan_out(await self._event(case_ids))
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a lost connection: wait, then pages refresh in case
                log.warning("queue_bus_listen_failed", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                self._fan_out(REFRESH)

    async def _next_batch(self) -> set[int]:
        first = None
        while first is None:  # None: a subscription confirmation, skipped
            first = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
        case_ids = set(decode_ids(first["data"]))
        for _ in range(MAX_BATCH):
            more = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=LINGER)
            if more is None:
                break
            case_ids.update(decode_ids(more["data"]))
        return case_ids

    async def _event(self, case_ids: Collection[int]) -> bytes:
        alerts: list[dict[str, Any]] = []
        if case_ids:
            try:
                alerts = await self._alerts(case_ids)
            except Exception:  # the change is still worth a refresh
                log.exception("queue_alerts_failed", case_ids=sorted(case_ids))
        return sse("queue", {"changed": sorted(case_ids), "alerts": alerts})

    async def _alerts(self, case_ids: Collection[int]) -> list[dict[str, Any]]:
        """The changed cases nobody may miss: acute, open, new and not yet anybody's."""
        async with self._sessions() as session:
            found = await session.execute(
                select(Case.id, Case.reference)
                .where(
                    Case.id.in_(sorted(case_ids)),
                    Case.is_acute.is_(True),
                    Case.closed_at.is_(None),
                    Case.assignee_id.is_(None),
                    Case.status == CaseStatus.NEW,
                )
                .order_by(Case.id)
            )
            return [{"id": case_id, "reference": reference} for case_id, reference in found]
