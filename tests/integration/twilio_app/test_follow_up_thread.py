"""Web-form threads: staff reply, the reporter reads it and adds information with the receipt code.

A reply to a web-form contact is sent nowhere (the recording SMS sender sees nothing): it waits
on the follow-up page as "available" and becomes "read" when the reporter opens the page with
the code. What the reporter adds is an inbound message, noted on the case's timeline.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
import structlog
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text

from access.models import AuditEntry
from bootstrap import Deps
from clock import FrozenClock
from intake.models import Channel, Contact, Message, MessageDirection
from server import create_app
from tests.support.forms import csrf_token, open_form, receipt_code, valid_answers
from tests.support.jobs import run_jobs
from tests.support.messaging import RecordingSender, post_reply, read_thread
from tests.support.staff import staff_api_headers
from triage.models import CaseEvent

pytestmark = pytest.mark.asyncio

REPLY = "Tak for din henvendelse. Må vi ringe til dig?\nVi ringer helst i dag."
ADDED = "Han har nu også købt en flybillet til på fredag."
THANKS = "Tak, vi har modtaget dine oplysninger."
REQUIRED = "Besvar venligst dette spørgsmål."
TOO_LONG = "Teksten er for lang: højst 4000 tegn."


@pytest_asyncio.fixture
async def reporter(deps: Deps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """A second browser: the reporter, without the staff member's cookies."""
    app = create_app(deps, in_process_worker=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


# --- helpers -------------------------------------------------------------------------------


def page_text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


async def report(client: Any, deps: Deps, **answers: str) -> tuple[int, str]:
    """Submit the concern form and take it in; returns the contact id and the receipt code."""
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(**answers)}
    )
    assert response.status == 200
    code = receipt_code(await response.text())
    await run_jobs(deps)
    async with deps.sessions() as session:
        contact_id = await session.scalar(select(func.max(Contact.id)))
    assert contact_id is not None
    return int(contact_id), code


async def follow_up_token(client: Any) -> str:
    response = await client.get("/follow-up")
    assert response.status == 200
    return csrf_token(await response.text())


async def check(client: Any, code: str) -> Any:
    token = await follow_up_token(client)
    return await client.post("/follow-up", data={"csrf_token": token, "code": code})


async def add(client: Any, code: str, information: str, **extra: str) -> Any:
    token = await follow_up_token(client)
    return await client.post(
        "/follow-up/add",
        data={"csrf_token": token, "code": code, "information": information, **extra},
    )


async def messages(deps: Deps) -> list[Message]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(Message).order_by(Message.id))).all())


async def count(deps: Deps, model: type[Any]) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def timeline(deps: Deps, contact_id: int) -> list[CaseEvent]:
    async with deps.sessions() as session:
        contact = await session.get_one(Contact, contact_id)
        return list(
            (
                await session.scalars(
                    select(CaseEvent)
                    .where(CaseEvent.case_id == contact.case_id)
                    .order_by(CaseEvent.id)
                )
            ).all()
        )


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
async def test_the_reporter_reads_a_reply_and_adds_information(
    client: Any,
    reporter: Any,
    deps: Deps,
    *,
    clock: FrozenClock,
    sender: RecordingSender,
    anonymous: bool,
) -> None:
    stack = contextlib.ExitStack()
    answers = {"anonymous": "yes", "phone": ""} if anonymous else {}
    contact_id, code = await report(reporter, deps, **answers)
    headers = await staff_api_headers(client, deps)

    # Staff reply: stored, available on the follow-up page, and sent nowhere.
    clock.advance(timedelta(hours=1))
    replied = await post_reply(client, contact_id, REPLY, headers)
    assert replied.status == 201, await replied.text()
    reply_id = (await replied.json())["id"]
    assert (await replied.json())["status"] == "available"
    await run_jobs(deps)
    assert sender.calls == []
    thread = await read_thread(client, contact_id)
    assert thread["channel"] == "web_form"
    assert thread["can_reply"] is True
    assert [(m["direction"], m["status"]) for m in thread["messages"]] == [
        ("outbound", "available")
    ]
    audits = await count(deps, AuditEntry)

    # The reporter opens the follow-up page with the code: the reply shows, in Danish time,
    # from "the hotline staff" (never a name), and becomes read.
    clock.advance(timedelta(minutes=30))
    logs = stack.enter_context(structlog.testing.capture_logs())
    opened = await check(reporter, code)
    assert opened.status == 200
    page = page_text(await opened.text())
    assert "Tak for din henvendelse. Må vi ringe til dig?" in page
    assert "Hotlinemedarbejder" in page
    assert "Hanne" not in page  # the staff member's name
    assert "02.03.2026 11.30" in page  # 09:30 UTC + 1 h, shown in Copenhagen (UTC+1)
    assert 'action="/follow-up/add"' in page
    assert f'name="code" value="{code}"' in page
    (reply,) = await messages(deps)
    assert (reply.id, reply.status) == (reply_id, "read")
    assert reply.status_at == clock.now()

    # Opening it again changes nothing: read stays read, at the first reading's time.
    clock.advance(timedelta(minutes=5))
    assert (await check(reporter, code)).status == 200
    (reply,) = await messages(deps)
    assert reply.status_at == clock.now() - timedelta(minutes=5)

    # The reporter adds information.
    added = await add(reporter, code, f"  {ADDED}\r\nMere senere.  ")
    assert added.status == 200
    page = page_text(await added.text())
    assert THANKS in page
    assert ADDED in page
    assert page.index("Tak for din henvendelse") < page.index(ADDED)  # newest last

    stored = await messages(deps)
    assert [m.direction for m in stored] == [MessageDirection.OUTBOUND, MessageDirection.INBOUND]
    information = stored[1]
    assert information.body == f"{ADDED}\nMere senere."
    assert information.contact_id == contact_id
    assert information.status == "received"
    async with deps.engine.connect() as connection:
        raw = (
            await connection.execute(
                text("SELECT body FROM messages WHERE id = :id"), {"id": information.id}
            )
        ).scalar_one()
    assert "flybillet" not in raw
    async with deps.sessions() as session:
        contact = await session.get_one(Contact, contact_id)
    assert contact.channel is Channel.WEB_FORM

    events = await timeline(deps, contact_id)
    assert events[-1].kind == "message_received"
    assert events[-1].contact_id == contact_id
    assert events[-1].detail == {"channel": "web_form", "message_id": information.id}
    assert "flybillet" not in str([e.detail for e in events])

    # Reading and adding by the reporter is not staff access: no audit entries; logs carry ids
    # only, never the code or the texts.
    assert await count(deps, AuditEntry) == audits
    stack.close()
    logged = str(logs)
    assert "follow_up_information_added" in logged  # the logs were captured
    for secret in (code, code.replace("-", ""), "flybillet", "Må vi ringe"):
        assert secret not in logged

    # Staff see both, with their statuses.
    thread = await read_thread(client, contact_id)
    assert [(m["direction"], m["status"], m["body"]) for m in thread["messages"]] == [
        ("outbound", "read", REPLY),
        ("inbound", "received", f"{ADDED}\nMere senere."),
    ]
    await run_jobs(deps)
    assert sender.calls == []


