"""Structured triage of a case: save a draft, submit it, and track child welfare notifications.

Each use case works in the caller's transaction and locks the case row first, so two staff
members saving or submitting the same case take turns. A save names the revision it was based
on; a stale one is refused (`StaleRevision`) and nothing is written. A submission moves the case
through `triage.workflow.change_status` (the state machine refuses a case that is not new or in
triage), and in the same transaction records the triage, sets the case's municipalities and
acuteness for routing, meets the triage deadline and opens a child welfare notification when the
form's under-18 rule applies. Timeline entries and logs carry ids and kinds, never answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import StaffUser
from intake.concern_form import REQUIRED, TOO_LONG, FieldProblem
from notifications.alert_stop import stop_for_met_deadlines
from triage import triage_form, workflow
from triage.intake_flow import QUEUE_RANK_ACUTE
from triage.models import (
    ActorKind,
    Case,
    CaseEvent,
    CaseStatus,
    ChildWelfareNotification,
    CloseReason,
    Deadline,
    DeadlineKind,
    NotificationStatus,
    TriageOutcome,
    TriageRecord,
    TriageStatus,
)
from triage.states import IllegalTransition

log = structlog.get_logger(__name__)

TRIAGEABLE = frozenset({CaseStatus.NEW, CaseStatus.IN_TRIAGE})
MAX_SENT_HOW = 200

# Where each outcome takes the case.
TARGETS: dict[TriageOutcome, tuple[CaseStatus, CloseReason | None]] = {
    TriageOutcome.JUSTIFIED: (CaseStatus.JUSTIFIED, None),
    TriageOutcome.NOT_JUSTIFIED: (CaseStatus.CLOSED, CloseReason.NOT_JUSTIFIED),
    TriageOutcome.ADVICE_ONLY: (CaseStatus.CLOSED, CloseReason.ADVICE_ONLY),
    TriageOutcome.POLICE: (CaseStatus.CLOSED, CloseReason.POLICE),
}


class CaseNotFound(LookupError):
    pass


class NotificationNotFound(LookupError):
    pass


class StaleRevision(Exception):
    """The form was saved or submitted by someone else since this revision was loaded."""

    message = "someone else saved this form since; reload"


class FormVersionChanged(Exception):
    """The answers were filled in on another version of the form than the draft's."""

    message = "the triage form has changed since this page was loaded; reload"


class AlreadySent(Exception):
    message = "this notification is already marked as sent"


class TriageInvalid(Exception):
    """The answers have problems; nothing was stored."""

    def __init__(self, errors: dict[str, FieldProblem]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


class NotInTriage(IllegalTransition):
    """Only new cases and cases in triage take a triage (reopen a closed case first)."""


@dataclass
class TriageState:
    """A case's triage: its draft, its submitted history (newest first), its notifications."""

    case: Case
    draft: TriageRecord | None
    history: list[TriageRecord]
    notifications: list[ChildWelfareNotification]
    staff_names: dict[int, str] = field(default_factory=dict)

    @property
    def latest(self) -> TriageRecord | None:
        return self.history[0] if self.history else None

    @property
    def revision(self) -> int:
        """What a save must name: the draft's revision, or 0 when there is no draft."""
        return self.draft.revision if self.draft else 0

    @property
    def form_version(self) -> int:
        return self.draft.form_version if self.draft else triage_form.CURRENT_VERSION

    @property
    def triageable(self) -> bool:
        return self.case.status in TRIAGEABLE

    @property
    def open_notifications(self) -> list[ChildWelfareNotification]:
        return [n for n in self.notifications if n.status is NotificationStatus.OPEN]


@dataclass(frozen=True)
class Submitted:
    case: Case
    record: TriageRecord
    findings: triage_form.Findings
    notification: ChildWelfareNotification | None


async def load_state(session: AsyncSession, case_id: int) -> TriageState | None:
    """The case's triage records and notifications; None if there is no such case."""
    case = await session.get(Case, case_id)
    if case is None:
        return None
    return await _state_of(session, case)


async def _state_of(session: AsyncSession, case: Case) -> TriageState:
    records = list(
        await session.scalars(
            select(TriageRecord)
            .where(TriageRecord.case_id == case.id)
            .order_by(TriageRecord.revision.desc(), TriageRecord.id.desc())
        )
    )
    notifications = list(
        await session.scalars(
            select(ChildWelfareNotification)
            .where(ChildWelfareNotification.case_id == case.id)
            .order_by(ChildWelfareNotification.id)
        )
    )
    staff_ids = {
        staff_id
        for r in records
        for staff_id in (r.created_by, r.updated_by, r.submitted_by)
        if staff_id is not None
    } | {n.sent_by for n in notifications if n.sent_by is not None}
    names: dict[int, str] = {}
    if staff_ids:
        names = dict(
            (
                await session.execute(
                    select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(staff_ids))
                )
            ).all()
        )
    return TriageState(
        case=case,
        draft=next((r for r in records if r.status is TriageStatus.DRAFT), None),
        history=[r for r in records if r.status is TriageStatus.SUBMITTED],
        notifications=notifications,
        staff_names=names,
    )


