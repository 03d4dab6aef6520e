"""The queue's pages are index walks, with 10,000 open and 1,000,000 closed cases (PostgreSQL only).

Query plans are PostgreSQL's; SQLite plans say nothing about production, so this file alone
skips on the embedded fallback (in CI the backend is always real). The cases are seeded once
for the module with INSERT … SELECT generate_series and ANALYZEd; each test EXPLAINs the very
statements the queue sends (captured from the engine) and checks the plan: an index scan on one
of the queue's partial indexes, no sequential scan of cases, and no sort of the open cases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import create_engine, event, text

from bootstrap import Deps, build_deps
from clock import FrozenClock
from db import sync_url
from settings import Settings
from tests.conftest import TABLES
from tests.support.services import Backend
from triage.queue import QueuePosition, deadline_counts, decode_cursor, open_cases
from triage.queue_filters import MINE, UNASSIGNED, Due, QueueFilters

pytestmark = pytest.mark.asyncio

CLOSED = 1_000_000
OPEN = 10_000
ACUTE_EVERY = 40
# The `clock` fixture's time: deadlines are seeded around it.
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
WINDOW = timedelta(hours=4)

# Five hotline staff. Of the open cases: every 40th acute; a fifth at Copenhagen; three in ten
# assigned, spread over the five (so "mine" is 6 %); about a tenth overdue, a sixth due soon.
# Every closed case has an assignee, as in a database years old. Deadlines are not in id order,
# so the order comes from the index, not the heap. Foreign keys are checked once after the
# load (dropped and added back in the same transaction), not row by row: half the time.
SEED = (
    """
    INSERT INTO staff_users (username, display_name, password_hash, role, active, created_at,
                             failed_logins)
    SELECT 'plan-' || s, 'Plan ' || s, 'x', 'hotline', true, :now, 0
    FROM generate_series(1, 5) s
    """,
    """
    ALTER TABLE cases DROP CONSTRAINT fk_cases_hotline_id_hotlines,
                      DROP CONSTRAINT fk_cases_assignee_id_staff_users
    """,
    """
    INSERT INTO cases (reference, hotline_id, status, received_at, channel, reporter_role,
                       opened_at, closed_at, is_acute, queue_rank, queue_due_at,
                       queue_deadline_kind, assignee_id)
    SELECT 'PLN-' || lpad(n::text, 8, '0'),
           CASE WHEN n % 5 = 0 THEN 'copenhagen' ELSE 'national' END,
           CASE WHEN n <= :closed THEN 'closed' WHEN n % 2 = 0 THEN 'new' ELSE 'in_triage' END,
           due - interval '24 hours',
           (ARRAY['web_form', 'phone', 'sms', 'whatsapp', 'web_chat'])[n % 5 + 1],
           'relative',
           due - interval '24 hours',
           CASE WHEN n <= :closed THEN due END,
           n > :closed AND n % :acute_every = 0,
           CASE WHEN n > :closed AND n % :acute_every = 0 THEN 0 ELSE 1 END,
           due,
           'triage',
           CASE WHEN n <= :closed OR n % 10 < 3
                THEN (SELECT min(id) FROM staff_users) + (n / 10) % 5 END
    FROM (
        SELECT n,
               CASE WHEN n <= :closed
                    THEN CAST(:now AS timestamptz) - interval '1 minute' * (:closed - n + 2000)
                    ELSE CAST(:now AS timestamptz)
                         + interval '1 minute' * ((n % 1000) * 7919 % 1000 - 100) * 1.44
               END AS due
        FROM generate_series(1, :closed + :open) n
    ) numbered
    """,
    """
    ALTER TABLE cases
        ADD CONSTRAINT fk_cases_hotline_id_hotlines
            FOREIGN KEY (hotline_id) REFERENCES hotlines (id),
        ADD CONSTRAINT fk_cases_assignee_id_staff_users
            FOREIGN KEY (assignee_id) REFERENCES staff_users (id)
    """,
)


@pytest.fixture(scope="module")
def seeded(backend: Backend, database_url: str) -> Iterator[int]:
    """The module's cases, seeded once; yields the id of the staff member who asks ("mine")."""
    if not backend.real:
        pytest.skip("query plans are PostgreSQL's; the embedded SQLite fallback has no such plan")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            parameters = {"now": NOW, "closed": CLOSED, "open": OPEN, "acute_every": ACUTE_EVERY}
            for statement in SEED:
                connection.execute(text(statement), parameters)
            staff_id = int(connection.execute(text("SELECT min(id) FROM staff_users")).scalar_one())
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("ANALYZE cases")
            )
        yield staff_id
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        engine.dispose()


