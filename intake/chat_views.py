"""Web chat over WebSockets: the visitor's page and socket, the staff list and socket.

Protocol (JSON text frames). Visitor → server: `hello` {token} first, then `message` {body},
`end`, `callback` {phone}. Staff → server: `accept`, `message` {chat, body}, `end` {chat}.
Server → both: `state`, `chats`, `chat` (a list entry changed), `message`, `accepted`,
`ended`, `unavailable` {reason: no_staff|closed}, `callback` {saved}, `error` {code}.
Events about a chat go out through the ChatBus (Redis pub/sub), so any process may hold
either side. Every message is committed before it is published.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from intake import chat, opening_hours
from intake.chat_bus import ChatBus
from intake.models import Chat, ChatStatus
from jobqueue import take_in_contacts
from web.appkeys import chat_bus_key, chat_timers_key, deps_key, language_key, staff_key
from web.csrf import expected_origin
from web.policy import public, rate_limited
from web.ratelimit import CHAT_CONNECTIONS, CHAT_MESSAGES, RateLimiter
from web.rendering import render

log = structlog.get_logger(__name__)

HOTLINES = ("national", "copenhagen")
MAX_FRAME = 16 * 1024


def _hotline_id(request: web.Request) -> str:
    hotline_id = request.match_info["hotline"]
    if hotline_id not in HOTLINES:
        raise web.HTTPNotFound()
    return hotline_id


def _check_origin(request: web.Request) -> None:
    """Browsers always send Origin on a WebSocket: refuse other sites (cross-site hijacking)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != expected_origin(request):
        raise web.HTTPForbidden(reason="wrong origin")


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _line(line: chat.ChatLine) -> dict[str, Any]:
    return line.as_json()


def _entry(item: chat.ChatSummary) -> dict[str, Any]:
    return {
        "id": item.id,
        "hotline": item.hotline_id,
        "status": item.status,
        "started_at": _at(item.started_at),
        "accepted_by": item.accepted_by,
    }


def _closed_dates(request: web.Request) -> frozenset[Any]:
    deps = request.app[deps_key]
    return opening_hours.closed_dates_for(
        deps.clock.now(), closed_on_holidays=deps.settings.closed_on_holidays
    )


def _take_in(app: web.Application, contact_id: int) -> None:
    # Committed before: a lost enqueue is found by the sweeper.
    app[deps_key].enqueuer.submit(take_in_contacts, contact_id)


def _watch_acceptance(app: web.Application, item: chat.ChatSummary) -> None:
    """Miss the chat if nobody accepts it in time (any process may; the UPDATE is conditional)."""
    timers = app[chat_timers_key]
    if item.id in timers:
        return
    deps = app[deps_key]
    waited = (deps.clock.now() - item.started_at).total_seconds()
    delay = max(0.0, deps.settings.chat_accept_seconds - max(0.0, waited))

    async def miss_later() -> None:
        await asyncio.sleep(delay)
        async with deps.sessions() as session, session.begin():
            missed = await chat.miss(session, item.id, now=deps.clock.now())
            current = await session.get(Chat, item.id)
            entry = chat.summary(current) if current is not None else None
        if missed and entry is not None:
            bus = app[chat_bus_key]
            await bus.to_chat(item.id, {"type": "unavailable", "reason": "no_staff"})
            await bus.to_staff({"type": "chat", "entry": _entry(entry)})
            _take_in(app, item.contact_id)

    task = asyncio.create_task(miss_later(), name=f"chat-{item.id}-accept-timer")
    timers[item.id] = task
    task.add_done_callback(lambda _t: timers.pop(item.id, None))


async def _frames(ws: web.WebSocketResponse) -> AsyncIterator[dict[str, Any]]:
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            continue
        try:
            data = json.loads(msg.data)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            await ws.send_json({"type": "error", "code": "bad_request"})
            continue
        yield data


# --- the visitor ---------------------------------------------------------------------------


@public
async def chat_page(request: web.Request) -> web.Response:
    hotline_id = _hotline_id(request)
    return render(
        request,
        "intake/chat.html",
        {"hotline": hotline_id, "max_chars": chat.MAX_MESSAGE_CHARS},
    )


