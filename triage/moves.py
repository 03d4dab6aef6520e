"""Moving contacts between cases, and merging two cases about the same person.

The one place for what a confirmed link proposal (triage/linking.py), the case page's "move
this contact" and "merge into" forms and their API do:

- the contact (or every contact of the merged case) changes case, and both timelines say so,
  with the staff member who did it; event details name cases and contacts by id, nothing else;
- a case left without contacts is closed as merged through workflow.change_status; if its
  status does not allow that (e.g. routed), the move is refused with the state machine's
  reason and nothing changes;
- a merge must not give the concern more time: the receiving case keeps the earlier receipt
  time, queue due time and open deadlines of the two (and becomes acute if either was);
- open link proposals the move answers are closed as superseded; those that pointed at the
  closed case point at the case it went into.

Locks are taken in one order everywhere, so two moves cannot deadlock: the cases involved,
by id; then their contacts; then link proposals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import Contact
from triage import deadlines, states, workflow
from triage.models import (
    ActorKind,
    Case,
    CaseEvent,
    CaseStatus,
    CloseReason,
    Deadline,
    LinkProposal,
    LinkStatus,
)
from triage.queue_events import note_case_changed

# Why a move or merge was refused (MoveRefused.code).
UNKNOWN_REFERENCE = "unknown_reference"
SAME_CASE = "same_case"
TARGET_CLOSED = "target_closed"
# The case's status does not allow closing it as merged (MoveRefused.refused says why).
STATUS = "status"

MAX_REFERENCE_CHARS = 24  # cases.reference


class NotFound(LookupError):
    """No such case, or the case has no such contact."""


class MoveRefused(Exception):
    def __init__(
        self, code: str, message: str, *, refused: states.IllegalTransition | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.refused = refused


@dataclass
class Moved:
    source: Case | None
    target: Case
    contact_ids: list[int]
    # Whether the source case was closed as merged (a merge, or a move that emptied it).
    source_closed: bool
    # What the target took over from the source because it was earlier (see take_earlier).
    brought_forward: list[str] = field(default_factory=list)


def staff_event(
    case_id: int, contact_id: int | None, kind: str, staff_id: int, now: datetime, **detail: Any
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


async def lock_cases(session: AsyncSession, case_ids: Iterable[int]) -> dict[int, Case]:
    """Lock these case rows in id order (the order every mover uses) and load them fresh."""
    wanted = sorted(set(case_ids))
    rows = await session.scalars(
        select(Case)
        .where(Case.id.in_(wanted))
        .order_by(Case.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {case.id: case for case in rows}


async def _source_and_target(
    session: AsyncSession, case_id: int, reference: str
) -> tuple[Case, Case]:
    """The case `case_id` and the open case with exactly this reference, both locked."""
    if await session.get(Case, case_id) is None:
        raise NotFound("no case has this id")
    wanted = reference.strip()
    target_id = (
        await session.scalar(select(Case.id).where(Case.reference == wanted))
        if 0 < len(wanted) <= MAX_REFERENCE_CHARS
        else None
    )
    if target_id is None:
        raise MoveRefused(UNKNOWN_REFERENCE, "no case has this reference")
    if target_id == case_id:
        raise MoveRefused(SAME_CASE, "that is this case's own reference")
    cases = await lock_cases(session, (case_id, target_id))
    source, target = cases[case_id], cases[target_id]
    if target.closed_at is not None:
        raise MoveRefused(
            TARGET_CLOSED, f"case {target.reference} is closed; reopen it first, or choose another"
        )
    return source, target


def _check_closable(case: Case) -> None:
    try:
        states.check(case.status, CaseStatus.CLOSED, CloseReason.MERGED)
    except states.IllegalTransition as exc:
        raise MoveRefused(STATUS, exc.message, refused=exc) from None


async def move_contact(
    session: AsyncSession,
    case_id: int,
    contact_id: int,
    *,
    to_reference: str,
    staff_id: int,
    now: datetime,
) -> Moved:
    """Move a contact of case `case_id` to the open case with reference `to_reference`."""
    if await session.scalar(select(Contact.case_id).where(Contact.id == contact_id)) != case_id:
        raise NotFound("this case has no such contact")
    source, target = await _source_and_target(session, case_id, to_reference)
    contact = await session.get(Contact, contact_id, with_for_update=True, populate_existing=True)
    if contact is None or contact.case_id != source.id:  # moved while we waited for the locks
        raise NotFound("this case has no such contact")
    return await relink(session, contact, source, target, staff_id=staff_id, now=now)


async def relink(
    session: AsyncSession,
    contact: Contact,
    source: Case | None,
    target: Case,
    *,
    staff_id: int,
    now: datetime,
    keep_proposal_id: int | None = None,
) -> Moved:
    """Move a locked contact from `source` to `target` (both locked, in id order).

    Its open link proposals are closed as superseded (but `keep_proposal_id`, which the caller
    is confirming). A source left without contacts is closed as merged into the target, or
    MoveRefused(STATUS) is raised before anything changed.
    """
    empties = (
        source is not None
        and source.closed_at is None
        and await session.scalar(
            select(Contact.id)
            .where(Contact.case_id == source.id, Contact.id != contact.id)
            .limit(1)
        )
        is None
    )
    if empties:
        assert source is not None
        try:
            _check_closable(source)
        except MoveRefused as exc:
            raise MoveRefused(
                STATUS,
                f"case {source.reference} would be left without contacts, and {exc.message}",
                refused=exc.refused,
            ) from None
    contact.case_id = target.id
    if source is None:
        session.add(staff_event(target.id, contact.id, "contact_linked", staff_id, now))
    else:
        session.add(
            staff_event(
                target.id,
                contact.id,
                "contact_linked",
                staff_id,
                now,
                from_case=source.id,
                from_reference=source.reference,
            )
        )
        session.add(
            staff_event(
                source.id,
                contact.id,
                "contact_moved",
                staff_id,
                now,
                to_case=target.id,
                to_reference=target.reference,
            )
        )
    await _supersede(
        session,
        select(LinkProposal).where(
            LinkProposal.contact_id == contact.id,
            LinkProposal.status == LinkStatus.PROPOSED,
            LinkProposal.id != (keep_proposal_id or 0),
        ),
        staff_id=staff_id,
        now=now,
    )
    moved = Moved(source, target, [contact.id], source_closed=False)
    if empties and source is not None:
        moved.brought_forward = await take_earlier(session, target, source)
        await _close_into(session, source, target, staff_id=staff_id, now=now)
        moved.source_closed = True
    return moved


async def merge_cases(
    session: AsyncSession, case_id: int, *, into_reference: str, staff_id: int, now: datetime
) -> Moved:
    """Merge case `case_id` into the open case with reference `into_reference`: all its
    contacts move there, the earlier times and deadlines win, and it is closed as merged."""
    source, target = await _source_and_target(session, case_id, into_reference)
    _check_closable(source)
    contacts = list(
        await session.scalars(
            select(Contact)
            .where(Contact.case_id == source.id)
            .order_by(Contact.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    contact_ids = [c.id for c in contacts]
    for contact in contacts:
        contact.case_id = target.id
    brought_forward = await take_earlier(session, target, source)
    session.add(
        staff_event(
            source.id,
            None,
            "merged_into",
            staff_id,
            now,
            into_case=target.id,
            into_reference=target.reference,
            contact_ids=contact_ids,
        )
    )
    session.add(
        staff_event(
            target.id,
            None,
            "case_merged",
            staff_id,
            now,
            from_case=source.id,
            from_reference=source.reference,
            contact_ids=contact_ids,
            brought_forward=brought_forward,
        )
    )
    await _close_into(session, source, target, staff_id=staff_id, now=now)
    return Moved(source, target, contact_ids, source_closed=True, brought_forward=brought_forward)


async def _close_into(
    session: AsyncSession, source: Case, target: Case, *, staff_id: int, now: datetime
) -> None:
    await workflow.change_status(
        session,
        source,
        CaseStatus.CLOSED,
        actor=workflow.Actor.staff(staff_id),
        now=now,
        reason=CloseReason.MERGED,
        detail={"into_case": target.id, "into_reference": target.reference},
    )
    await _redirect_proposals(session, source, target, staff_id=staff_id, now=now)
    note_case_changed(session, target.id)


async def take_earlier(session: AsyncSession, target: Case, source: Case) -> list[str]:
    """Give `target` whatever of `source`'s is earlier: receipt (with its channel and role),
    acuteness, and each deadline `source` still had open (due time and start; a kind `target`
    lacks is copied). Call it before `source` is closed, which ends its deadlines.

    A deadline `target` already met stays met. Returns what changed: "received", "acute" and
    the deadline kinds.
    """
    changed: list[str] = []
    if source.received_at < target.received_at:
        target.received_at = source.received_at
        target.channel = source.channel
        target.reporter_role = source.reporter_role
        changed.append("received")
    if source.is_acute and not target.is_acute:
        target.is_acute = True
        target.queue_rank = min(target.queue_rank, source.queue_rank)
        changed.append("acute")
    theirs = list(
        await session.scalars(
            select(Deadline)
            .where(Deadline.case_id == source.id, Deadline.met_at.is_(None))
            .order_by(Deadline.id)
        )
    )
    if not theirs:
        return changed
    ours = {
        d.kind: d
        for d in await session.scalars(select(Deadline).where(Deadline.case_id == target.id))
    }
    moved_deadline = False
    for deadline in theirs:
        mine = ours.get(deadline.kind)
        if mine is None:
            session.add(
                Deadline(
                    case_id=target.id,
                    kind=deadline.kind,
                    clock_mode=deadline.clock_mode,
                    started_at=deadline.started_at,
                    due_at=deadline.due_at,
                )
            )
        elif mine.met_at is None and deadline.due_at < mine.due_at:
            mine.due_at = deadline.due_at
            mine.started_at = min(mine.started_at, deadline.started_at)
            mine.clock_mode = deadline.clock_mode  # the due time is counted in its mode
        else:
            continue
        changed.append(deadline.kind.value)
        moved_deadline = True
    if moved_deadline:
        await session.run_sync(deadlines.refresh_queue_deadline, target)
    return changed


async def _supersede(
    session: AsyncSession, query: Any, *, staff_id: int, now: datetime
) -> list[LinkProposal]:
    rows = list(await session.scalars(query.order_by(LinkProposal.id).with_for_update()))
    for proposal in rows:
        _superseded(proposal, staff_id, now)
    return rows


def _superseded(proposal: LinkProposal, staff_id: int, now: datetime) -> None:
    proposal.status = LinkStatus.SUPERSEDED
    proposal.decided_at = now
    proposal.decided_by = staff_id


async def _redirect_proposals(
    session: AsyncSession, source: Case, target: Case, *, staff_id: int, now: datetime
) -> None:
    """After `source` went into `target`: a proposal whose contact is now where it proposed is
    answered; one that proposed `source` proposes `target` (unless it would repeat one)."""
    rows = list(
        await session.scalars(
            select(LinkProposal)
            .where(
                LinkProposal.status == LinkStatus.PROPOSED,
                LinkProposal.case_id.in_((source.id, target.id)),
            )
            .order_by(LinkProposal.id)
            .with_for_update()
        )
    )
    if not rows:
        return
    where_now: dict[int, int | None] = {
        contact_id: case_id
        for contact_id, case_id in (
            await session.execute(
                select(Contact.id, Contact.case_id).where(
                    Contact.id.in_({p.contact_id for p in rows})
                )
            )
        ).all()
    }
    already = set(
        await session.scalars(
            select(LinkProposal.contact_id).where(LinkProposal.case_id == target.id)
        )
    )
    for proposal in rows:
        if where_now.get(proposal.contact_id) == target.id:
            _superseded(proposal, staff_id, now)
        elif proposal.case_id == source.id:
            if proposal.contact_id in already:
                _superseded(proposal, staff_id, now)
            else:
                proposal.case_id = target.id
                already.add(proposal.contact_id)
