"""Answering the reporter from the case page, through the channel they used: SMS and WhatsApp
by the send job (the recording sender sees exactly what Twilio would get), a web form on the
follow-up page (read with the receipt code, sent nowhere)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bootstrap import Deps
from intake.models import Contact, Message, MessageDirection
from server import create_app
from tests.support.forms import csrf_token, open_form, receipt_code, valid_answers
from tests.support.jobs import run_jobs
from tests.support.messaging import (
    INBOUND_PATH,
    NATIONAL_NUMBER,
    REPORTER,
    RecordingSender,
    inbound_fields,
    post_signed,
)
from tests.support.staff import logged_in

pytestmark = pytest.mark.asyncio

REPLY = "Tak for din besked. Må vi ringe til dig i dag?"


@pytest_asyncio.fixture
async def reporter(deps: Deps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """A second browser: the reporter, without the staff member's cookies."""
    async with TestClient(TestServer(create_app(deps, in_process_worker=False))) as browser:
        yield browser


async def newest_contact(deps: Deps) -> Contact:
    async with deps.sessions() as session:
        contact = await session.scalar(select(Contact).order_by(Contact.id.desc()).limit(1))
    assert contact is not None
    assert contact.case_id is not None
    return contact


async def reply_on_the_case_page(client: Any, contact: Contact, body: str) -> Any:
    page = await client.get(f"/cases/{contact.case_id}")
    assert page.status == 200
    shown = await page.text()
    assert f'action="/cases/{contact.case_id}/contacts/{contact.id}/reply"' in shown
    return await client.post(
        f"/cases/{contact.case_id}/contacts/{contact.id}/reply",
        data={"csrf_token": csrf_token(shown), "body": body},
        allow_redirects=False,
    )


@pytest.mark.parametrize("whatsapp", [False, True], ids=["sms", "whatsapp"])
async def test_an_sms_or_whatsapp_reply_goes_back_the_way_it_came(
    client: Any, deps: Deps, sender: RecordingSender, *, whatsapp: bool
) -> None:
    response = await post_signed(
        client, INBOUND_PATH, inbound_fields("Jeg er bekymret for min søn.", whatsapp=whatsapp)
    )
    assert response.status == 200
    await run_jobs(deps)
    contact = await newest_contact(deps)
    await logged_in(client, deps)

    replied = await reply_on_the_case_page(client, contact, REPLY)
    assert replied.status == 303
    await run_jobs(deps)

    prefix = "whatsapp:" if whatsapp else ""
    assert [(c["to"], c["from_"], c["body"]) for c in sender.calls] == [
        (f"{prefix}{REPORTER}", f"{prefix}{NATIONAL_NUMBER}", REPLY)
    ]
    shown = html.unescape(await (await client.get(f"/cases/{contact.case_id}")).text())
    assert "I kø hos udbyderen" in shown  # the provider's first status, shown on the thread
    assert "Svar til henvenderen" in shown  # and the reply is on the timeline


async def test_a_web_form_reply_waits_on_the_follow_up_page(
    client: Any, reporter: Any, deps: Deps, sender: RecordingSender
) -> None:
    token = await open_form(reporter)
    sent = await reporter.post("/report/national", data={"csrf_token": token, **valid_answers()})
    code = receipt_code(await sent.text())
    await run_jobs(deps)
    contact = await newest_contact(deps)
    await logged_in(client, deps)

    replied = await reply_on_the_case_page(client, contact, REPLY)
    assert replied.status == 303
    await run_jobs(deps)
    assert sender.calls == []  # sent nowhere

    form = await reporter.get("/follow-up")
    answer = await reporter.post(
        "/follow-up", data={"csrf_token": csrf_token(await form.text()), "code": code}
    )
    assert answer.status == 200
    assert REPLY in html.unescape(await answer.text())
    async with deps.sessions() as session:
        (message,) = (
            await session.scalars(
                select(Message).where(Message.direction == MessageDirection.OUTBOUND)
            )
        ).all()
        assert message.status == "read"
        assert await session.scalar(select(func.count()).select_from(Message)) == 1
