"""Shared fixtures: the backend (PostgreSQL + Redis, or embedded), settings, deps, app client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis import Redis
from sqlalchemy import create_engine, text, update

from bootstrap import Deps, build_deps
from clock import FrozenClock
from crypto import new_data_key
from db import RowInserter, sync_url
from intake.models import (
    BUSINESS_HOURS,
    DEFAULT_TRIAGE_MINUTES,
    DEFAULT_VISITATION_MINUTES,
    Hotline,
    contacts_table,
)
from migrations import runner
from server import create_app
from settings import Settings, load_settings
from tests.support import services
from tests.support.jobs import run_jobs
from worker import Sweeper

# Tables emptied between tests (hotlines are reference data from the migration and stay).
TABLES = (
    "alert_attempts",
    "alerts",
    "escalations",
    "oncall_overrides",
    "oncall_schedules",
    "child_welfare_notifications",
    "triage_records",
    "routings",
    "chats",
    "recordings",
    "calls",
    "link_proposals",
    "messages",
    "phone_opt_outs",
    "provider_status_events",
    "case_notes",
    "case_events",
    "deadlines",
    "contacts",
    "cases",
    "audit_entries",
    "staff_sessions",
    "staff_users",
    "partner_units",
)

SECRET_KEY = "test-secret-key-test-secret-key-test-secret"
DATA_KEY = new_data_key()


def pytest_report_header(config: pytest.Config) -> str:
    backend: services.Backend = config.stash[_BACKEND]
    return f"hotline backend: {backend.note}" + (" [CI]" if services.in_ci() else "")


_BACKEND = pytest.StashKey[services.Backend]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_BACKEND] = services.choose_backend()


def pytest_unconfigure(config: pytest.Config) -> None:
    backend = config.stash.get(_BACKEND, None)
    if backend is not None and backend.redis_url is not None:
        services.release_redis_db(backend.redis_url)


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> services.Backend:
    return pytestconfig.stash[_BACKEND]


@pytest.fixture(scope="session")
def database_url(
    backend: services.Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """This run's own database, migrated once with the real migrations."""
    if backend.database_url is None:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'hotline.db'}"
        runner.upgrade(url)
        yield url
        return
    services.create_database(backend.database_url)
    try:
        runner.upgrade(backend.database_url)
        yield backend.database_url
    finally:
        services.drop_database(backend.database_url)


@pytest.fixture
def clean_database(database_url: str) -> Iterator[None]:
    yield
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608  (fixed names)
        # The hotlines stay, but what tests may switch on them goes back to the seeded state.
        connection.execute(
            update(Hotline).values(
                duty_numbers=[],
                record_calls=False,
                triage_minutes=DEFAULT_TRIAGE_MINUTES,
                visitation_minutes=DEFAULT_VISITATION_MINUTES,
                deadline_clock_mode="calendar",
                business_hours={day: [list(s) for s in spans] for day, spans in BUSINESS_HOURS},
                closed_on_constitution_day=False,
                closed_on_christmas_eve=True,
                closed_on_new_years_eve=True,
                triage_policy=None,
                visitation_policy=None,
            )
        )
    engine.dispose()


@pytest.fixture
def redis_url(backend: services.Backend) -> Iterator[str | None]:
    if backend.redis_url is None:
        yield None
        return
    client = Redis.from_url(backend.redis_url)
    client.flushdb()
    yield backend.redis_url
    client.flushdb()
    client.close()


@pytest.fixture
def test_environ(database_url: str, redis_url: str | None, tmp_path: Path) -> dict[str, str]:
    """HOTLINE_* variables for this test's backend (also handed to real subprocesses)."""
    environ = {
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_SECRET_KEY": SECRET_KEY,
        "HOTLINE_DATA_KEY": DATA_KEY,
        "HOTLINE_COOKIE_SECURE": "false",
        "HOTLINE_LOG_LEVEL": "warning",
    }
    if redis_url:
        environ["HOTLINE_REDIS_URL"] = redis_url
    return environ


@pytest.fixture
def settings(test_environ: dict[str, str]) -> Settings:
    return load_settings(test_environ)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest_asyncio.fixture
async def deps(settings: Settings, clock: FrozenClock, clean_database: None) -> AsyncIterator[Deps]:
    built = build_deps(settings, clock=clock)
    yield built
    await built.aclose()


@pytest_asyncio.fixture
async def contact_inserter(deps: Deps) -> AsyncIterator[RowInserter]:
    """The intake's lean contact insert, closed after the test (it may own a driver pool)."""
    inserter = RowInserter(deps.engine, contacts_table)
    yield inserter
    await inserter.close()


@pytest_asyncio.fixture
async def client(deps: Deps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """An HTTP client for the app. Jobs do not run by themselves: `await run_jobs(deps)` does."""
    app = create_app(deps, in_process_worker=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


__all__ = ["Sweeper", "run_jobs"]
