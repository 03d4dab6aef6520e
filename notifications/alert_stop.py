"""Meeting a deadline stops its escalation at once: in the same transaction as the meeting.

Code that meets deadlines (triage/deadlines.py `meet` and `end_all`: triage submitted, the
visitation recorded, a case closed) calls `stop_for_met_deadlines_sync` after setting `met_at`,
in its own transaction: every still pending
step of a met deadline of the case is stopped, every open alert about one is stopped and its
attempts not yet tried are cancelled. The alert jobs check the same again under their locks
before they fire, repeat or send, so a caller that forgets this call delays only what the pages
show, never causes a send. Lock order as everywhere in the engine: deadline, alerts, attempts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from notifications.alert_models import (
    Alert,
    AlertAttempt,
    AlertStatus,
    AttemptStatus,
    Escalation,
    EscalationStatus,
    StopReason,
)
from triage.models import Case, Deadline


def _met_deadlines(case_id: int) -> Select[int]:
    # A closed case has ended all its deadlines (workflow); the case check is only a guard.
    return (
        select(Deadline.id)
        .join(Case, Case.id == Deadline.case_id)
        .where(
            Deadline.case_id == case_id,
            or_(Deadline.met_at.is_not(None), Case.closed_at.is_not(None)),
        )
    )


def _stop_steps(deadline_ids: list[int], now: datetime) -> Any:
    return (
        update(Escalation)
        .where(
            Escalation.deadline_id.in_(deadline_ids),
            Escalation.status == EscalationStatus.PENDING,
        )
        .values(status=EscalationStatus.STOPPED, stopped_at=now, stop_reason=StopReason.MET)
    )


def _open_alerts(deadline_ids: list[int]) -> Select[int]:
    return (
        select(Alert.id)
        .where(Alert.deadline_id.in_(deadline_ids), Alert.status == AlertStatus.OPEN)
        .order_by(Alert.id)
        .with_for_update()
    )


def cancel_untried(alert_ids: int | list[int], now: datetime) -> Any:
    """Cancel the attempts of these alerts that no try has started yet."""
    ids = [alert_ids] if isinstance(alert_ids, int) else alert_ids
    return (
        update(AlertAttempt)
        .where(AlertAttempt.alert_id.in_(ids), AlertAttempt.status == AttemptStatus.PENDING)
        .values(status=AttemptStatus.CANCELLED, next_try_at=None, finished_at=now)
    )


def stop_alerts(alert_ids: list[int], now: datetime, reason: StopReason) -> list[Any]:
    """Stop these open alerts (locked by the caller) and cancel their untried attempts."""
    return [
        update(Alert)
        .where(Alert.id.in_(alert_ids), Alert.status == AlertStatus.OPEN)
        .values(status=AlertStatus.STOPPED, stopped_at=now, stop_reason=reason, next_round_at=None),
        cancel_untried(alert_ids, now),
    ]


_NO_SYNC = {"synchronize_session": False}


def stop_deadlines_sync(session: Session, deadline_ids: list[int], now: datetime) -> None:
    """Stop the escalation of these met deadlines (the caller holds their rows)."""
    if not deadline_ids:
        return
    session.execute(_stop_steps(deadline_ids, now), execution_options=_NO_SYNC)
    alert_ids = list(session.scalars(_open_alerts(deadline_ids)))
    if alert_ids:
        for statement in stop_alerts(alert_ids, now, StopReason.MET):
            session.execute(statement, execution_options=_NO_SYNC)


def stop_for_met_deadlines_sync(session: Session, case_id: int, now: datetime) -> None:
    stop_deadlines_sync(session, list(session.scalars(_met_deadlines(case_id))), now)