class _Visitor:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, hotline_id: str) -> None:
        self.request = request
        self.app = request.app
        self.deps = request.app[deps_key]
        self.bus: ChatBus = request.app[chat_bus_key]
        self.ws = ws
        self.hotline_id = hotline_id
        self.token: str | None = None
        self.chat_id: int | None = None

    def _joined(self, item: chat.ChatSummary) -> None:
        if self.chat_id is None:
            self.chat_id = item.id
            self.bus.add_visitor(item.id, self.ws)
        if item.status == ChatStatus.WAITING:
            _watch_acceptance(self.app, item)

    async def hello(self, data: dict[str, Any]) -> None:
        token = data.get("token")
        if self.token is not None or not chat.valid_token(token):
            await self.ws.send_json({"type": "error", "code": "bad_token"})
            return
        assert isinstance(token, str)
        self.token = token
        async with self.deps.sessions() as session:
            found = await chat.find_chat(session, self.hotline_id, token)
            lines = await chat.transcript(session, found) if found else []
            open_now = await chat.hotline_open(
                session, self.hotline_id, self.deps.clock.now(), _closed_dates(self.request)
            )
        if found is not None:
            self._joined(chat.summary(found))
        await self.ws.send_json(
            {
                "type": "state",
                "status": found.status if found else "new",
                "reason": found.end_reason if found else None,
                "open": open_now,
                "messages": [_line(line) for line in lines],
            }
        )

    async def _start_or_find(self, session: Any) -> tuple[Chat, bool]:
        assert self.token is not None
        found = await chat.find_chat(session, self.hotline_id, self.token)
        if found is not None:
            return found, False
        open_now = await chat.hotline_open(
            session, self.hotline_id, self.deps.clock.now(), _closed_dates(self.request)
        )
        started = await chat.start_chat(
            session,
            hotline_id=self.hotline_id,
            token=self.token,
            language=self.request[language_key],
            now=self.deps.clock.now(),
            open_now=open_now,
        )
        return started, True

    async def _announce_new(self, item: chat.ChatSummary) -> None:
        self._joined(item)
        log.info("chat_started", chat_id=item.id, contact_id=item.contact_id, status=item.status)
        if item.status == ChatStatus.WAITING:
            await self.bus.to_staff({"type": "chat", "entry": _entry(item)})
        else:  # opened outside the opening hours
            await self.bus.to_chat(item.id, {"type": "unavailable", "reason": "closed"})
            _take_in(self.app, item.contact_id)

    async def message(self, data: dict[str, Any]) -> None:
        body = chat.clean_body(data.get("body"))
        async with self.deps.sessions() as session, session.begin():
            found, new = await self._start_or_find(session)
            line = await chat.add_message(session, found, body, now=self.deps.clock.now())
            item = chat.summary(found)
        if new:
            await self._announce_new(item)
        await self.bus.to_chat(item.id, {"type": "message", "message": _line(line)})

    async def end(self) -> None:
        if self.chat_id is None:
            return
        async with self.deps.sessions() as session, session.begin():
            ended = await chat.end(
                session, self.chat_id, reason="visitor", now=self.deps.clock.now()
            )
            current = await session.get(Chat, self.chat_id)
            item = chat.summary(current) if current else None
        if ended and item is not None:
            await self.bus.to_chat(item.id, {"type": "ended", "by": "visitor"})
            await self.bus.to_staff({"type": "chat", "entry": _entry(item)})
            _take_in(self.app, item.contact_id)

    async def call_back(self, data: dict[str, Any]) -> None:
        async with self.deps.sessions() as session, session.begin():
            found, new = await self._start_or_find(session)
            saved = await chat.save_call_back(session, found, data.get("phone"), self.deps.cipher)
            item = chat.summary(found)
        if new:
            await self._announce_new(item)
        log.info("chat_call_back", chat_id=item.id, saved=saved)
        await self.ws.send_json({"type": "callback", "saved": saved})

    async def handle(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "hello":
            await self.hello(data)
            return
        if self.token is None:
            raise chat.ChatRefused("hello_first")
        if kind == "message":
            await self.message(data)
        elif kind == "end":
            await self.end()
        elif kind == "callback":
            await self.call_back(data)
        else:
            raise chat.ChatRefused("bad_request")


@public
@rate_limited(CHAT_CONNECTIONS)
async def visitor_socket(request: web.Request) -> web.WebSocketResponse:
    hotline_id = _hotline_id(request)
    _check_origin(request)
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    visitor = _Visitor(request, ws, hotline_id)
    # Per connection: a flood of frames is refused frame by frame, nothing of it stored.
    frames = RateLimiter(max_clients=1)
    limited = request.app[deps_key].settings.rate_limits
    try:
        async for data in _frames(ws):
            if limited and frames.take("visitor", CHAT_MESSAGES) > 0:
                await ws.send_json({"type": "error", "code": "too_many_messages"})
                continue
            try:
                await visitor.handle(data)
            except chat.ChatRefused as refused:
                await ws.send_json({"type": "error", "code": refused.code})
    finally:
        if visitor.chat_id is not None:
            visitor.bus.remove_visitor(visitor.chat_id, ws)
    return ws


# --- staff -----------------------------------------------------------------------------------


async def chats_page(request: web.Request) -> web.Response:
    return render(request, "intake/chats.html", {})


def _chat_id(data: dict[str, Any]) -> int:
    value = data.get("chat")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise chat.ChatRefused("bad_request")
    return value


async def _staff_action(
    request: web.Request, ws: web.WebSocketResponse, data: dict[str, Any]
) -> None:
    app = request.app
    deps = app[deps_key]
    bus = app[chat_bus_key]
    staff = request[staff_key]
    assert staff is not None
    kind = data.get("type")
    chat_id = _chat_id(data)
    now = deps.clock.now()
    if kind == "accept":
        async with deps.sessions() as session, session.begin():
            won = await chat.accept(session, chat_id, staff_id=staff.id, now=now)
            current = await session.get(Chat, chat_id)
            lines = await chat.transcript(session, current) if won and current else []
            item = chat.summary(current) if current else None
        if not won or item is None:
            await ws.send_json({"type": "error", "code": "taken", "chat": chat_id})
            return
        bus.join_staff(ws, chat_id)
        log.info("chat_accepted", chat_id=chat_id, staff_id=staff.id)
        await ws.send_json(
            {"type": "transcript", "chat": chat_id, "messages": [_line(x) for x in lines]}
        )
        await bus.to_chat(chat_id, {"type": "accepted"})
        await bus.to_staff({"type": "chat", "entry": _entry(item)})
    elif kind == "message":
        body = chat.clean_body(data.get("body"))
        async with deps.sessions() as session, session.begin():
            current = await session.get(Chat, chat_id)
            if current is None:
                raise chat.ChatRefused("not_yours")
            line = await chat.add_message(session, current, body, now=now, staff_id=staff.id)
        await bus.to_chat(chat_id, {"type": "message", "message": _line(line)})
    elif kind == "end":
        async with deps.sessions() as session, session.begin():
            ended = await chat.end(session, chat_id, reason="staff", now=now, staff_id=staff.id)
            current = await session.get(Chat, chat_id)
            item = chat.summary(current) if current else None
        if not ended or item is None:
            raise chat.ChatRefused("not_yours")
        await bus.to_chat(chat_id, {"type": "ended", "by": "staff"})
        await bus.to_staff({"type": "chat", "entry": _entry(item)})
        _take_in(app, item.contact_id)
    else:
        raise chat.ChatRefused("bad_request")


async def staff_socket(request: web.Request) -> web.WebSocketResponse:
    _check_origin(request)
    deps = request.app[deps_key]
    bus = request.app[chat_bus_key]
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    bus.add_staff(ws)
    staff = request[staff_key]
    try:
        async with deps.sessions() as session:
            current = await chat.open_chats(session)
        await ws.send_json(
            {
                "type": "chats",
                "me": staff.id if staff else None,
                "chats": [_entry(item) for item in current],
            }
        )
        async for data in _frames(ws):
            try:
                await _staff_action(request, ws, data)
            except chat.ChatRefused as refused:
                await ws.send_json(
                    {"type": "error", "code": refused.code, "chat": data.get("chat")}
                )
    finally:
        bus.remove_staff(ws)
    return ws


async def _chat_bus(app: web.Application) -> AsyncIterator[None]:
    bus = ChatBus(app[deps_key].chat_redis())
    await bus.start()
    app[chat_bus_key] = bus
    app[chat_timers_key] = {}
    yield
    for task in list(app[chat_timers_key].values()):
        task.cancel()
    await bus.stop()


def register(app: web.Application) -> None:
    app.cleanup_ctx.append(_chat_bus)
    app.router.add_get("/chat/{hotline}", chat_page, name="chat")
    app.router.add_get("/chat/{hotline}/ws", visitor_socket, name="chat_socket")
    app.router.add_get("/chats", chats_page, name="chats")
    app.router.add_get("/chats/ws", staff_socket, name="chats_socket")
