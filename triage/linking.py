"""Linking contacts from the same reporter: propose, then let staff confirm or reject.

A new contact whose phone number or e-mail (compared by their keyed lookup hashes, exactly)
matches a contact of another open case gets a proposal to join that case. Nothing is linked
without a person deciding: a shared family phone is not the same concern.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from intake.models import Contact
from triage.models import (
    ActorKind,
    Case,
    CaseEvent,
    CaseStatus,
    Deadline,
    LinkProposal,
    LinkReason,
    LinkStatus,
)
from triage.queue_events import note_case_changed


class LinkNotPossible(Exception):
    """The proposal was already decided, or its case has closed since."""


def propose_links(session: Session, contact: Contact, case: Case, *, now: datetime) -> int:
    """Propose that `contact` (just given `case`) joins other open cases; returns how many."""
    matches = []
    if contact.reporter_phone_lookup:
        matches.append(
            (Contact.reporter_phone_lookup == contact.reporter_phone_lookup, LinkReason.SAME_PHONE)
        )
    if contact.reporter_email_lookup:
        matches.append(
            (Contact.reporter_email_lookup == contact.reporter_email_lookup, LinkReason.SAME_EMAIL)
        )
    if not matches:
        return 0
    proposed: dict[int, LinkReason] = {}
    for condition, reason in matches:
        other_cases = session.scalars(
            select(Contact.case_id)
            .join(Case, Case.id == Contact.case_id)
            .where(
                condition, Contact.id != contact.id, Case.id != case.id, Case.closed_at.is_(None)
            )
            .distinct()
        ).all()
        for other_case_id in other_cases:
            if other_case_id is not None:
                proposed.setdefault(other_case_id, reason)
    for other_case_id, reason in sorted(proposed.items()):
        session.add(
            LinkProposal(
                contact_id=contact.id,
                case_id=other_case_id,
                reason=reason,
                status=LinkStatus.PROPOSED,
                created_at=now,
            )
        )
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor_kind=ActorKind.SYSTEM,
                kind="link_proposed",
                contact_id=contact.id,
                detail={"other_case_id": other_case_id, "reason": reason.value},
            )
        )
    return len(proposed)


async def decide(
    session: AsyncSession, proposal_id: int, *, confirm: bool, staff_id: int, now: datetime
) -> LinkProposal | None:
    """Confirm (move the contact into the proposed case) or reject a proposal.

    A confirmed contact leaves its own case; a case left with no contacts is closed as merged,
    its deadlines met. Returns None if there is no such proposal.
    """
    proposal = await session.scalar(
        select(LinkProposal).where(LinkProposal.id == proposal_id).with_for_update()
    )
    if proposal is None:
        return None
    if proposal.status is not LinkStatus.PROPOSED:
        raise LinkNotPossible(f"this proposal was already {proposal.status.value}")
    proposal.decided_at = now
    proposal.decided_by = staff_id
    if not confirm:
        proposal.status = LinkStatus.REJECTED
        session.add(_event(proposal.case_id, proposal.contact_id, "link_rejected", staff_id, now))
        return proposal

    target = await session.get_one(Case, proposal.case_id, with_for_update=True)
    if target.closed_at is not None:
        raise LinkNotPossible("the proposed case has been closed since")
    contact = await session.get_one(Contact, proposal.contact_id, with_for_update=True)
    previous_case_id = contact.case_id
    contact.case_id = target.id
    proposal.status = LinkStatus.CONFIRMED
    session.add(
        _event(target.id, contact.id, "contact_linked", staff_id, now, from_case=previous_case_id)
    )
    if previous_case_id is not None and previous_case_id != target.id:
        session.add(
            _event(previous_case_id, contact.id, "contact_moved", staff_id, now, to_case=target.id)
        )
        await _close_if_empty(session, previous_case_id, target.id, staff_id, now)
    return proposal


async def _close_if_empty(
    session: AsyncSession, case_id: int, merged_into: int, staff_id: int, now: datetime
) -> None:
    remaining = await session.scalar(select(Contact.id).where(Contact.case_id == case_id).limit(1))
    if remaining is not None:
        return
    case = await session.get_one(Case, case_id, with_for_update=True)
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    note_case_changed(session, case_id)  # it leaves the staff queue
    for deadline in await session.scalars(
        select(Deadline).where(Deadline.case_id == case_id, Deadline.met_at.is_(None))
    ):
        deadline.met_at = now
    session.add(
        _event(case_id, None, "case_closed", staff_id, now, outcome="merged", into_case=merged_into)
    )


def _event(
    case_id: int, contact_id: int | None, kind: str, staff_id: int, now: datetime, **detail: object
) -> CaseEvent:
    return CaseEvent(
        case_id=case_id,
        at=now,
        actor_kind=ActorKind.STAFF,
        actor_id=staff_id,
        kind=kind,
        contact_id=contact_id,
        detail=dict(detail),
    )


async def proposals_for_case(session: AsyncSession, case_id: int) -> list[LinkProposal]:
    """Open proposals that involve this case, either way round."""
    contact_ids = select(Contact.id).where(Contact.case_id == case_id)
    return list(
        await session.scalars(
            select(LinkProposal)
            .where(
                LinkProposal.status == LinkStatus.PROPOSED,
                or_(LinkProposal.case_id == case_id, LinkProposal.contact_id.in_(contact_ids)),
            )
            .order_by(LinkProposal.id)
        )
    )
