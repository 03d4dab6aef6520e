"""Everything the staff case page shows, loaded with a fixed number of queries (no N+1).

Reads intake's tables (contacts, messages, calls, recordings, opt-outs) as triage may; personal
fields are decrypted by their column types. The caller audits the read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import StaffUser
from intake import delivery
from intake.models import Call, Contact, Hotline, Message, PhoneOptOut, Recording
from triage.linking import proposals_for_case
from triage.models import Case, CaseEvent, Deadline, DeadlineKind, LinkProposal


@dataclass
class ContactView:
    contact: Contact
    messages: list[Message] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    opted_out: bool = False
    # Why a reply cannot be stored now (None: the reply form is shown).
    refusal: delivery.Refusal | None = None

    @property
    def can_reply(self) -> bool:
        return self.refusal is None


@dataclass
class ProposalView:
    proposal: LinkProposal
    # The other case's reference: the proposed case, or the case the contact is in now.
    other_reference: str | None
    # True if the proposal moves a contact of this case elsewhere.
    outgoing: bool


@dataclass
class CasePage:
    case: Case
    hotline: Hotline | None
    triage_deadline: Deadline | None
    contacts: list[ContactView]
    proposals: list[ProposalView]
    events: list[CaseEvent]
    staff_names: dict[int, str]

    @property
    def message_count(self) -> int:
        return sum(len(c.messages) for c in self.contacts)


async def load(session: AsyncSession, case_id: int) -> CasePage | None:
    case = await session.get(Case, case_id)
    if case is None:
        return None
    hotline = await session.get(Hotline, case.hotline_id)
    deadline = await session.scalar(
        select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == DeadlineKind.TRIAGE)
    )
    contacts = list(
        await session.scalars(
            select(Contact)
            .where(Contact.case_id == case_id)
            .order_by(Contact.received_at, Contact.id)
        )
    )
    views = {c.id: ContactView(c) for c in contacts}
    ids = list(views)
    if ids:
        for message in await session.scalars(
            select(Message)
            .where(Message.contact_id.in_(ids))
            .order_by(Message.created_at, Message.id)
        ):
            views[message.contact_id].messages.append(message)
        for call in await session.scalars(
            select(Call).where(Call.contact_id.in_(ids)).order_by(Call.started_at, Call.id)
        ):
            views[call.contact_id].calls.append(call)
        for recording in await session.scalars(
            select(Recording)
            .where(Recording.contact_id.in_(ids))
            .order_by(Recording.received_at, Recording.id)
        ):
            views[recording.contact_id].recordings.append(recording)
        lookups = {c.reporter_phone_lookup for c in contacts if c.reporter_phone_lookup}
        opted_out: set[str] = set()
        if lookups:
            opted_out = set(
                await session.scalars(
                    select(PhoneOptOut.phone_lookup).where(PhoneOptOut.phone_lookup.in_(lookups))
                )
            )
        for view in views.values():
            view.opted_out = view.contact.reporter_phone_lookup in opted_out
            view.refusal = delivery.reply_refusal(view.contact, opted_out=view.opted_out)

    proposals = await proposals_for_case(session, case_id)
    # The other side of each proposal: the proposed case, or the case its contact is in now.
    outside_contacts = {p.contact_id for p in proposals if p.contact_id not in views}
    contact_cases: dict[int, int | None] = {}
    if outside_contacts:
        contact_cases = dict(
            (
                await session.execute(
                    select(Contact.id, Contact.case_id).where(Contact.id.in_(outside_contacts))
                )
            ).all()
        )
    other_case_ids: dict[int, int | None] = {}
    for p in proposals:
        outgoing = p.contact_id in views
        other_case_ids[p.id] = p.case_id if outgoing else contact_cases.get(p.contact_id)
    wanted = {i for i in other_case_ids.values() if i is not None}
    references: dict[int, str] = {}
    if wanted:
        references = dict(
            (
                await session.execute(select(Case.id, Case.reference).where(Case.id.in_(wanted)))
            ).all()
        )
    proposal_views = [
        ProposalView(
            p,
            references.get(other_case_ids[p.id] or 0),
            outgoing=p.contact_id in views,
        )
        for p in proposals
    ]

    events = list(
        await session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.at, CaseEvent.id)
        )
    )
    staff_ids = {e.actor_id for e in events if e.actor_id is not None}
    staff_ids |= {m.staff_id for v in views.values() for m in v.messages if m.staff_id}
    if case.assignee_id is not None:  # named by the assignment partial
        staff_ids.add(case.assignee_id)
    staff_names: dict[int, str] = {}
    if staff_ids:
        staff_names = dict(
            (
                await session.execute(
                    select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(staff_ids))
                )
            ).all()
        )
    return CasePage(
        case=case,
        hotline=hotline,
        triage_deadline=deadline,
        contacts=list(views.values()),
        proposals=proposal_views,
        events=events,
        staff_names=staff_names,
    )
