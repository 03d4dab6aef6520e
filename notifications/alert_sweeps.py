"""The alert engine's sweeps: what the database says is due, whatever Redis has forgotten.

Each query reads one partial index: open deadlines not planned for their due time
(`ix_deadlines_unplanned`) and deadlines with a pending step due (`ix_escalations_pending_due`)
→ escalate_deadlines; open alerts whose next round is due (`ix_alerts_open_next_round`), or
whose deadline was met by code that did not stop them → start_alert_rounds (which stops them);
attempts whose retry is due, whose first try's job was lost, or whose try was interrupted
(`ix_alert_attempts_due`) → send_alert_attempts. The worker's Sweeper runs them with the
others (triage/sweeps.py) every HOTLINE_SWEEP_SECONDS: a step fires within that (and the job's
run) of its due time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import literal_column, select, text
from sqlalchemy.orm import Session

from jobqueue import escalate_deadlines, send_alert_attempts, start_alert_rounds
from notifications.alert_models import Alert, AlertAttempt, Escalation
from triage.models import UNPLANNED, Deadline
from triage.sweeps import SWEEP_BATCH, Sweep


def deadlines_to_escalate(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Deadlines to plan, and deadlines with a step due (each once)."""
    unplanned = session.scalars(
        # The index's own predicate, word for word, so the planner uses ix_deadlines_unplanned.
        select(Deadline.id).where(text(UNPLANNED)).order_by(Deadline.id).limit(SWEEP_BATCH)
    ).all()
    due = session.scalars(
        select(Escalation.deadline_id)
        .where(Escalation.status == literal_column("'pending'"), Escalation.due_at <= now)
        .order_by(Escalation.due_at)
        .limit(SWEEP_BATCH)
    ).all()
    return sorted(set(unplanned) | set(due))


def alerts_due(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Open alerts whose next round is due, and open alerts of met deadlines."""
    rounds = session.scalars(
        select(Alert.id)
        .where(Alert.status == literal_column("'open'"), Alert.next_round_at <= now)
        .order_by(Alert.next_round_at)
        .limit(SWEEP_BATCH)
    ).all()
    stale = session.scalars(
        select(Alert.id)
        .join(Deadline, Deadline.id == Alert.deadline_id)
        .where(Alert.status == literal_column("'open'"), Deadline.met_at.is_not(None))
        .limit(SWEEP_BATCH)
    ).all()
    return sorted(set(rounds) | set(stale))


def attempts_due(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Attempts waiting for a try whose time has come, or stuck in one that was interrupted."""
    return list(
        session.scalars(
            select(AlertAttempt.id)
            .where(
                AlertAttempt.status.in_([literal_column("'pending'"), literal_column("'sending'")]),
                AlertAttempt.next_try_at <= now,
            )
            .order_by(AlertAttempt.next_try_at)
            .limit(SWEEP_BATCH)
        ).all()
    )


SWEEPS = (
    Sweep("deadlines_to_escalate", deadlines_to_escalate, escalate_deadlines),
    Sweep("alerts_due", alerts_due, start_alert_rounds),
    Sweep("alert_attempts_due", attempts_due, send_alert_attempts),
)
