"""Web chat over the app's WebSockets: stored as it happens, accepted once, bridged by pub/sub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bootstrap import Deps, build_deps
from clock import FrozenClock
from intake.chat import token_hash
from intake.models import Channel, Chat, Contact, Message, MessageDirection, PhoneStatus
from server import create_app
from settings import load_settings
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff, log_in, logged_in
from web.ratelimit import CHAT_CONNECTIONS, CHAT_MESSAGES

pytestmark = pytest.mark.asyncio

TOKEN = "visitor-token-0123456789abcdef"
WAIT = 5.0


async def receive(ws: Any, kind: str) -> dict[str, Any]:
    """The next event of this kind (others are skipped); fails after WAIT seconds."""

    async def next_matching() -> dict[str, Any]:
        while True:
            data: dict[str, Any] = await ws.receive_json()
            if data["type"] == kind:
                return data

    return await asyncio.wait_for(next_matching(), WAIT)


async def visitor(client: Any, token: str = TOKEN) -> tuple[Any, dict[str, Any]]:
    ws = await client.ws_connect("/chat/national/ws")
    await ws.send_json({"type": "hello", "token": token})
    return ws, await receive(ws, "state")


async def staff_socket(client: Any) -> tuple[Any, dict[str, Any]]:
    ws = await client.ws_connect("/chats/ws")
    return ws, await receive(ws, "chats")


async def stored(deps: Deps) -> tuple[Contact, Chat, list[Message]]:
    async with deps.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
        chat = (await session.scalars(select(Chat))).one()
        messages = list(await session.scalars(select(Message).order_by(Message.id)))
    return contact, chat, messages


async def test_the_chat_page_is_public_and_has_a_labelled_form(client: Any) -> None:
    response = await client.get("/chat/national")
    assert response.status == 200
    page = await response.text()
    assert 'aria-live="polite"' in page
    assert '<label for="chat-input">' in page
    assert 'src="/static/chat.js"' in page
    assert 'href="/report/national"' in page  # without JavaScript: the form
    assert (await client.get("/chat/elsewhere")).status == 404


async def test_staff_pages_are_guarded(client: Any) -> None:
    response = await client.get("/chats", allow_redirects=False)
    assert response.status == 303
    response = await client.get("/chats/ws", allow_redirects=False)
    assert response.status == 303


async def test_a_socket_from_another_site_is_refused(client: Any) -> None:
    response = await client.get(
        "/chat/national/ws",
        headers={
            "Origin": "https://evil.example",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status == 403


async def test_the_first_message_opens_an_anonymous_contact_and_is_stored(
    client: Any, deps: Deps
) -> None:
    ws, state = await visitor(client)
    assert state["status"] == "new"
    assert state["open"] is True
    await ws.send_json({"type": "message", "body": "Jeg er bekymret for min bror."})
    echoed = await receive(ws, "message")
    assert echoed["message"]["from"] == "visitor"

    contact, chat, messages = await stored(deps)
    assert contact.channel is Channel.WEB_CHAT
    assert contact.anonymous is True
    assert contact.reporter_name is None
    assert contact.reporter_phone_e164 is None
    assert contact.reporter_role.value == "unknown"
    assert chat.status == "waiting"
    assert chat.token_hash == token_hash(TOKEN)
    assert [(m.direction, m.body) for m in messages] == [
        (MessageDirection.INBOUND, "Jeg er bekymret for min bror.")
    ]
    # Encrypted at rest: the raw column holds no plain text.
    async with deps.engine.connect() as connection:
        raw = (await connection.exec_driver_sql("SELECT body FROM messages")).scalar_one()
    assert "bror" not in raw

    # Reconnecting with the same token resumes the chat and its transcript.
    await ws.close()
    again, state = await visitor(client)
    assert state["status"] == "waiting"
    assert [m["body"] for m in state["messages"]] == ["Jeg er bekymret for min bror."]
    await again.close()


async def test_staff_see_a_new_chat_accept_it_and_talk_both_ways(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)
    staff, listing = await staff_socket(client)
    assert listing["chats"] == []

    ws, _ = await visitor(client)
    await ws.send_json({"type": "message", "body": "Hej, er der nogen?"})
    waiting = await receive(staff, "chat")
    assert waiting["entry"]["status"] == "waiting"
    chat_id = waiting["entry"]["id"]

    await staff.send_json({"type": "accept", "chat": chat_id})
    transcript = await receive(staff, "transcript")
    assert [m["body"] for m in transcript["messages"]] == ["Hej, er der nogen?"]
    await receive(ws, "accepted")

    await staff.send_json({"type": "message", "chat": chat_id, "body": "Ja, jeg er her."})
    assert (await receive(ws, "message"))["message"] == {
        **(await receive(staff, "message"))["message"],
    }
    await ws.send_json({"type": "message", "body": "Tak."})
    assert (await receive(staff, "message"))["message"]["body"] == "Tak."

    await staff.send_json({"type": "end", "chat": chat_id})
    assert (await receive(ws, "ended"))["by"] == "staff"
    contact, chat, messages = await stored(deps)
    assert chat.status == "ended"
    assert chat.end_reason == "staff"
    assert [m.direction for m in messages] == [
        MessageDirection.INBOUND,
        MessageDirection.OUTBOUND,
        MessageDirection.INBOUND,
    ]
    assert messages[1].staff_id is not None

    # Ended: taken in like every other channel.
    await run_jobs(deps)
    contact, _, _ = await stored(deps)
    assert contact.case_id is not None
    await ws.close()
    await staff.close()


@pytest_asyncio.fixture
async def second_client(deps: Deps, clock: FrozenClock) -> AsyncIterator[Any]:
    """Another server process's app: its own deps, the same database and Redis."""
    other = build_deps(deps.settings, clock=clock, fake_server=deps.fake_server)
    async with TestClient(TestServer(create_app(other, in_process_worker=False))) as test_client:
        yield test_client
    await other.aclose()


