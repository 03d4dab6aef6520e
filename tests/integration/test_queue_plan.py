"""The queue query is served by its partial index, also with many closed cases (PostgreSQL only).

Query plans are PostgreSQL's; SQLite plans say nothing about production, so this file alone
skips on the embedded fallback (in CI the backend is always real).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, text

from bootstrap import Deps
from intake.models import Channel, ReporterRole
from tests.support.services import Backend
from triage.models import Case, CaseStatus
from triage.queue import QueuePosition, open_cases

pytestmark = pytest.mark.asyncio

CLOSED = 20_000
OPEN = 2_000
ACUTE_EVERY = 40


@pytest.fixture(autouse=True)
def _postgresql_only(backend: Backend) -> None:
    if not backend.real:
        pytest.skip("query plans are PostgreSQL's; the embedded SQLite fallback has no such plan")


def seed(deps: Deps) -> None:
    """22,000 cases in one round of executemany: most closed, as in a database years old."""
    start = deps.clock.now() - timedelta(days=900)
    rows: list[dict[str, Any]] = []
    for number in range(CLOSED + OPEN):
        received = start + timedelta(minutes=53 * number)
        is_open = number >= CLOSED
        acute = is_open and number % ACUTE_EVERY == 0
        rows.append(
            {
                "reference": f"NAT-T-{number:06d}",
                "hotline_id": "national" if number % 2 else "copenhagen",
                "status": CaseStatus.NEW if is_open else CaseStatus.CLOSED,
                "received_at": received,
                "channel": Channel.WEB_FORM,
                "reporter_role": ReporterRole.RELATIVE,
                "opened_at": received,
                "closed_at": None if is_open else received + timedelta(days=3),
                "is_acute": acute,
                "queue_rank": 0 if acute else 1,
                # Deadlines not in id order, so the order comes from the index, not the heap.
                "queue_due_at": received + timedelta(hours=24 + (number * 7919) % 97),
            }
        )
    with deps.sync_engine.begin() as connection:
        connection.execute(insert(Case), rows)
    with deps.sync_engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE cases"))


@contextmanager
def captured_sql(deps: Deps) -> Iterator[list[tuple[str, Any]]]:
    """The statements the async engine sends, with their parameters, as the driver gets them."""
    statements: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        statements.append((statement, parameters))

    event.listen(deps.engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(deps.engine.sync_engine, "before_cursor_execute", capture)


async def plan_of(deps: Deps, statement: str, parameters: Any) -> str:
    async with deps.engine.connect() as connection:
        result = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(row[0]) for row in result)


def assert_served_by_the_queue_index(plan: str) -> None:
    assert "ix_cases_queue" in plan, plan
    assert "Seq Scan on cases" not in plan, plan


async def test_the_first_and_a_later_page_use_the_queue_index(deps: Deps) -> None:
    seed(deps)

    with captured_sql(deps) as statements:
        async with deps.sessions() as session:
            first = await open_cases(session, limit=50)
    assert len(first.rows) == 50
    assert first.next_cursor is not None
    assert [r.is_acute for r in first.rows[: OPEN // ACUTE_EVERY]] == [True] * (OPEN // ACUTE_EVERY)
    (first_sql, first_parameters), *_ = [s for s in statements if "FROM cases" in s[0]]
    plan = await plan_of(deps, first_sql, first_parameters)
    assert_served_by_the_queue_index(plan)
    # The index delivers the order of the first page: no sort of the open cases.
    assert "Sort" not in plan, plan

    # A page deeper in the queue.
    position = QueuePosition.decode(first.next_cursor)
    async with deps.sessions() as session:
        for _ in range(10):
            page = await open_cases(session, after=position, limit=50)
            assert page.next_cursor is not None
            position = QueuePosition.decode(page.next_cursor)
    with captured_sql(deps) as statements:
        async with deps.sessions() as session:
            later = await open_cases(session, after=position, limit=50)
    assert len(later.rows) == 50
    assert later.rows[0].case_id != first.rows[0].case_id
    (later_sql, later_parameters), *_ = [s for s in statements if "FROM cases" in s[0]]
    plan = await plan_of(deps, later_sql, later_parameters)
    assert_served_by_the_queue_index(plan)
    # The keyset condition is an index condition, not a filter over every open case.
    assert "Index Cond: (ROW(queue_rank, queue_due_at, id) >" in plan, plan
    # Page 500 must cost what page 1 costs: an index walk that stops at the limit, no sort.
    assert "Sort" not in plan, plan
