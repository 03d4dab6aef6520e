"""The OpenAPI document the service serves: valid, complete, and true of real answers.

Every /api/ route must carry an @operation mark and appear in the document, and the document
names nothing the router lacks. Real answers of real routes are checked against the schemas
the document gives for their status (tests/support/openapi.py).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from sqlalchemy import select

from access.models import Role
from bootstrap import Deps
from intake.models import Channel, Contact, PhoneStatus, Recording, ReporterRole
from tests.support.forms import open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.openapi import assert_matches, served_document
from tests.support.staff import create_staff, log_in, staff_api_headers
from triage.models import LinkProposal
from web.api import operation_of
from web.middleware import API_PAGES, API_PREFIX
from web.openapi import DOCUMENT_PATH, NOT_OPERATIONS, api_routes, unmarked_routes

pytestmark = pytest.mark.asyncio

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "


async def report(client: Any, deps: Deps, **answers: str) -> None:
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(**answers)}
    )
    assert response.status == 200
    await run_jobs(deps)


async def web_form_contact(deps: Deps) -> Contact:
    async with deps.sessions() as session:
        return (
            await session.scalars(select(Contact).where(Contact.channel == Channel.WEB_FORM))
        ).first() or pytest.fail("no web-form contact")


async def voicemail(deps: Deps) -> tuple[int, int]:
    """A phone contact with a fetched voicemail on disk; returns (contact id, recording id)."""
    now = deps.clock.now()
    folder = deps.settings.data_dir / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "RE1.wav").write_bytes(WAV)
    async with deps.sessions() as session, session.begin():
        contact = Contact(
            hotline_id="national",
            channel=Channel.PHONE,
            received_at=now,
            language="da",
            reporter_role=ReporterRole.UNKNOWN,
            anonymous=True,
            reporter_phone_status=PhoneStatus.NONE,
            answers={},
        )
        session.add(contact)
        await session.flush()
        recording = Recording(
            contact_id=contact.id,
            provider_id="RE1",
            received_at=now,
            file_path="recordings/RE1.wav",
            content_type="audio/x-wav",
            fetched_at=now,
        )
        session.add(recording)
        await session.flush()
        return contact.id, recording.id


# --- the document ------------------------------------------------------------------------------


async def test_the_document_is_valid_openapi_3_1_and_public(client: Any) -> None:
    response = await client.get(DOCUMENT_PATH)  # no login
    assert response.status == 200
    assert response.content_type == "application/json"
    document = await response.json()
    validate(document)  # raises on anything OpenAPI 3.1 does not allow
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == metadata.version("hotline")
    schemes = document["components"]["securitySchemes"]
    assert {(s["in"], s["name"]) for s in schemes.values()} == {
        ("cookie", "hotline_session"),
        ("cookie", "csrf"),
        ("header", "X-CSRF-Token"),
    }


async def test_every_api_route_is_documented_and_nothing_else(client: Any) -> None:
    app: web.Application = client.app
    assert unmarked_routes(app) == [], "mark these with @operation (web/api.py)"
    registered = {(route.method.lower(), route.path) for route in api_routes(app)}
    document = await served_document(client)
    documented = {
        (method, path) for path, methods in document["paths"].items() for method in methods
    }
    assert documented == registered
    # The routes this test must at least see, so it cannot pass on an empty router.
    assert {("get", "/api/v1/queue"), ("post", "/api/v1/contacts/{contact_id}/replies")} <= (
        documented
    )
    # What is left out is exactly the document and its page, and both exist.
    left_out = {
        route.resource.canonical
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(API_PREFIX)
        and route.resource.canonical in NOT_OPERATIONS
    }
    assert left_out == NOT_OPERATIONS == {DOCUMENT_PATH, *API_PAGES}
    # Marks outside /api/ would describe pages as JSON: there are none.
    outside = [
        route.resource.canonical
        for route in app.router.routes()
        if route.resource is not None
        and operation_of(route.handler) is not None
        and not route.resource.canonical.startswith(API_PREFIX)
    ]
    assert outside == []


async def test_the_document_states_the_access_checks_the_guard_makes(client: Any) -> None:
    document = await served_document(client)
    queue = document["paths"]["/api/v1/queue"]["get"]
    assert queue["security"] == [{"staffSession": []}]
    assert "401" in queue["responses"]
    assert "403" not in queue["responses"]  # any staff member, and a GET needs no CSRF token
    reply = document["paths"]["/api/v1/contacts/{contact_id}/replies"]["post"]
    assert reply["security"] == [{"staffSession": [], "csrfCookie": [], "csrfToken": []}]
    assert "hotline" in reply["description"]
    assert {"400", "401", "403", "404", "409"} <= set(reply["responses"])
    assert reply["parameters"] == [
        {
            "name": "contact_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    ]
    limit = document["paths"]["/api/v1/queue"]["get"]["parameters"][0]
    assert limit["name"] == "limit"
    assert limit["schema"]["maximum"] == 200
    audio = document["paths"]["/api/v1/recordings/{recording_id}/audio"]["get"]
    assert list(audio["responses"]["200"]["content"]) == ["audio/*"]


async def test_the_document_is_built_once_per_app(client: Any) -> None:
    first = await (await client.get(DOCUMENT_PATH)).read()
    second = await (await client.get(DOCUMENT_PATH)).read()
    assert first == second
    from web.appkeys import openapi_document_key

    cached = client.app[openapi_document_key]
    assert cached.document(client.app) is cached.document(client.app)


# --- real answers against the document ---------------------------------------------------------


async def test_the_queue_and_its_errors_match_the_document(client: Any, deps: Deps) -> None:
    document = await served_document(client)
    anonymous = await client.get("/api/v1/queue")
    assert_matches(document, "GET", "/api/v1/queue", 401, await anonymous.json())

    await report(client, deps, safety_threats="yes")
    await report(client, deps, phone="31 45 67 89")
    await staff_api_headers(client, deps)
    page = await client.get("/api/v1/queue", params={"limit": 1})
    body = await page.json()
    assert len(body["items"]) == 1
    assert body["next_cursor"]
    assert_matches(document, "GET", "/api/v1/queue", page.status, body)
    last = await client.get("/api/v1/queue", params={"cursor": body["next_cursor"]})
    last_body = await last.json()
    assert last_body["next_cursor"] is None
    assert_matches(document, "GET", "/api/v1/queue", last.status, last_body)

    bad = await client.get("/api/v1/queue", params={"limit": "0"})
    error = await bad.json()
    assert error["error"]["field"] == "limit"
    assert_matches(document, "GET", "/api/v1/queue", bad.status, error)


async def test_link_proposals_match_the_document(client: Any, deps: Deps) -> None:
    document = await served_document(client)
    await report(client, deps, phone="20 12 34 56")
    await report(client, deps, phone="+45 20 12 34 56")
    headers = await staff_api_headers(client, deps)
    async with deps.sessions() as session:
        proposal = (await session.scalars(select(LinkProposal))).one()

    path = f"/api/v1/cases/{proposal.case_id}/link-proposals"
    listed = await client.get(path)
    listed_body = await listed.json()
    assert [item["id"] for item in listed_body["items"]] == [proposal.id]
    assert_matches(document, "GET", path, listed.status, listed_body)

    confirm = f"/api/v1/link-proposals/{proposal.id}/confirm"
    confirmed = await client.post(confirm, headers=headers)
    confirmed_body = await confirmed.json()
    assert confirmed_body["status"] == "confirmed"
    assert_matches(document, "POST", confirm, confirmed.status, confirmed_body)
    again = await client.post(confirm, headers=headers)
    assert again.status == 409
    assert_matches(document, "POST", confirm, again.status, await again.json())
    missing = await client.post("/api/v1/link-proposals/999999/reject", headers=headers)
    assert missing.status == 404
    assert_matches(
        document, "POST", "/api/v1/link-proposals/999999/reject", 404, await missing.json()
    )
    no_token = await client.post(confirm)
    assert no_token.status == 403
    assert_matches(document, "POST", confirm, 403, await no_token.json())


async def test_a_web_form_thread_and_its_replies_match_the_document(
    client: Any, deps: Deps
) -> None:
    document = await served_document(client)
    await report(client, deps)
    contact = await web_form_contact(deps)
    headers = await staff_api_headers(client, deps)
    replies = f"/api/v1/contacts/{contact.id}/replies"

    stored = await client.post(replies, json={"body": "Tak, vi ringer i morgen."}, headers=headers)
    assert stored.status == 201
    assert_matches(document, "POST", replies, 201, await stored.json())
    for bad in ({"body": ""}, {"text": "wrong key"}, [1, 2]):
        refused = await client.post(replies, json=bad, headers=headers)
        assert refused.status == 400
        error = await refused.json()
        assert error["error"]["field"] == "body"
        assert_matches(document, "POST", replies, 400, error)

    thread_path = f"/api/v1/contacts/{contact.id}/messages"
    thread = await client.get(thread_path)
    body = await thread.json()
    assert [m["status"] for m in body["messages"]] == ["available"]
    assert_matches(document, "GET", thread_path, thread.status, body)


async def test_a_voicemail_and_a_refused_reply_match_the_document(client: Any, deps: Deps) -> None:
    document = await served_document(client)
    contact_id, recording_id = await voicemail(deps)
    headers = await staff_api_headers(client, deps)

    audio_path = f"/api/v1/recordings/{recording_id}/audio"
    audio = await client.get(audio_path)
    assert audio.status == 200
    assert await audio.read() == WAV
    assert_matches(document, "GET", audio_path, 200, None, content_type=audio.content_type)

    replies = f"/api/v1/contacts/{contact_id}/replies"
    refused = await client.post(replies, json={"body": "Hej"}, headers=headers)
    assert refused.status == 409
    error = await refused.json()
    assert error["error"]["reason"] == "not_a_message_channel"
    assert_matches(document, "POST", replies, 409, error)

    thread_path = f"/api/v1/contacts/{contact_id}/messages"
    thread = await client.get(thread_path)
    body = await thread.json()
    assert body["can_reply"] is False
    assert body["reply_refused"]["code"] == "not_a_message_channel"
    assert_matches(document, "GET", thread_path, 200, body)


async def test_a_role_refusal_matches_the_document(client: Any, deps: Deps) -> None:
    document = await served_document(client)
    _, recording_id = await voicemail(deps)
    create_staff(deps, username="infohus", role=Role.COORDINATOR)
    assert (await log_in(client, username="infohus")).status == 303
    path = f"/api/v1/recordings/{recording_id}/audio"
    refused = await client.get(path)
    assert refused.status == 403
    assert_matches(document, "GET", path, 403, await refused.json())


# --- the page ----------------------------------------------------------------------------------


async def test_the_reference_page_is_for_staff_and_shows_every_operation(
    client: Any, deps: Deps
) -> None:
    anonymous = await client.get("/api/docs", allow_redirects=False)
    assert anonymous.status == 303
    assert anonymous.headers["Location"] == "/login?next=/api/docs"

    await staff_api_headers(client, deps)
    document = await served_document(client)
    page = await client.get("/api/docs?lang=en")
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    assert "<h1>API reference</h1>" in html
    for path, methods in document["paths"].items():
        for method, described in methods.items():
            assert f'id="op-{described["operationId"]}"' in html
            assert f"<code>{method.upper()} {path}</code>" in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    # Types link to their schemas; the page names the document for programs.
    assert '<a href="#schema-QueueItem"><code>QueueItem</code></a>' in html
    assert f'href="{DOCUMENT_PATH}"' in html
    assert "<script" not in html

    danish = await client.get("/api/docs?lang=da")
    assert "<h1>API-reference</h1>" in await danish.text()