@pytest_asyncio.fixture
async def deps(seeded: int, settings: Settings) -> AsyncIterator[Deps]:
    """Like the shared `deps`, but leaving the module's cases in place between tests."""
    built = build_deps(settings, clock=FrozenClock(NOW))
    yield built
    await built.aclose()


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


def assert_an_index_walk(plan: str, index: str = "ix_cases_queue") -> None:
    """An index scan on the queue's (partial) index, stopped by the LIMIT: no full read of
    the cases, no sort of what it found."""
    assert f"Index Scan using {index}" in plan, plan
    assert "Seq Scan on cases" not in plan, plan
    assert "Bitmap Heap Scan on cases" not in plan, plan
    assert "Sort" not in plan, plan


async def page_plan(
    deps: Deps, staff_id: int, filters: QueueFilters, *, after: QueuePosition | None = None
) -> tuple[str, Any]:
    """Load one page as the queue does; returns its plan and the page."""
    with captured_sql(deps) as statements:
        async with deps.sessions() as session:
            page = await open_cases(
                session,
                filters=filters,
                viewer_id=staff_id,
                now=NOW,
                at_risk_window=WINDOW,
                after=after,
                limit=50,
            )
    (sql, parameters), *_ = [s for s in statements if "FROM cases" in s[0]]
    return await plan_of(deps, sql, parameters), page


async def test_the_first_and_a_later_page_use_the_queue_index(deps: Deps, seeded: int) -> None:
    plan, first = await page_plan(deps, seeded, QueueFilters())
    assert len(first.rows) == 50
    assert first.next_cursor is not None
    acute = OPEN // ACUTE_EVERY
    assert [r.is_acute for r in first.rows] == [True] * 50  # 250 acute cases come first
    assert_an_index_walk(plan, "ix_cases_queue on cases")

    # A page deeper in the queue, past the acute cases.
    position = QueuePosition.decode(first.next_cursor)
    async with deps.sessions() as session:
        for _ in range(acute // 50 + 5):
            page = await open_cases(session, after=position, limit=50)
            assert page.next_cursor is not None
            position = QueuePosition.decode(page.next_cursor)
    plan, later = await page_plan(deps, seeded, QueueFilters(), after=position)
    assert len(later.rows) == 50
    assert not any(r.is_acute for r in later.rows)
    assert_an_index_walk(plan, "ix_cases_queue on cases")
    # The keyset condition is an index condition, not a filter over every open case:
    # page 500 costs what page 1 costs.
    assert "Index Cond: (ROW(queue_rank, queue_due_at, id) >" in plan, plan


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (QueueFilters(assignee=MINE), "ix_cases_queue_assignee"),
        (QueueFilters(assignee=UNASSIGNED), "ix_cases_queue_unassigned"),
        (QueueFilters(due=Due.OVERDUE), "ix_cases_queue on cases"),
        (QueueFilters(due=Due.AT_RISK), "ix_cases_queue on cases"),
        (QueueFilters(hotline="copenhagen"), "ix_cases_queue_hotline"),
        # Most open cases are national: walking the queue index and skipping the others is
        # as good; either way an index walk.
        (QueueFilters(hotline="national"), "ix_cases_queue"),
        (QueueFilters(hotline="copenhagen", assignee=UNASSIGNED, due=Due.OVERDUE), "ix_cases_"),
    ],
    ids=["mine", "unassigned", "overdue", "at_risk", "copenhagen", "national", "combined"],
)
async def test_filtered_pages_walk_an_index(
    deps: Deps, seeded: int, filters: QueueFilters, index: str
) -> None:
    plan, first = await page_plan(deps, seeded, filters)
    assert len(first.rows) == 50, "the seed gives every filter more than a page"
    assert_an_index_walk(plan, index)

    assert first.next_cursor is not None
    after = decode_cursor(first.next_cursor, filters)
    plan, second = await page_plan(deps, seeded, filters, after=after)
    assert second.rows
    assert {r.case_id for r in second.rows}.isdisjoint(r.case_id for r in first.rows)
    assert_an_index_walk(plan, index)


async def test_the_deadline_counts_read_only_the_open_cases_index(deps: Deps, seeded: int) -> None:
    with captured_sql(deps) as statements:
        async with deps.sessions() as session:
            counts = await deadline_counts(session, now=NOW, at_risk_window=WINDOW)
    (sql, parameters), *_ = statements
    plan = await plan_of(deps, sql, parameters)

    assert counts.overdue > 0
    assert counts.at_risk > 0
    # The open cases' index (the running deadline's kind is read from the rows it finds).
    assert "Index Scan using ix_cases_queue on cases" in plan, plan
    assert "Seq Scan on cases" not in plan, plan