async def test_only_one_staff_member_can_accept(
    client: Any, second_client: Any, deps: Deps
) -> None:
    await logged_in(client, deps)
    create_staff(deps, username="jens")
    assert (await log_in(second_client, username="jens")).status == 303
    first, _ = await staff_socket(client)
    second, _ = await staff_socket(second_client)
    ws, _ = await visitor(client)
    await ws.send_json({"type": "message", "body": "Hej"})
    chat_id = (await receive(first, "chat"))["entry"]["id"]
    await receive(second, "chat")
    await asyncio.gather(
        first.send_json({"type": "accept", "chat": chat_id}),
        second.send_json({"type": "accept", "chat": chat_id}),
    )
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(_accept_outcome(s), WAIT) for s in (first, second))
    )
    assert sorted(outcomes) == ["taken", "transcript"]
    loser = second if outcomes[1] == "taken" else first
    # The loser cannot write into the chat either.
    await loser.send_json({"type": "message", "chat": chat_id, "body": "Også mig"})
    assert (await receive(loser, "error"))["code"] == "not_yours"
    async with deps.sessions() as session:
        assert (await session.scalars(select(Chat.status))).one() == "active"
    for socket in (first, second, ws):
        await socket.close()


async def _accept_outcome(ws: Any) -> str:
    while True:
        data = await ws.receive_json()
        if data["type"] == "transcript":
            return "transcript"
        if data["type"] == "error":
            return str(data["code"])


async def test_a_visitor_and_staff_on_different_processes_talk(
    client: Any, second_client: Any, deps: Deps
) -> None:
    create_staff(deps)
    assert (await log_in(second_client)).status == 303
    staff, _ = await staff_socket(second_client)
    ws, _ = await visitor(client)
    await ws.send_json({"type": "message", "body": "Fra proces A"})
    chat_id = (await receive(staff, "chat"))["entry"]["id"]
    await staff.send_json({"type": "accept", "chat": chat_id})
    await receive(ws, "accepted")
    await staff.send_json({"type": "message", "chat": chat_id, "body": "Svar fra proces B"})
    assert (await receive(ws, "message"))["message"]["body"] == "Svar fra proces B"
    assert (await receive(staff, "message"))["message"]["from"] == "staff"  # its own, echoed
    await ws.send_json({"type": "message", "body": "Modtaget"})
    assert (await receive(staff, "message"))["message"]["body"] == "Modtaget"
    await ws.send_json({"type": "end"})
    assert (await receive(staff, "ended"))["by"] == "visitor"
    await ws.close()
    await staff.close()


