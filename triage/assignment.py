"""Who handles a case: claim it (only if nobody does), assign it to a colleague, or let it go.

Only open cases. Every change writes an `assigned`/`unassigned` entry on the case's timeline
(actor, time, the assignee's staff id) and notes the case for the live queue. Claiming is one
conditional UPDATE, so of two people claiming at once exactly one wins and the other is told who.
Callers own the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import Role, StaffUser
from triage.models import ActorKind, Case, CaseEvent
from triage.queue_events import note_case_changed
from triage.queue_filters import MAX_STAFF_ID


class AssignmentRefused(Exception):
    """The change cannot be made; `code` says why (views word it)."""

    code = "refused"


class CaseNotFound(AssignmentRefused):
    code = "not_found"


class CaseClosed(AssignmentRefused):
    code = "closed"


class HeldByOther(AssignmentRefused):
    """Someone else already handles the case."""

    code = "held"

    def __init__(self, staff_id: int, name: str) -> None:
        super().__init__(f"held by staff {staff_id}")
        self.staff_id = staff_id
        self.name = name


class ChangedMeanwhile(AssignmentRefused):
    """The case kept changing hands while this change was tried; try again."""

    code = "changed"


class NotAnAssignee(AssignmentRefused):
    """The chosen person is not an active member of the hotline staff."""

    code = "not_an_assignee"


@dataclass(frozen=True)
class Assignee:
    id: int
    name: str


async def eligible_assignees(session: AsyncSession) -> list[Assignee]:
    """Who a case may be given to: active hotline staff, by name."""
    found = await session.execute(
        select(StaffUser.id, StaffUser.display_name)
        .where(StaffUser.active.is_(True), StaffUser.role == Role.HOTLINE)
        .order_by(StaffUser.display_name, StaffUser.id)
    )
    return [Assignee(staff_id, name) for staff_id, name in found]


def _event(case_id: int, kind: str, actor_id: int, now: datetime, assignee_id: int) -> CaseEvent:
    return CaseEvent(
        case_id=case_id,
        at=now,
        actor_kind=ActorKind.STAFF,
        actor_id=actor_id,
        kind=kind,
        detail={"assignee_id": assignee_id},
    )


async def claim(session: AsyncSession, case_id: int, *, staff_id: int, now: datetime) -> bool:
    """Take an unassigned open case. True if it became this person's now; False if it was
    already theirs. Raises HeldByOther naming who has it, CaseClosed or CaseNotFound."""
    # Twice at most: between a refused UPDATE and the read after it, the holder may let go.
    for _ in range(2):
        claimed = await session.scalar(
            update(Case)
            .where(Case.id == case_id, Case.closed_at.is_(None), Case.assignee_id.is_(None))
            .values(assignee_id=staff_id)
            .returning(Case.id)
            .execution_options(synchronize_session=False)
        )
        if claimed is not None:
            session.add(_event(case_id, "assigned", staff_id, now, staff_id))
            note_case_changed(session, case_id)
            return True
        # Read after the UPDATE: it waited for any transaction claiming the same row, so the
        # winner's name is visible here.
        current = (
            await session.execute(
                select(Case.closed_at, Case.assignee_id, StaffUser.display_name)
                .outerjoin(StaffUser, StaffUser.id == Case.assignee_id)
                .where(Case.id == case_id)
            )
        ).one_or_none()
        if current is None:
            raise CaseNotFound(str(case_id))
        closed_at, holder_id, holder_name = current
        if closed_at is not None:
            raise CaseClosed(str(case_id))
        if holder_id == staff_id:
            return False
        if holder_id is not None:
            raise HeldByOther(holder_id, holder_name or "")
    raise ChangedMeanwhile(str(case_id))


async def _open_case(session: AsyncSession, case_id: int) -> Case:
    case = await session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise CaseNotFound(str(case_id))
    if case.closed_at is not None:
        raise CaseClosed(str(case_id))
    return case


async def assign(
    session: AsyncSession, case_id: int, *, assignee_id: int, staff_id: int, now: datetime
) -> bool:
    """Give an open case to an active hotline colleague (or oneself), whoever had it before.
    True if that changed anything. Raises NotAnAssignee, CaseClosed or CaseNotFound."""
    if not 1 <= assignee_id <= MAX_STAFF_ID:
        raise NotAnAssignee(str(assignee_id))
    eligible = await session.scalar(
        select(StaffUser.id).where(
            StaffUser.id == assignee_id,
            StaffUser.active.is_(True),
            StaffUser.role == Role.HOTLINE,
        )
    )
    if eligible is None:
        raise NotAnAssignee(str(assignee_id))
    case = await _open_case(session, case_id)
    if case.assignee_id == assignee_id:
        return False
    case.assignee_id = assignee_id
    session.add(_event(case_id, "assigned", staff_id, now, assignee_id))
    note_case_changed(session, case_id)
    return True


async def unassign(session: AsyncSession, case_id: int, *, staff_id: int, now: datetime) -> bool:
    """Nobody handles the open case any more. True if somebody did."""
    case = await _open_case(session, case_id)
    previous = case.assignee_id
    if previous is None:
        return False
    case.assignee_id = None
    session.add(_event(case_id, "unassigned", staff_id, now, previous))
    note_case_changed(session, case_id)
    return True