async def _locked_case(session: AsyncSession, case_id: int) -> Case:
    case = await session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise CaseNotFound(case_id)
    return case


def _refuse_unless_triageable(case: Case, target: CaseStatus) -> None:
    if case.status not in TRIAGEABLE:
        raise NotInTriage(
            case.status,
            target,
            f"a case that is {case.status.value} is not in triage (only new or in_triage cases "
            "are; reopen a closed case first)",
        )


async def _draft_for_update(
    session: AsyncSession, case_id: int, revision: int
) -> TriageRecord | None:
    """The case's draft, if `revision` is still the latest; StaleRevision otherwise."""
    draft = await session.scalar(
        select(TriageRecord)
        .where(TriageRecord.case_id == case_id, TriageRecord.status == TriageStatus.DRAFT)
        .with_for_update()
    )
    current = draft.revision if draft is not None else 0
    if revision != current:
        raise StaleRevision
    return draft


async def _next_revision(session: AsyncSession, case_id: int) -> int:
    latest = await session.scalar(
        select(func.max(TriageRecord.revision)).where(TriageRecord.case_id == case_id)
    )
    return int(latest or 0) + 1


def _check_version(draft: TriageRecord | None, form_version: int | None) -> int:
    version = draft.form_version if draft is not None else triage_form.CURRENT_VERSION
    if form_version is not None and form_version != version:
        raise FormVersionChanged
    return version


async def _start_triage(
    session: AsyncSession, case: Case, actor: workflow.Actor, now: datetime
) -> None:
    if case.status is CaseStatus.NEW:
        await workflow.change_status(session, case, CaseStatus.IN_TRIAGE, actor=actor, now=now)


async def save_draft(
    session: AsyncSession,
    case_id: int,
    answers: dict[str, Any],
    *,
    revision: int,
    staff_id: int,
    now: datetime,
    form_version: int | None = None,
) -> TriageRecord:
    """Store the answers as the case's draft (replacing the draft's answers).

    `revision` is the draft revision the answers are based on (0: there was no draft). The first
    save moves a new case into triage.
    """
    case = await _locked_case(session, case_id)
    _refuse_unless_triageable(case, CaseStatus.IN_TRIAGE)
    draft = await _draft_for_update(session, case_id, revision)
    version = _check_version(draft, form_version)
    checked = triage_form.validate(version, answers, submit=False, now=now)
    if not checked.ok:
        raise TriageInvalid(checked.errors)
    actor = workflow.Actor.staff(staff_id)
    await _start_triage(session, case, actor, now)
    if draft is None:
        draft = TriageRecord(
            case_id=case_id,
            form_version=version,
            status=TriageStatus.DRAFT,
            answers=checked.answers,
            revision=await _next_revision(session, case_id),
            created_by=staff_id,
            created_at=now,
            updated_by=staff_id,
            updated_at=now,
        )
        session.add(draft)
        session.add(_event(case_id, "triage_saved", staff_id, now, form_version=version))
    else:
        draft.answers = checked.answers
        draft.revision += 1
        draft.updated_by = staff_id
        draft.updated_at = now
    await session.flush()
    log.info("triage_draft_saved", case_id=case_id, record_id=draft.id, revision=draft.revision)
    return draft