@pytest_asyncio.fixture
async def impatient_client(deps: Deps, clock: FrozenClock) -> AsyncIterator[tuple[Any, Deps]]:
    """The app with a chat accept time of a fraction of a second."""
    settings = load_settings(
        {**_environ(deps), "HOTLINE_CHAT_ACCEPT_SECONDS": "0.2"},
    )
    impatient = build_deps(settings, clock=clock, fake_server=deps.fake_server)
    async with TestClient(
        TestServer(create_app(impatient, in_process_worker=False))
    ) as test_client:
        yield test_client, impatient
    await impatient.aclose()


def _environ(deps: Deps) -> dict[str, str]:
    settings = deps.settings
    assert settings.secret_key is not None
    assert settings.data_key is not None
    environ = {
        "HOTLINE_DATABASE_URL": settings.resolved_database_url,
        "HOTLINE_DATA_DIR": str(settings.data_dir),
        "HOTLINE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HOTLINE_DATA_KEY": settings.data_key.get_secret_value(),
        "HOTLINE_COOKIE_SECURE": "false",
    }
    if settings.redis_url:
        environ["HOTLINE_REDIS_URL"] = str(settings.redis_url)
    return environ


async def test_nobody_accepts_in_time_so_the_visitor_is_offered_a_call_back(
    impatient_client: tuple[Any, Deps], deps: Deps
) -> None:
    app_client, app_deps = impatient_client
    ws, _ = await visitor(app_client)
    await ws.send_json({"type": "message", "body": "Jeg venter."})
    assert (await receive(ws, "unavailable"))["reason"] == "no_staff"

    await ws.send_json({"type": "callback", "phone": "not a number"})
    assert (await receive(ws, "callback"))["saved"] is False
    await ws.send_json({"type": "callback", "phone": "20 12 34 56"})
    assert (await receive(ws, "callback"))["saved"] is True

    contact, chat, messages = await stored(deps)
    assert chat.status == "missed"
    assert chat.end_reason == "no_staff"
    assert [m.body for m in messages] == ["Jeg venter."]  # what they wrote is kept
    assert contact.reporter_phone_e164 == "+4520123456"
    assert contact.reporter_phone_status is PhoneStatus.VALID
    async with deps.engine.connect() as connection:
        raw = (
            await connection.exec_driver_sql("SELECT reporter_phone_e164 FROM contacts")
        ).scalar_one()
    assert "20123456" not in raw
    await run_jobs(app_deps)  # the app that missed the chat handed its contact to take-in
    contact, _, _ = await stored(deps)
    assert contact.case_id is not None
    await ws.close()


async def test_outside_opening_hours_the_visitor_is_told_at_once(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 3, 3, 2, 0, tzinfo=UTC))  # 03:00 in Copenhagen: closed
    ws, state = await visitor(client)
    assert state["status"] == "new"
    assert state["open"] is False
    await ws.send_json({"type": "message", "body": "Er I der om natten?"})
    assert (await receive(ws, "unavailable"))["reason"] == "closed"
    _, chat, messages = await stored(deps)
    assert chat.status == "missed"
    assert chat.end_reason == "closed"
    assert [m.body for m in messages] == ["Er I der om natten?"]
    await ws.close()


async def test_a_flood_of_chat_messages_is_refused_and_not_stored(client: Any, deps: Deps) -> None:
    ws, _state = await visitor(client)  # the hello counts as the first frame
    for number in range(CHAT_MESSAGES.requests + 5):
        await ws.send_json({"type": "message", "body": f"besked {number}"})
    refusal = await receive(ws, "error")
    assert refusal["code"] == "too_many_messages"
    await ws.close()

    _contact, _chat, messages = await stored(deps)
    assert [m.body for m in messages] == [
        f"besked {number}" for number in range(CHAT_MESSAGES.requests - 1)
    ]


async def test_opening_chats_is_limited_per_client(client: Any) -> None:
    for _ in range(CHAT_CONNECTIONS.requests):
        ws = await client.ws_connect("/chat/national/ws")
        await ws.close()
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/chat/national/ws")
    assert refused.value.status == 429
