"""Redis is only a transport: intake works without it, and the sweeper finds what it lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import fakeredis
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import delete, func, select

from bootstrap import Deps, build_deps
from clock import FrozenClock
from intake.models import Contact
from jobqueue import take_in_contacts
from server import create_app
from settings import Settings
from tests.support.forms import open_form, receipt_code, valid_answers
from tests.support.jobs import run_jobs
from tests.support.services import Backend
from tests.support.staff import logged_in
from triage.models import Case, CaseEvent, Deadline
from worker import SWEEP_LOCK_KEY, Sweeper

pytestmark = pytest.mark.asyncio


def unreachable_redis(backend: Backend) -> Redis:
    """A Redis client that cannot reach its server."""
    if backend.real:
        return Redis.from_url(
            "redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2
        )
    server = fakeredis.FakeServer()
    server.connected = False
    return fakeredis.FakeRedis(server=server)


@pytest_asyncio.fixture
async def redis_down_client(
    deps: Deps, settings: Settings, clock: FrozenClock, backend: Backend
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """The app on the same database as `deps`, but with Redis unreachable."""
    broken = build_deps(settings, clock=clock, redis=unreachable_redis(backend))
    with pytest.raises(RedisConnectionError):
        broken.redis.ping()
    app = create_app(broken, in_process_worker=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
        await broken.enqueuer.drain()
    await broken.aclose()


async def count(deps: Deps, model: type[Any]) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def queued_job_ids(deps: Deps) -> list[str]:
    return list(deps.queue.rq.get_job_ids())


async def submit_while_redis_is_down(redis_down_client: Any) -> str:
    token = await open_form(redis_down_client)
    response = await redis_down_client.post(
        "/report/national", data={"csrf_token": token, **valid_answers()}
    )
    assert response.status == 200
    return receipt_code(await response.text())


async def test_intake_without_redis_commits_and_the_sweeper_recovers(
    redis_down_client: Any, client: Any, deps: Deps, clock: FrozenClock
) -> None:
    health = await redis_down_client.get("/healthz")
    assert health.status == 200
    assert await health.json() == {"database": "ok", "queue": "unavailable"}
    code = await submit_while_redis_is_down(redis_down_client)
    assert code

    # Committed before the answer; no job ran, so no case.
    async with deps.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
    assert contact.processed_at is None
    assert contact.case_id is None
    assert await count(deps, Case) == 0
    assert queued_job_ids(deps) == []

    sweeper = Sweeper(deps.job_context())
    # Within the grace period the contact's own job may still arrive: the sweeper waits.
    assert deps.settings.sweep_grace_seconds == 30
    assert sweeper.sweep(take_turn=False) == 0
    clock.advance(timedelta(seconds=29))
    assert sweeper.sweep(take_turn=False) == 0
    assert queued_job_ids(deps) == []

    clock.advance(timedelta(seconds=2))
    assert sweeper.sweep(take_turn=False) == 1
    assert queued_job_ids(deps) == [take_in_contacts([contact.id]).job_id]

    await run_jobs(deps)
    async with deps.sessions() as session:
        case = (await session.scalars(select(Case))).one()
        contact = (await session.scalars(select(Contact))).one()
    assert contact.case_id == case.id
    assert contact.processed_at == clock.now()

    await logged_in(client, deps)
    body = await (await client.get("/api/v1/queue")).json()
    assert [item["id"] for item in body["items"]] == [case.id]

    # Nothing left for the sweeper.
    assert sweeper.sweep(take_turn=False) == 0


async def test_sweeping_and_running_twice_still_gives_one_case(
    redis_down_client: Any, deps: Deps, clock: FrozenClock
) -> None:
    await submit_while_redis_is_down(redis_down_client)
    clock.advance(timedelta(seconds=31))
    sweeper = Sweeper(deps.job_context())

    assert sweeper.sweep(take_turn=False) == 1
    assert sweeper.sweep(take_turn=False) == 1  # still unprocessed: enqueued again
    await run_jobs(deps)
    async with deps.sessions() as session:
        contact_id = await session.scalar(select(Contact.id))
    assert contact_id is not None
    deps.queue.enqueue(take_in_contacts([contact_id]))
    await run_jobs(deps)

    assert await count(deps, Case) == 1
    assert await count(deps, Deadline) == 1
    assert await count(deps, CaseEvent) == 2
    assert sweeper.sweep(take_turn=False) == 0


async def test_sweepers_take_turns_through_a_redis_lock(
    redis_down_client: Any, deps: Deps, clock: FrozenClock
) -> None:
    await submit_while_redis_is_down(redis_down_client)
    clock.advance(timedelta(seconds=31))
    first, second = Sweeper(deps.job_context()), Sweeper(deps.job_context())

    assert first.sweep(take_turn=True) == 1
    # The contact still waits, but another sweep this interval is someone else's turn.
    assert second.sweep(take_turn=True) == 0
    assert first.sweep(take_turn=True) == 0
    ttl_ms = deps.redis.pttl(SWEEP_LOCK_KEY)
    assert 0 < ttl_ms <= deps.settings.sweep_seconds * 1000
    # Once the turn is over (the lock expired), the next sweep runs.
    deps.redis.delete(SWEEP_LOCK_KEY)
    assert second.sweep(take_turn=True) == 1


async def test_a_job_for_a_missing_contact_finishes_quietly(deps: Deps) -> None:
    deps.queue.enqueue(take_in_contacts([987654]))
    await run_jobs(deps)  # raises if the job failed
    assert await count(deps, Case) == 0
    assert queued_job_ids(deps) == []


async def test_a_job_for_a_deleted_contact_finishes_quietly(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    response = await client.post("/report/national", data={"csrf_token": token, **valid_answers()})
    assert response.status == 200
    await deps.enqueuer.drain()
    assert len(queued_job_ids(deps)) == 1

    # Deleted (e.g. by a retention run) after its job was queued.
    with deps.job_context().transaction() as session:
        session.execute(delete(Contact))
    await run_jobs(deps)
    assert await count(deps, Case) == 0
    assert await count(deps, Contact) == 0
