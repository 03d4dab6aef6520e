"""A case's deadlines: started from the hotline's configuration, met, and the queue kept in step.

Every function works in the caller's transaction on a sync `Session`; async callers run them
with `AsyncSession.run_sync` (the same transaction and identity map).

- `start_triage` — at intake (from receipt) and when a closed case is reopened (from then): the
  hotline's triage duration, in its clock mode, stored with the row.
- `start_visitation` — when a case becomes justified (`workflow` calls it on every move into
  justified): 48 hours (the hotline's visitation duration) from the case's receipt, whatever its
  severity. One per case: a case justified again after being returned or sent back to triage
  keeps the deadline it had.
- `meet` — the triage deadline at submission, the visitation deadline when the partner unit
  records the visitation; `end_all` — a closed case has nothing left to be late for.
- `refresh_queue_deadline` — after any of these, the case's queue position: its nearest unmet
  deadline (due time and kind), or once every one is met the last due time and no kind.

The clock mode and due time are stored on each row, so a later configuration change never moves
a deadline already running.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.models import Hotline
from notifications.alert_stop import stop_for_met_deadlines_sync
from triage.deadline_config import DeadlineConfig, deadline_config
from triage.models import Case, Deadline, DeadlineKind
from triage.queue_events import note_case_changed


def config_for(session: Session, case: Case) -> DeadlineConfig:
    return deadline_config(session.get_one(Hotline, case.hotline_id))


def start_triage(
    session: Session, case: Case, *, start: datetime, config: DeadlineConfig | None = None
) -> Deadline:
    """The case's triage deadline from `start`: a new row, or its existing one restarted."""
    rule = (config or config_for(session, case)).triage
    deadline = _deadline(session, case.id, DeadlineKind.TRIAGE)
    if deadline is None:
        deadline = Deadline(case_id=case.id, kind=DeadlineKind.TRIAGE)
        session.add(deadline)
    deadline.clock_mode = rule.mode
    deadline.started_at = start
    deadline.due_at = rule.due_at(start)
    deadline.met_at = None
    refresh_queue_deadline(session, case)
    return deadline


def start_visitation(session: Session, case: Case) -> Deadline:
    """The case's visitation deadline: from receipt, created the first time the case becomes
    justified; kept as it is (met or not) every time after."""
    existing = _deadline(session, case.id, DeadlineKind.VISITATION)
    if existing is not None:
        return existing
    rule = config_for(session, case).visitation
    deadline = Deadline(
        case_id=case.id,
        kind=DeadlineKind.VISITATION,
        clock_mode=rule.mode,
        started_at=case.received_at,
        due_at=rule.due_at(case.received_at),
    )
    session.add(deadline)
    refresh_queue_deadline(session, case)
    return deadline


def meet(session: Session, case: Case, kind: DeadlineKind, *, now: datetime) -> bool:
    """Mark the case's deadline of `kind` met now; False if it had none running."""
    result = session.execute(
        update(Deadline)
        .where(Deadline.case_id == case.id, Deadline.kind == kind, Deadline.met_at.is_(None))
        .values(met_at=now)
        .execution_options(synchronize_session="fetch")
    )
    # Met: its escalation stops in this same transaction (no step, repeat or send after it).
    stop_for_met_deadlines_sync(session, case.id, now)
    refresh_queue_deadline(session, case)
    return bool(getattr(result, "rowcount", 0))


def end_all(session: Session, case: Case, *, now: datetime) -> None:
    """End every deadline still running (the case is closed)."""
    session.execute(
        update(Deadline)
        .where(Deadline.case_id == case.id, Deadline.met_at.is_(None))
        .values(met_at=now)
        .execution_options(synchronize_session="fetch")
    )
    stop_for_met_deadlines_sync(session, case.id, now)
    refresh_queue_deadline(session, case)


def refresh_queue_deadline(session: Session, case: Case) -> None:
    """Put the case in the queue by its nearest unmet deadline (due time and kind). Once none
    is running: by the last due time, and on an open case no kind, so it counts neither as due
    soon nor as overdue. A closed case keeps the last one's kind: NULL marks only the rare open
    case with nothing running, which keeps the planner's estimates for "open and running" right
    (the two would otherwise look independent, each 1 % of a table of mostly closed cases).
    A case without deadlines keeps its position."""
    rows = session.execute(
        select(Deadline.kind, Deadline.due_at, Deadline.met_at)
        .where(Deadline.case_id == case.id)
        .order_by(Deadline.due_at, Deadline.id)
    ).all()
    if not rows:
        return
    running = [row for row in rows if row.met_at is None]
    if running:
        case.queue_due_at = running[0].due_at
        case.queue_deadline_kind = running[0].kind
    else:
        case.queue_due_at = rows[-1].due_at
        case.queue_deadline_kind = rows[-1].kind if case.closed_at is not None else None
    note_case_changed(session, case.id)


def _deadline(session: Session, case_id: int, kind: DeadlineKind) -> Deadline | None:
    return session.scalar(
        select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == kind)
    )
