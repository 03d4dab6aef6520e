"""Fan-out of web chat events between server processes, over Redis pub/sub.

Each process knows only its own WebSockets. Every event is published (a channel per chat,
`hotline:<db>:chat:<id>`, and one for the staff list, `hotline:<db>:chats`, <db> being the Redis
database number) and each process's listener forwards it to its local sockets: a visitor on
process A and staff on process B talk.
On embedded defaults the client is fakeredis on the process's own in-memory server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import redis.asyncio as aredis
import structlog
from aiohttp import web

log = structlog.get_logger(__name__)


class ChatBus:
    def __init__(self, client: aredis.Redis) -> None:
        self.client = client
        # Pub/sub ignores database numbers: the channels name the one the client uses, so
        # deployments and parallel test runs on one Redis server do not hear each other.
        db = client.connection_pool.connection_kwargs.get("db", 0)
        self.staff_channel = f"hotline:{db}:chats"
        self.chat_prefix = f"hotline:{db}:chat:"
        self.visitors: dict[int, set[web.WebSocketResponse]] = {}
        # Every staff socket on this process and the chats it has accepted.
        self.staff: dict[web.WebSocketResponse, set[int]] = {}
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None

    # --- local sockets ---------------------------------------------------------------------

    def add_visitor(self, chat_id: int, ws: web.WebSocketResponse) -> None:
        self.visitors.setdefault(chat_id, set()).add(ws)

    def remove_visitor(self, chat_id: int, ws: web.WebSocketResponse) -> None:
        sockets = self.visitors.get(chat_id)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                del self.visitors[chat_id]

    def add_staff(self, ws: web.WebSocketResponse) -> None:
        self.staff[ws] = set()

    def join_staff(self, ws: web.WebSocketResponse, chat_id: int) -> None:
        self.staff.setdefault(ws, set()).add(chat_id)

    def remove_staff(self, ws: web.WebSocketResponse) -> None:
        self.staff.pop(ws, None)

    # --- publishing and forwarding ---------------------------------------------------------

    async def to_chat(self, chat_id: int, event: dict[str, Any]) -> None:
        await self.client.publish(
            f"{self.chat_prefix}{chat_id}", json.dumps({**event, "chat": chat_id})
        )

    async def to_staff(self, event: dict[str, Any]) -> None:
        await self.client.publish(self.staff_channel, json.dumps(event))

    async def start(self) -> None:
        """Subscribe (awaited, so events published after start-up are heard), then listen."""
        self._pubsub = self.client.pubsub()
        await self._pubsub.subscribe(self.staff_channel)
        await self._pubsub.psubscribe(f"{self.chat_prefix}*")
        self._task = asyncio.create_task(self._listen(), name="chat-bus")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe()
                await self._pubsub.punsubscribe()
            await self._pubsub.aclose()
        await self.client.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] not in ("message", "pmessage"):
                        continue
                    await self._forward(_text(message["channel"]), _text(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # a lost connection: log, wait a moment, listen again
                log.exception("chat_bus_listen_failed")
                await asyncio.sleep(1)

    async def _forward(self, channel: str, data: str) -> None:
        if channel == self.staff_channel:
            targets = list(self.staff)
        else:
            chat_id = int(channel.removeprefix(self.chat_prefix))
            targets = list(self.visitors.get(chat_id, ()))
            targets += [ws for ws, chats in self.staff.items() if chat_id in chats]
        for ws in targets:
            if not ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(data)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
