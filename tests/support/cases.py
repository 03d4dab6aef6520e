"""Cases straight into the database, for tests about the queue rather than about intake."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from bootstrap import Deps
from intake.models import Channel, ReporterRole
from triage.models import Case, CaseStatus, ClockMode, Deadline, DeadlineKind

_numbers = count(1)


def add_case(
    deps: Deps,
    *,
    hotline: str = "national",
    channel: Channel = Channel.WEB_FORM,
    status: CaseStatus = CaseStatus.NEW,
    acute: bool = False,
    due_in: timedelta = timedelta(hours=20),
    received_ago: timedelta = timedelta(hours=4),
    assignee_id: int | None = None,
    closed: bool = False,
    reference: str | None = None,
) -> int:
    """One case with a triage deadline due `due_in` from the clock's now (negative: overdue),
    met if the case is closed; returns its id."""
    now = deps.clock.now()
    with deps.job_context().transaction() as session:
        case = Case(
            reference=reference or f"TST-2026-{next(_numbers):05d}",
            hotline_id=hotline,
            status=CaseStatus.CLOSED if closed else status,
            received_at=now - received_ago,
            channel=channel,
            reporter_role=ReporterRole.RELATIVE,
            opened_at=now - received_ago,
            closed_at=now if closed else None,
            is_acute=acute,
            queue_rank=0 if acute else 1,
            queue_due_at=now + due_in,
            queue_deadline_kind=DeadlineKind.TRIAGE,
            assignee_id=assignee_id,
        )
        session.add(case)
        session.flush()
        session.add(
            Deadline(
                case_id=case.id,
                kind=DeadlineKind.TRIAGE,
                clock_mode=ClockMode.CALENDAR,
                started_at=now - received_ago,
                due_at=now + due_in,
                met_at=now if closed else None,
            )
        )
        return case.id
