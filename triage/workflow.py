"""The one way a case changes status: checked against triage/states.py, put on the timeline,
its deadlines started, met or ended (`deadline_effects`).

`change_status` works in the caller's transaction and on a case row the
caller has loaded, preferably locked (`with_for_update=True`), so two staff members cannot move
the same case at once from the same status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from triage import deadlines, states
from triage.models import ActorKind, Case, CaseEvent, CaseStatus, CloseReason, DeadlineKind
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
    """Move the case object and return its timeline entry, unsaved; deadlines are the caller's
    (`deadline_effects`).

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


def deadline_effects(session: Session, case: Case, target: CaseStatus, *, now: datetime) -> None:
    """What a move does to the case's deadlines (triage/deadlines.py), the one table of it:
    justified starts the visitation clock (once per case), visited meets it, closed ends every
    deadline. Meeting the triage deadline belongs to the triage submission."""
    if target is CaseStatus.JUSTIFIED:
        deadlines.start_visitation(session, case)
    elif target is CaseStatus.VISITED:
        deadlines.meet(session, case, DeadlineKind.VISITATION, now=now)
    elif target is CaseStatus.CLOSED:
        deadlines.end_all(session, case, now=now)


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
    await session.run_sync(deadline_effects, case, target, now=now)
    note_case_changed(session, case.id)
    return event
