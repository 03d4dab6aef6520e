"""SMS threads answer as the OpenAPI document says: delivery errors, retries, opt-outs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bootstrap import Deps
from intake.models import Contact
from notifications.ports import SendFailed
from tests.support.jobs import run_jobs
from tests.support.messaging import (
    INBOUND_PATH,
    RecordingSender,
    inbound_fields,
    post_reply,
    post_signed,
)
from tests.support.openapi import assert_matches, served_document
from tests.support.staff import staff_api_headers

pytestmark = pytest.mark.asyncio


async def inbound(client: Any, deps: Deps, body: str) -> int:
    response = await post_signed(client, INBOUND_PATH, inbound_fields(body))
    assert response.status == 200, await response.text()
    await run_jobs(deps)
    async with deps.sessions() as session:
        return int((await session.scalars(select(Contact.id))).one())


async def test_a_thread_with_failed_and_retried_replies_matches_the_document(
    client: Any, deps: Deps, sender: RecordingSender
) -> None:
    document = await served_document(client)
    contact_id = await inbound(client, deps, "Hej, jeg er bekymret.")
    headers = await staff_api_headers(client, deps)
    replies = f"/api/v1/contacts/{contact_id}/replies"
    sender.outcomes = [
        SendFailed("21211", "The 'To' number is not a valid phone number.", retryable=False),
        SendFailed("20429", "Too many requests", retryable=True),
    ]
    for text in ("Hej igen.", "Og en gang til."):
        queued = await post_reply(client, contact_id, text, headers)
        assert queued.status == 202
        assert_matches(document, "POST", replies, 202, await queued.json())
        await run_jobs(deps)

    path = f"/api/v1/contacts/{contact_id}/messages"
    thread = await client.get(path)
    body = await thread.json()
    inbound_message, failed, waiting = body["messages"]
    assert inbound_message["direction"] == "inbound"
    assert failed["error"]["code"] == "21211"
    assert waiting["status"] == "pending"
    assert waiting["next_attempt_at"] is not None
    assert_matches(document, "GET", path, 200, body)

    await inbound(client, deps, "STOP")
    opted_out = await client.get(path)
    opted_out_body = await opted_out.json()
    assert opted_out_body["reply_refused"]["code"] == "opted_out"
    assert_matches(document, "GET", path, 200, opted_out_body)
    refused = await post_reply(client, contact_id, "Hej?", headers)
    assert refused.status == 409
    assert_matches(document, "POST", replies, 409, await refused.json())