async def test_a_report_without_replies_says_so_and_takes_information(
    reporter: Any, deps: Deps
) -> None:
    contact_id, code = await report(reporter, deps)
    page = page_text(await (await check(reporter, code)).text())
    assert "Der er endnu ingen beskeder fra hotlinens medarbejdere." in page
    assert "Din henvendelse blev modtaget" in page

    assert (await add(reporter, code, ADDED)).status == 200
    (information,) = await messages(deps)
    assert information.direction is MessageDirection.INBOUND
    assert [e.kind for e in await timeline(deps, contact_id)][-1] == "message_received"


async def test_bad_codes_and_bad_text_store_nothing(reporter: Any, deps: Deps) -> None:
    _contact_id, code = await report(reporter, deps)
    events = await count(deps, CaseEvent)

    malformed = await add(reporter, "ABCD", ADDED)
    assert malformed.status == 400
    assert "En kvitteringskode har 20 bogstaver og tal" in page_text(await malformed.text())
    unknown = await add(reporter, "ABCD-EFGH-JKMN-PQRS-TVWX", ADDED)
    assert unknown.status == 404
    assert "Der findes ingen henvendelse med denne kvitteringskode." in page_text(
        await unknown.text()
    )
    missing = await add(reporter, "", ADDED)
    assert missing.status == 400

    empty = await add(reporter, code, "  \r\n ")
    assert empty.status == 400
    page = page_text(await empty.text())
    assert REQUIRED in page
    assert 'class="error-summary"' in page
    assert 'href="#information"' in page
    assert 'aria-invalid="true"' in page

    too_long = "x" * 3990 + "\nNu for lang"
    long = await add(reporter, code, too_long + "y" * 10)
    assert long.status == 400
    page = await long.text()
    assert TOO_LONG in page_text(page)
    assert too_long in html.unescape(page)  # the text is kept for correcting

    assert (await add(reporter, code, "z" * 4000)).status == 200  # the limit itself is fine
    assert len(await messages(deps)) == 1
    assert await count(deps, CaseEvent) == events + 1


async def test_adding_needs_the_form_token(reporter: Any, deps: Deps) -> None:
    _contact_id, code = await report(reporter, deps)
    response = await reporter.post(
        "/follow-up/add", data={"csrf_token": "forged", "code": code, "information": ADDED}
    )
    assert response.status == 403
    page = await response.text()
    assert ADDED in html.unescape(page)  # kept for sending again
    assert "Din henvendelse blev modtaget" not in page_text(page)  # nothing read without a token
    assert await messages(deps) == []


async def test_the_code_never_appears_in_a_url(reporter: Any, deps: Deps) -> None:
    _contact_id, code = await report(reporter, deps)
    page = await (await check(reporter, code)).text()
    for href in re.findall(r'(?:href|action)="([^"]*)"', page):
        assert code not in href
        assert code.replace("-", "") not in href
    # The language link leads to the empty page; a GET of the add address goes there too.
    assert 'href="/follow-up?lang=en"' in page
    response = await reporter.get("/follow-up/add", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/follow-up"


async def test_the_page_in_english(reporter: Any, deps: Deps, client: Any) -> None:
    contact_id, code = await report(reporter, deps)
    headers = await staff_api_headers(client, deps)
    assert (await post_reply(client, contact_id, "Thank you.", headers)).status == 201
    token = await follow_up_token(reporter)
    response = await reporter.post(
        "/follow-up/add",
        data={"csrf_token": token, "code": code, "information": ADDED, "lang": "en"},
    )
    page = page_text(await response.text())
    assert response.status == 200
    assert "Thank you, we have received your information." in page
    assert "Hotline staff" in page
    assert "What would you like to add?" in page


async def test_adding_is_rate_limited_like_receipt_checks(reporter: Any, deps: Deps) -> None:
    _contact_id, code = await report(reporter, deps)
    token = await follow_up_token(reporter)
    statuses = []
    for _ in range(31):
        response = await reporter.post(
            "/follow-up/add", data={"csrf_token": token, "code": code, "information": ""}
        )
        statuses.append(response.status)
    assert statuses[-1] == 429
    assert set(statuses[:-1]) == {400}