async def submit(
    session: AsyncSession,
    case_id: int,
    answers: dict[str, Any] | None,
    *,
    revision: int,
    staff_id: int,
    now: datetime,
    form_version: int | None = None,
) -> Submitted:
    """Validate fully and submit: the triage is recorded and the case moves on its outcome.

    `answers` None submits the stored draft as it is. Raises TriageInvalid, StaleRevision or
    IllegalTransition (NotInTriage) with nothing written.
    """
    case = await _locked_case(session, case_id)
    _refuse_unless_triageable(case, CaseStatus.IN_TRIAGE)
    draft = await _draft_for_update(session, case_id, revision)
    version = _check_version(draft, form_version)
    given = answers if answers is not None else (draft.answers if draft is not None else {})
    checked = triage_form.validate(version, given, submit=True, now=now)
    if not checked.ok:
        raise TriageInvalid(checked.errors)
    found = triage_form.findings(version, checked.answers)
    assert found.outcome is not None  # a required field of every version
    target, reason = TARGETS[found.outcome]
    actor = workflow.Actor.staff(staff_id)
    await _start_triage(session, case, actor, now)

    if draft is not None:
        record = draft
        record.revision += 1
    else:
        record = TriageRecord(
            case_id=case_id,
            form_version=version,
            created_by=staff_id,
            created_at=now,
            revision=await _next_revision(session, case_id),
        )
        session.add(record)
    record.status = TriageStatus.SUBMITTED
    record.answers = checked.answers
    record.outcome = found.outcome
    record.updated_by = record.submitted_by = staff_id
    record.updated_at = record.submitted_at = now
    await session.flush()

    case.subject_municipality = found.subject_municipality
    case.reporter_municipality = found.reporter_municipality
    if found.acute:
        case.is_acute = True
        case.queue_rank = QUEUE_RANK_ACUTE
    await session.execute(
        update(Deadline)
        .where(
            Deadline.case_id == case_id,
            Deadline.kind == DeadlineKind.TRIAGE,
            Deadline.met_at.is_(None),
        )
        .values(met_at=now)
    )
    # Met: its escalation stops in this same transaction (no step, repeat or send after it).
    await stop_for_met_deadlines(session, case_id, now)
    notification = await _child_notification(
        session, record, found=found, staff_id=staff_id, now=now
    )
    if found.police_contact is not None:
        session.add(
            _event(
                case_id,
                "police_contact_recorded",
                staff_id,
                now,
                how=found.police_contact.how,
                at=found.police_contact.at.isoformat(),
            )
        )
    session.add(
        _event(
            case_id,
            "triage_submitted",
            staff_id,
            now,
            form_version=version,
            outcome=found.outcome.value,
            acute=found.acute,
            child_notification=notification is not None,
        )
    )
    await workflow.change_status(session, case, target, actor=actor, now=now, reason=reason)
    await session.flush()
    log.info(
        "triage_submitted",
        case_id=case_id,
        record_id=record.id,
        outcome=found.outcome.value,
        acute=found.acute,
    )
    return Submitted(case, record, found, notification)


async def _child_notification(
    session: AsyncSession,
    record: TriageRecord,
    *,
    found: triage_form.Findings,
    staff_id: int,
    now: datetime,
) -> ChildWelfareNotification | None:
    """The open notification the under-18 rule asks for: an existing one, or a new one."""
    municipality = found.child_notification_municipality
    if municipality is None:
        return None
    case_id = record.case_id
    existing = await session.scalar(
        select(ChildWelfareNotification).where(
            ChildWelfareNotification.case_id == case_id,
            ChildWelfareNotification.municipality == municipality,
            ChildWelfareNotification.status == NotificationStatus.OPEN,
        )
    )
    if existing is not None:
        return existing
    notification = ChildWelfareNotification(
        case_id=case_id,
        triage_record_id=record.id,
        municipality=municipality,
        status=NotificationStatus.OPEN,
        created_by=staff_id,
        created_at=now,
    )
    session.add(notification)
    await session.flush()
    return notification


async def mark_notification_sent(
    session: AsyncSession,
    notification_id: int,
    *,
    how: str,
    staff_id: int,
    now: datetime,
    case_id: int | None = None,
) -> ChildWelfareNotification:
    """Record that the notification went to the municipality, and how.

    `case_id`, when given, must be the notification's case (the case page's form names both).
    Raises TriageInvalid (how is empty or too long), NotificationNotFound or AlreadySent.
    """
    text = how.strip()
    if not text:
        raise TriageInvalid({"how": FieldProblem(REQUIRED)})
    if len(text) > MAX_SENT_HOW:
        raise TriageInvalid({"how": FieldProblem(TOO_LONG, MAX_SENT_HOW)})
    notification = await session.get(
        ChildWelfareNotification, notification_id, with_for_update=True
    )
    if notification is None or (case_id is not None and notification.case_id != case_id):
        raise NotificationNotFound(notification_id)
    if notification.status is NotificationStatus.SENT:
        raise AlreadySent
    notification.status = NotificationStatus.SENT
    notification.sent_by = staff_id
    notification.sent_at = now
    notification.sent_how = text
    session.add(
        _event(
            notification.case_id,
            "child_notification_sent",
            staff_id,
            now,
            notification_id=notification.id,
        )
    )
    log.info(
        "child_notification_sent", case_id=notification.case_id, notification_id=notification.id
    )
    return notification


def _event(case_id: int, kind: str, staff_id: int, now: datetime, **detail: object) -> CaseEvent:
    return CaseEvent(
        case_id=case_id,
        at=now,
        actor_kind=ActorKind.STAFF,
        actor_id=staff_id,
        kind=kind,
        detail=dict(detail),
    )
