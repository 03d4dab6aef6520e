"""Linking contacts from the same reporter: propose, then let staff confirm or reject.

A new contact whose phone number or e-mail (compared by their keyed lookup hashes, exactly)
matches a contact of another open case gets a proposal to join that case. Nothing is linked
without a person deciding: a shared family phone is not the same concern. Confirming moves the
contact as triage/moves.py moves any contact.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from intake.models import Contact
from triage import moves
from triage.models import (
    ActorKind,
    Case,
    CaseEvent,
    LinkProposal,
    LinkReason,
    LinkStatus,
)


class LinkNotPossible(Exception):
    """The proposal was already decided, its case has closed since, or the move is refused."""


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

    Confirming moves the contact through triage/moves.py, like a move by hand: its other open
    proposals are superseded, and a case it leaves empty is closed as merged (or the confirm
    is refused if that case's status does not allow it). Returns None if there is no such
    proposal.
    """
    proposal = await session.get(LinkProposal, proposal_id)
    if proposal is None:
        return None
    if proposal.status is not LinkStatus.PROPOSED:
        raise LinkNotPossible(f"this proposal was already {proposal.status.value}")
    if not confirm:
        proposal = await _locked_open(session, proposal_id)
        proposal.status = LinkStatus.REJECTED
        proposal.decided_at = now
        proposal.decided_by = staff_id
        session.add(
            moves.staff_event(proposal.case_id, proposal.contact_id, "link_rejected", staff_id, now)
        )
        return proposal

    # The lock order of triage/moves.py: both cases by id, then the contact, then proposals.
    current_case = await session.scalar(
        select(Contact.case_id).where(Contact.id == proposal.contact_id)
    )
    involved = {proposal.case_id} | ({current_case} if current_case is not None else set())
    cases = await moves.lock_cases(session, involved)
    target = cases[proposal.case_id]
    if target.closed_at is not None:
        raise LinkNotPossible("the proposed case has been closed since")
    contact = await session.get_one(
        Contact, proposal.contact_id, with_for_update=True, populate_existing=True
    )
    if contact.case_id != current_case:
        raise LinkNotPossible("the contact has moved to another case since")
    if current_case == target.id:
        raise LinkNotPossible("the contact is in the proposed case already")
    proposal = await _locked_open(session, proposal_id)
    proposal.status = LinkStatus.CONFIRMED
    proposal.decided_at = now
    proposal.decided_by = staff_id
    source = cases.get(current_case) if current_case is not None else None
    try:
        await moves.relink(
            session,
            contact,
            source,
            target,
            staff_id=staff_id,
            now=now,
            keep_proposal_id=proposal.id,
        )
    except moves.MoveRefused as exc:
        raise LinkNotPossible(exc.message) from None
    return proposal


async def _locked_open(session: AsyncSession, proposal_id: int) -> LinkProposal:
    proposal = await session.get_one(
        LinkProposal, proposal_id, with_for_update=True, populate_existing=True
    )
    if proposal.status is not LinkStatus.PROPOSED:
        raise LinkNotPossible(f"this proposal was already {proposal.status.value}")
    return proposal


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
