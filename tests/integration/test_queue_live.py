"""The live queue: changes announced after commit (never after a rollback), from the server's
sessions and from jobs alike, and delivered over SSE to staff on any server process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import structlog
from aiohttp.test_utils import TestClient, TestServer
from redis import Redis
from sqlalchemy import select

from access.models import AuditEntry
from bootstrap import Deps, build_deps
from clock import FrozenClock
from db import RowInserter, async_session_factory, session_class
from intake import concern_form, service
from jobqueue import take_in_contacts
from server import create_app
from tests.support.cases import add_case
from tests.support.forms import valid_answers
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff, log_in, logged_in
from triage import queue_stream
from triage.models import Case
from triage.queue_events import QueueAnnouncer, decode_ids, note_case_changed

pytestmark = pytest.mark.asyncio

WAIT = 5.0


@pytest_asyncio.fixture
async def announcements(deps: Deps) -> AsyncIterator[Any]:
    """A subscription to the queue channel, as a server process's bus has one."""
    client = deps.chat_redis()
    pubsub: Any = client.pubsub()
    await pubsub.subscribe(deps.announcer.channel)
    yield pubsub
    await pubsub.aclose()
    await client.aclose()


async def next_announcement(pubsub: Any) -> list[int]:
    async def wait() -> list[int]:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                return decode_ids(message["data"])

    return await asyncio.wait_for(wait(), WAIT)


async def note_then_fail(session: Any, case_id: int, *, in_savepoint: bool = False) -> None:
    """Note a change, then fail: the transaction rolls back (a savepoint inside it is released
    first when `in_savepoint`)."""
    async with session.begin():
        if in_savepoint:
            async with session.begin_nested():
                note_case_changed(session, case_id)
        else:
            note_case_changed(session, case_id)
        raise RuntimeError("the transaction rolls back")


async def test_a_commit_announces_its_cases_and_a_rollback_does_not(
    deps: Deps, announcements: Any
) -> None:
    async with deps.sessions() as session:
        with pytest.raises(RuntimeError):
            await note_then_fail(session, 11)
        # The same session, a new transaction: the rolled-back note is gone.
        async with session.begin():
            note_case_changed(session, 12)
            note_case_changed(session, 13)
            note_case_changed(session, 12)

    assert await next_announcement(announcements) == [12, 13]


async def test_a_transaction_that_noted_nothing_announces_nothing(
    deps: Deps, announcements: Any
) -> None:
    async with deps.sessions() as session, session.begin():
        await session.execute(select(Case.id))
    async with deps.sessions() as session, session.begin():
        note_case_changed(session, 5)

    assert await next_announcement(announcements) == [5]


async def test_a_released_savepoint_waits_for_the_transaction_around_it(
    deps: Deps, announcements: Any
) -> None:
    async with deps.sessions() as session:
        with pytest.raises(RuntimeError):
            await note_then_fail(session, 21, in_savepoint=True)
        async with session.begin(), session.begin_nested():
            note_case_changed(session, 22)

    assert await next_announcement(announcements) == [22]


async def test_a_job_announces_the_case_it_opens(
    deps: Deps, contact_inserter: RowInserter, announcements: Any
) -> None:
    report = concern_form.validate(valid_answers(safety_weapons="yes")).report
    assert report is not None
    stored = await service.record_concern(
        contact_inserter,
        report,
        hotline_id="national",
        language="da",
        now=deps.clock.now(),
        cipher=deps.cipher,
    )
    deps.queue.enqueue(take_in_contacts([stored.contact_id]))
    await run_jobs(deps)  # the worker's sync session, not the server's

    async with deps.sessions() as session:
        case_id = (await session.scalars(select(Case.id))).one()
    assert await next_announcement(announcements) == [case_id]


async def test_a_failed_announcement_is_logged_and_the_change_stays(deps: Deps) -> None:
    # A Redis nobody listens on: connecting fails at once.
    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    announcer = QueueAnnouncer(unreachable)
    watched = session_class()
    announcer.watch(watched)
    sessions = async_session_factory(deps.engine, sync_session_class=watched)
    staff_id = create_staff(deps)

    with structlog.testing.capture_logs() as logs:
        async with sessions() as session, session.begin():
            session.add(AuditEntry(at=deps.clock.now(), actor_id=staff_id, action="x", detail={}))
            note_case_changed(session, 31)
        await announcer.drain()
    unreachable.close()

    async with deps.sessions() as session:
        kept = await session.scalars(select(AuditEntry.id).where(AuditEntry.action == "x"))
        assert len(kept.all()) == 1
    failures = [entry for entry in logs if entry["event"] == "queue_announce_failed"]
    assert failures == [
        {
            "event": "queue_announce_failed",
            "log_level": "warning",
            "case_ids": [31],
            "error": "ConnectionError",
        }
    ]


