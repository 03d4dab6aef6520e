"""The status moves staff make by hand on the case page, outside triage and routing.

Two moves: closing a case that has nothing to triage as "no concern" (e.g. a silent missed
call), and reopening a closed case, back to triage, with a note saying why. Every other move
belongs to its own flow (triage records justified / not justified / advice only / police,
routing routes, a merge closes as merged). Whether the case's status allows the move is the
state machine's answer (triage/states.py, through workflow.change_status), refused as
states.IllegalTransition.

A reopened case gets a fresh triage deadline (the hotline's triage duration and clock mode, from
the reopening): its old one ended when it was closed, and the queue sorts by the nearest open
deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from triage import deadlines, notes, states, workflow
from triage.models import Case, CaseStatus, CloseReason

# The moves this form makes, by the state machine's action names.
ACTIONS = frozenset({"close", "reopen"})
CLOSE_REASONS = frozenset({CloseReason.NO_CONCERN})
TARGETS = frozenset({CaseStatus.CLOSED, CaseStatus.IN_TRIAGE})


class StatusRequestInvalid(ValueError):
    """A field of the request is missing or not one this form takes (`field`, `code`)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


class NotThisForm(Exception):
    """The state machine allows the move, but another flow owns it (e.g. starting triage)."""

    def __init__(self, action: str) -> None:
        super().__init__(
            f"this form only closes a case as no concern or reopens a closed case; "
            f"{action} belongs to the triage or routing flow"
        )
        self.action = action
        self.message = str(self)


@dataclass(frozen=True)
class StatusRequest:
    target: CaseStatus
    reason: CloseReason | None
    note: str | None


def parse(status: object, reason: object, note: object) -> StatusRequest:
    """Check the request's fields (not yet the case's status); StatusRequestInvalid if wrong."""
    try:
        target = CaseStatus(status) if isinstance(status, str) else None
    except ValueError:
        target = None
    if target not in TARGETS:
        raise StatusRequestInvalid(
            "status", "status", "must be closed (as no concern) or in_triage (to reopen)"
        )
    assert target is not None
    chosen: CloseReason | None = None
    if target is CaseStatus.CLOSED:
        if reason not in {r.value for r in CLOSE_REASONS}:
            raise StatusRequestInvalid(
                "reason",
                "reason",
                "closing here takes the reason no_concern; other outcomes are recorded by "
                "triage, and a merge closes a case as merged",
            )
        chosen = CloseReason(str(reason))
    elif reason not in (None, ""):
        raise StatusRequestInvalid("reason", "reason_not_taken", "only closing takes a reason")
    text: str | None = None
    if isinstance(note, str) and note.strip():
        try:
            text = notes.clean_body(note)
        except notes.NoteInvalid as exc:
            raise StatusRequestInvalid("note", "note_length", str(exc)) from None
    elif note is not None and not isinstance(note, str):
        raise StatusRequestInvalid("note", "note_length", "must be text")
    if target is CaseStatus.IN_TRIAGE and text is None:
        raise StatusRequestInvalid("note", "note_required", "say why the case is reopened")
    return StatusRequest(target, chosen, text)


async def change(
    session: AsyncSession,
    case_id: int,
    request: StatusRequest,
    *,
    staff_id: int,
    now: datetime,
) -> Case | None:
    """Make the move on the locked case; None if there is no such case.

    Raises states.IllegalTransition (the status does not allow it) or NotThisForm; nothing is
    written then.
    """
    case = await session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        return None
    allowed = states.check(case.status, request.target, request.reason)
    if allowed.action not in ACTIONS:
        raise NotThisForm(allowed.action)
    detail: dict[str, object] = {}
    if request.note is not None:
        note = notes.new_note(case.id, request.note, staff_id=staff_id, now=now)
        session.add(note)
        await session.flush()
        detail["note_id"] = note.id
    if request.target is CaseStatus.IN_TRIAGE:
        due_at = await _restart_triage_clock(session, case, now=now)
        detail["triage_due_at"] = due_at.isoformat()
    await workflow.change_status(
        session,
        case,
        request.target,
        actor=workflow.Actor.staff(staff_id),
        now=now,
        reason=request.reason,
        detail=detail,
    )
    return case


async def _restart_triage_clock(session: AsyncSession, case: Case, *, now: datetime) -> datetime:
    deadline = await session.run_sync(lambda sync: deadlines.start_triage(sync, case, start=now))
    return deadline.due_at
