"""Everything the staff case page shows, loaded with a fixed number of queries (no N+1).

Reads intake's tables (contacts, messages, calls, chats, recordings, opt-outs) as triage may;
personal fields are decrypted by their column types. The caller audits the read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import StaffUser
from intake import delivery
from intake.models import Call, Chat, Contact, Hotline, Message, PhoneOptOut, Recording
from notifications.alert_read import CaseEscalation, case_escalation
from triage import timeline_view
from triage.linking import proposals_for_case
from triage.models import Case, CaseEvent, Deadline, DeadlineKind, LinkProposal
from triage.routing_service import RoutingSection, case_section
from triage.triage_service import TriageState, load_state


@dataclass
class ContactView:
    contact: Contact
    messages: list[Message] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    opted_out: bool = False
    # A web chat's chat row: replies go into the chat while it is active and the viewer's.
    chat: Chat | None = None
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
    # The case's deadlines by kind (triage; visitation once it was justified).
    deadlines: dict[DeadlineKind, Deadline]
    contacts: list[ContactView]
    proposals: list[ProposalView]
    events: list[CaseEvent]
    staff_names: dict[int, str]
    triage: TriageState | None = None
    # Routing to a partner unit: the proposal and every routing (triage/_routing.html).
    routing: RoutingSection | None = None
    # Notes, deadlines and the cases the events name (triage/timeline_view.py).
    timeline: timeline_view.TimelineData = field(default_factory=timeline_view.TimelineData)
    # Each escalation step, alert, attempt and acknowledgement (triage/_escalation.html).
    escalation: CaseEscalation | None = None

    @property
    def message_count(self) -> int:
        return sum(len(c.messages) for c in self.contacts)


async def load(
    session: AsyncSession, case_id: int, *, viewer_id: int | None = None
) -> CasePage | None:
    """The page for `case_id`, or None; `viewer_id` is the staff member (a chat is theirs?)."""
    case = await session.get(Case, case_id)
    if case is None:
        return None
    hotline = await session.get(Hotline, case.hotline_id)
    deadlines = {
        d.kind: d
        for d in await session.scalars(select(Deadline).where(Deadline.case_id == case_id))
    }
    contacts = list(
        await session.scalars(
            select(Contact)
            .where(Contact.case_id == case_id)
            .order_by(Contact.received_at, Contact.id)
        )
    )
    views = await _contact_views(session, contacts, viewer_id)
    proposal_views = await _proposal_views(session, case_id, views)

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
        deadlines=deadlines,
        contacts=list(views.values()),
        proposals=proposal_views,
        events=events,
        staff_names=staff_names,
        triage=await load_state(session, case_id),
        routing=await case_section(session, case),
        timeline=await timeline_view.load(session, case, events, staff_names),
        escalation=await case_escalation(session, case),
    )


async def _contact_views(
    session: AsyncSession, contacts: list[Contact], viewer_id: int | None
) -> dict[int, ContactView]:
    """Each contact with its messages, calls, recordings, chat and whether one can reply."""
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
        for chat in await session.scalars(select(Chat).where(Chat.contact_id.in_(ids))):
            views[chat.contact_id].chat = chat
        for view in views.values():
            view.opted_out = view.contact.reporter_phone_lookup in opted_out
            view.refusal = (
                delivery.chat_reply_refusal(view.chat.status, view.chat.accepted_by, viewer_id)
                if view.chat is not None
                else delivery.reply_refusal(view.contact, opted_out=view.opted_out)
            )
    return views


async def _proposal_views(
    session: AsyncSession, case_id: int, views: dict[int, ContactView]
) -> list[ProposalView]:
    """The case's open link proposals, each with the reference of the case on its other side."""
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
    return proposal_views