# --- the SSE stream -----------------------------------------------------------------------


async def open_stream(client: Any) -> Any:
    response = await client.get("/queue/events")
    assert response.status == 200, await response.text()
    assert response.content_type == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    assert await next_line(response) == "retry: 3000"
    assert await next_line(response) == ": connected"
    assert await next_line(response) == ""
    return response


async def next_line(response: Any) -> str:
    line: bytes = await asyncio.wait_for(response.content.readline(), WAIT)
    return line.decode().rstrip("\n")


async def next_event(response: Any) -> tuple[str, str]:
    """The next event's name and data (keep-alive comments are skipped)."""
    name, data = "message", ""
    while True:
        line = await next_line(response)
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and data:
            return name, data


@pytest_asyncio.fixture
async def second_client(deps: Deps, clock: FrozenClock) -> AsyncIterator[Any]:
    """Another server process's app: its own deps, the same database and Redis."""
    other = build_deps(deps.settings, clock=clock, fake_server=deps.fake_server)
    async with TestClient(TestServer(create_app(other, in_process_worker=False))) as test_client:
        yield test_client
    await other.aclose()


async def test_the_stream_is_for_staff_only(client: Any, deps: Deps) -> None:
    response = await client.get("/queue/events", allow_redirects=False)

    assert response.status == 303
    assert response.headers["Location"].startswith("/login")


async def test_a_claim_on_another_server_reaches_this_servers_stream(
    client: Any, second_client: Any, deps: Deps
) -> None:
    await logged_in(client, deps)
    stream = await open_stream(client)
    case_id = add_case(deps)
    create_staff(deps, username="anna")
    assert (await log_in(second_client, username="anna")).status == 303
    page = await second_client.get("/queue")
    token = (await page.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    claimed = await second_client.post(
        f"/api/v1/cases/{case_id}/claim", headers={"X-CSRF-Token": token}
    )
    assert claimed.status == 200, await claimed.text()

    name, data = await next_event(stream)
    assert name == "queue"
    # Not acute: a change to refresh for, nothing to alert about.
    assert data == f'{{"changed":[{case_id}],"alerts":[]}}'
    stream.close()


async def test_a_new_acute_case_comes_with_an_alert(
    client: Any, deps: Deps, contact_inserter: RowInserter
) -> None:
    await logged_in(client, deps)
    stream = await open_stream(client)
    report = concern_form.validate(valid_answers(safety_violence="yes")).report
    assert report is not None
    assert report.is_acute
    stored = await service.record_concern(
        contact_inserter,
        report,
        hotline_id="national",
        language="da",
        now=deps.clock.now(),
        cipher=deps.cipher,
    )
    deps.queue.enqueue(take_in_contacts([stored.contact_id]))
    await run_jobs(deps)

    async with deps.sessions() as session:
        case = (await session.scalars(select(Case))).one()
    name, data = await next_event(stream)
    assert name == "queue"
    assert data == (
        f'{{"changed":[{case.id}],"alerts":[{{"id":{case.id},"reference":"{case.reference}"}}]}}'
    )
    stream.close()


async def test_the_stream_ends_with_the_login(
    client: Any, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_stream, "HEARTBEAT", 0.05)
    await logged_in(client, deps)
    stream = await open_stream(client)
    assert await next_line(stream) == ": keep-alive"
    page = await client.get("/queue")
    token = (await page.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    assert (await client.post("/logout", data={"csrf_token": token})).status == 200

    rest = await asyncio.wait_for(stream.content.read(), WAIT)
    assert b"event:" not in rest  # it just ends (after at most one more keep-alive)


async def test_the_rows_fragment_is_the_pages_live_region(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)
    national = add_case(deps, hotline="national")
    copenhagen = add_case(deps, hotline="copenhagen")

    response = await client.get("/queue/rows", params={"hotline": "copenhagen"})
    html = await response.text()

    assert response.status == 200
    # Its two parts, which queue.js swaps in by id, and nothing of the page around them.
    assert html.lstrip().startswith('<p id="queue-counts"')
    assert '<div id="queue-rows"' in html
    assert 'id="queue-live"' not in html
    assert "<html" not in html
    assert f'href="/cases/{copenhagen}"' in html
    assert f'href="/cases/{national}"' not in html
    assert 'value="/queue?hotline=copenhagen"' in html  # claim forms lead back here
