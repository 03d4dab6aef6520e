"""Answering a web chat from the case page: into the chat while it is active and yours; otherwise
the page says why not (waiting to be accepted, someone else's, ended)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from access.models import AuditEntry
from bootstrap import Deps
from intake.models import Contact, Message, MessageDirection
from jobqueue import take_in_contacts
from server import create_app
from tests.integration.test_web_chat import receive, staff_socket, visitor
from tests.support.forms import csrf_token
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff, log_in, logged_in

pytestmark = pytest.mark.asyncio

REPLY = "Jeg kan se din sag her. Fortæl gerne mere."


@pytest_asyncio.fixture
async def colleague(deps: Deps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """Another staff member's browser."""
    async with TestClient(TestServer(create_app(deps, in_process_worker=False))) as browser:
        yield browser


async def take_in_now(deps: Deps) -> Contact:
    """What the sweeper does for a contact that waited (a chat still going on, here)."""
    async with deps.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
    deps.enqueuer.submit(take_in_contacts, contact.id)
    await run_jobs(deps)
    async with deps.sessions() as session:
        contact = await session.get_one(Contact, contact.id)
    assert contact.case_id is not None
    return contact


async def case_page(client: Any, contact: Contact) -> str:
    response = await client.get(f"/cases/{contact.case_id}")
    assert response.status == 200
    return html.unescape(await response.text())


async def post_reply(client: Any, contact: Contact, body: str = REPLY) -> Any:
    return await client.post(
        f"/cases/{contact.case_id}/contacts/{contact.id}/reply",
        data={"csrf_token": csrf_token(await case_page(client, contact)), "body": body},
        allow_redirects=False,
    )


def reply_form(contact: Contact) -> str:
    return f'action="/cases/{contact.case_id}/contacts/{contact.id}/reply"'


async def test_an_active_chat_is_answered_from_the_case_page(
    client: Any, colleague: Any, deps: Deps
) -> None:
    await logged_in(client, deps)
    staff, _ = await staff_socket(client)
    ws, _ = await visitor(client)
    await ws.send_json({"type": "message", "body": "Min bror er blevet mærkelig."})
    chat_id = (await receive(staff, "chat"))["entry"]["id"]
    await staff.send_json({"type": "accept", "chat": chat_id})
    await receive(ws, "accepted")
    contact = await take_in_now(deps)

    shown = await case_page(client, contact)
    assert reply_form(contact) in shown
    replied = await post_reply(client, contact)
    assert replied.status == 303
    # The visitor and the staff member's chat window both get it at once.
    assert (await receive(ws, "message"))["message"]["body"] == REPLY
    assert (await receive(staff, "message"))["message"]["from"] == "staff"
    async with deps.sessions() as session:
        outbound = (
            await session.scalars(
                select(Message).where(Message.direction == MessageDirection.OUTBOUND)
            )
        ).one()
        audited = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "reply_queued")
        )
    assert (outbound.body, outbound.status, outbound.contact_id) == (REPLY, "delivered", contact.id)
    assert outbound.staff_id is not None
    assert audited is not None

    # A colleague sees why they cannot write, and is refused if they try.
    create_staff(deps, username="bo")
    assert (await log_in(colleague, username="bo")).status == 303
    theirs = await case_page(colleague, contact)
    assert reply_form(contact) not in theirs
    assert "En anden medarbejder har taget imod denne chat" in theirs
    refused = await post_reply(colleague, contact, "Hej")
    assert refused.status == 409

    # Ended: nobody can write in it any more.
    await staff.send_json({"type": "end", "chat": chat_id})
    await receive(ws, "ended")
    ended = await case_page(client, contact)
    assert reply_form(contact) not in ended
    assert "Chatten er afsluttet." in ended
    assert (await post_reply(client, contact, "Hej igen")).status == 409
    async with deps.sessions() as session:
        count = len(
            (
                await session.scalars(
                    select(Message).where(Message.direction == MessageDirection.OUTBOUND)
                )
            ).all()
        )
    assert count == 1
    await ws.close()
    await staff.close()


async def test_a_waiting_chat_points_to_the_chats_page(client: Any, deps: Deps) -> None:
    ws, _ = await visitor(client)
    await ws.send_json({"type": "message", "body": "Er der nogen?"})
    await receive(ws, "message")
    contact = await take_in_now(deps)
    await logged_in(client, deps)

    shown = await case_page(client, contact)
    assert reply_form(contact) not in shown
    assert "Den besøgende venter i chatten." in shown
    assert '<a href="/chats">Åbn chatsiden</a>' in shown
    api = await client.post(
        f"/api/v1/contacts/{contact.id}/replies",
        json={"body": "Hej"},
        headers={"X-CSRF-Token": csrf_token(shown)},
    )
    assert api.status == 409
    assert (await api.json())["error"]["reason"] == "chat_waiting"
    await ws.close()
