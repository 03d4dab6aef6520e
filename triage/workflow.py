"""The one way a case changes status: checked against triage/states.py, put on the timeline.

`change_status` works in the caller's transaction (sync or async session) and on a case row the
caller has loaded, preferably locked (`with_for_update=True`), so two staff members cannot move
the same case at once from the same status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from notifications.alert_stop import stop_for_met_deadlines, stop_for_met_deadlines_sync
from triage import states
from triage.models import ActorKind, Case, CaseEvent, CaseStatus, CloseReason, Deadline
from triage.queue_events import note_case_changed


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    staff_id: int | None = None

    @classmethod
    def staff(cls, staff_id: int) -> Actor:
        return cls(ActorKind.STAFF, staff_id)


SYSTEM = Actor(ActorKind.SYSTEM)


def transition(
    case: Case,
    target: CaseStatus,
    *,
    actor: Actor,
    now: datetime,
    reason: CloseReason | None,
    detail: dict[str, Any] | None,
) -> CaseEvent:
    """Move the case object and return its timeline entry, unsaved; deadlines are the caller's.

    Use `change_status`, which also saves; this is for code that orders its own entries (demo).
    """
    allowed = states.check(case.status, target, reason)
    source = case.status
    case.status = target
    if target is CaseStatus.CLOSED:
        case.closed_at = now
        case.closed_reason = reason
    elif source is CaseStatus.CLOSED:
        case.closed_at = None
        case.closed_reason = None
    event_detail: dict[str, Any] = {
        "from": source.value,
        "to": target.value,
        "action": allowed.action,
    }
    if reason is not None:
        event_detail["reason"] = reason.value
    event_detail.update(detail or {})
    return CaseEvent(
        case_id=case.id,
        at=now,
        actor_kind=actor.kind,
        actor_id=actor.staff_id,
        kind="status_changed",
        detail=event_detail,
    )


def _end_deadlines(case_id: int, now: datetime) -> Any:
    # A closed case has nothing left to be late for (and its escalation stops with them).
    return (
        update(Deadline)
        .where(Deadline.case_id == case_id, Deadline.met_at.is_(None))
        .values(met_at=now)
    )


async def change_status(
    session: AsyncSession,
    case: Case,
    target: CaseStatus,
    *,
    actor: Actor,
    now: datetime,
    reason: CloseReason | None = None,
    detail: dict[str, Any] | None = None,
) -> CaseEvent:
    """Move `case` to `target` or raise states.IllegalTransition; nothing is written on refusal."""
    event = transition(case, target, actor=actor, now=now, reason=reason, detail=detail)
    session.add(event)
    if target is CaseStatus.CLOSED:
        await session.execute(_end_deadlines(case.id, now))
        await stop_for_met_deadlines(session, case.id, now)
    note_case_changed(session, case.id)
    return event


def change_status_sync(
    session: Session,
    case: Case,
    target: CaseStatus,
    *,
    actor: Actor,
    now: datetime,
    reason: CloseReason | None = None,
    detail: dict[str, Any] | None = None,
) -> CaseEvent:
    """`change_status` for the worker's synchronous jobs (and the demo)."""
    event = transition(case, target, actor=actor, now=now, reason=reason, detail=detail)
    session.add(event)
    if target is CaseStatus.CLOSED:
        session.execute(_end_deadlines(case.id, now))
        stop_for_met_deadlines_sync(session, case.id, now)
    note_case_changed(session, case.id)
    return event
