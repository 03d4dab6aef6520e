"""The alert engine's sweep queries can be served by their partial indexes (PostgreSQL only).

Each sweep statement is captured as the engine sends it and EXPLAINed with sequential scans
switched off: the plan must use the index whose predicate the query implies. (A predicate the
planner cannot match would leave a sequential scan, whatever the setting.) SQLite plans say
nothing about production, so this file skips on the embedded fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from bootstrap import Deps
from notifications import alert_sweeps
from tests.support.services import Backend

pytestmark = pytest.mark.asyncio

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def postgresql(backend: Backend) -> None:
    if not backend.real:
        pytest.skip("query plans are PostgreSQL's (in CI the backend is always real)")


def _captured(deps: Deps, find: Any) -> list[tuple[str, Any]]:
    engine = deps.job_context().engine
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with deps.job_context().transaction() as session:
            find(session, now=NOW, grace=timedelta(seconds=30))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


def _plans(deps: Deps, statements: list[tuple[str, Any]]) -> Iterator[str]:
    with deps.job_context().transaction() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        connection = session.connection().connection.driver_connection
        assert connection is not None
        for statement, parameters in statements:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + statement, parameters)
                yield "\n".join(row[0] for row in cursor.fetchall())


# Per statement of a sweep, the indexes that may serve it (any partial index on open alerts
# serves "open alerts of met deadlines").
OPEN_ALERTS = ("ix_alerts_open_next_round", "uq_alerts_open_code")


@pytest.mark.parametrize(
    ("sweep", "indexes"),
    [
        (
            alert_sweeps.deadlines_to_escalate,
            [("ix_deadlines_unplanned",), ("ix_escalations_pending_due",)],
        ),
        (alert_sweeps.alerts_due, [("ix_alerts_open_next_round",), OPEN_ALERTS]),
        (alert_sweeps.attempts_due, [("ix_alert_attempts_due",)]),
    ],
)
async def test_each_sweep_query_reads_its_partial_index(
    postgresql: None, deps: Deps, sweep: Any, indexes: list[tuple[str, ...]]
) -> None:
    statements = _captured(deps, sweep)
    plans = list(_plans(deps, statements))
    assert len(plans) == len(indexes)
    for plan, allowed in zip(plans, indexes, strict=True):
        assert any(index in plan for index in allowed), plan
