"""Routing a justified case to a partner unit, and what the unit does with it afterwards.

Hotline staff route (justified → routed): the routing row, the status change and the notice
e-mail's pending state are one transaction; the notice job is enqueued after the commit (the
sweeper covers a lost enqueue). The recipient unit's coordinators then acknowledge (→
acknowledged), record the visitation (→ visited), close as handed over (→ closed), or return
the case as the wrong unit (→ justified, so hotline staff can route it again).

Who may see a routing is decided by `in_scope`, used by every read and write of routings here:
a coordinator sees only their own unit's; another unit's routing does not exist for them (404).
The page and API views call only these functions, so they cannot differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import PartnerUnit, Role, StaffUser
from access.service import Staff, audit
from intake.models import Hotline
from jobqueue import send_routing_notices
from triage import states, workflow
from triage.models import Case, CaseStatus, CloseReason, NoticeStatus, Routing
from triage.routing import Proposal, RoutingRefused, propose
from web.i18n import N_

if TYPE_CHECKING:
    from bootstrap import Deps

AGENCY_MAX_CHARS = 200
TEXT_MAX_CHARS = 2000
LIST_LIMIT = 200

# English ids: the API answers with them, pages translate them.
LEGAL_BASIS_INVALID = N_("Choose the legal basis for passing the information on.")
PROPOSAL_CHANGED = N_(
    "The proposed unit has changed since the page was shown (its configuration or the case's "
    "municipality changed). Check the new proposal and route again."
)
ROUTING_ENDED = N_("This routing was returned or closed; nothing more can be done with it.")
AGENCY_MISSING = N_("Name the responsible agency (1 to 200 characters).")
NEXT_STEP_MISSING = N_("Describe the next step (1 to 2000 characters).")
RETURN_REASON_MISSING = N_("Say why this is the wrong unit (1 to 2000 characters).")


class CaseNotFound(LookupError):
    pass


class RoutingNotFound(LookupError):
    """No such routing, or one outside the staff member's scope (another unit's)."""


class RoutingConflict(Exception):
    """The routing cannot take this action now; `message` is an English id."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RoutingFieldInvalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def in_scope(staff: Staff) -> ColumnElement[bool]:
    """THE rule for which routings a staff member may read or act on.

    Coordinators: their own unit's only (none without a unit). Hotline staff, who route, and
    administrators: all. Every routing query in this module filters by it.
    """
    if staff.role is Role.COORDINATOR:
        if staff.partner_unit_id is None:
            return false()
        return Routing.unit_id == staff.partner_unit_id
    return true()


async def routing_for(
    session: AsyncSession, staff: Staff, routing_id: int, *, lock: bool = False
) -> Routing:
    """The routing if `staff` may see it, else RoutingNotFound (the same for missing ones)."""
    query = select(Routing).where(Routing.id == routing_id, in_scope(staff))
    if lock:
        query = query.with_for_update()
    routing = await session.scalar(query)
    if routing is None:
        raise RoutingNotFound(routing_id)
    return routing


# --- reading ------------------------------------------------------------------------------------


@dataclass
class RoutingRow:
    """One line of a unit's list of routings."""

    routing: Routing
    case: Case
    unit_name: str


async def routings_for(
    session: AsyncSession, staff: Staff, *, limit: int = LIST_LIMIT
) -> list[RoutingRow]:
    """The routings `staff` may see: open ones first, newest first within each."""
    still_open = and_(Routing.returned_at.is_(None), Routing.closed_at.is_(None))
    rows = await session.execute(
        select(Routing, Case, PartnerUnit.name)
        .join(Case, Case.id == Routing.case_id)
        .join(PartnerUnit, PartnerUnit.id == Routing.unit_id)
        .where(in_scope(staff))
        .order_by(case((still_open, 0), else_=1), Routing.sent_at.desc(), Routing.id.desc())
        .limit(limit)
    )
    return [RoutingRow(*row) for row in rows.all()]


async def staff_names_for(session: AsyncSession, routings: list[Routing]) -> dict[int, str]:
    """The display names of everyone these routings name (sender, and who acted on them)."""
    return await _staff_names(session, _people(routings))


@dataclass
class RoutingPage:
    """A routing as its recipient sees it: no personal data, only what identifies the case."""

    routing: Routing
    case: Case
    unit: PartnerUnit
    hotline: Hotline | None
    staff_names: dict[int, str]


async def routing_page(session: AsyncSession, staff: Staff, routing_id: int) -> RoutingPage:
    routing = await routing_for(session, staff, routing_id)
    case_row = await session.get_one(Case, routing.case_id)
    unit = await session.get_one(PartnerUnit, routing.unit_id)
    hotline = await session.get(Hotline, case_row.hotline_id)
    return RoutingPage(
        routing, case_row, unit, hotline, await _staff_names(session, _people([routing]))
    )


async def active_units(session: AsyncSession) -> list[PartnerUnit]:
    return list(await session.scalars(select(PartnerUnit).where(PartnerUnit.active)))


async def proposal_for(session: AsyncSession, case_row: Case) -> Proposal:
    """The unit this case would go to now, or RoutingRefused."""
    return propose(
        case_row.subject_municipality,
        case_row.reporter_municipality,
        await active_units(session),
    )


@dataclass
class RoutingSection:
    """The case page's routing part: the proposal (when the case can be routed) and history."""

    can_route: bool
    proposal: Proposal | None
    refusal: RoutingRefused | None
    routings: list[Routing]
    unit_names: dict[int, str]
    staff_names: dict[int, str] = field(default_factory=dict)


async def case_section(session: AsyncSession, case_row: Case) -> RoutingSection:
    """Loaded by triage.case_page.load with a fixed number of queries."""
    routings = list(
        await session.scalars(
            select(Routing)
            .where(Routing.case_id == case_row.id)
            .order_by(Routing.sent_at.desc(), Routing.id.desc())
        )
    )
    units = list(await session.scalars(select(PartnerUnit)))
    can_route = case_row.status is CaseStatus.JUSTIFIED
    proposal: Proposal | None = None
    refusal: RoutingRefused | None = None
    if can_route:
        try:
            proposal = propose(case_row.subject_municipality, case_row.reporter_municipality, units)
        except RoutingRefused as exc:
            refusal = exc
    return RoutingSection(
        can_route=can_route,
        proposal=proposal,
        refusal=refusal,
        routings=routings,
        unit_names={u.id: u.name for u in units},
        staff_names=await _staff_names(session, _people(routings)),
    )


def _people(routings: list[Routing]) -> set[int]:
    """The staff ids a list of routings names (sender, and who acted on them)."""
    ids: set[int] = set()
    for r in routings:
        people = (r.sent_by, r.acknowledged_by, r.visited_by, r.returned_by, r.closed_by)
        ids.update(person for person in people if person is not None)
    return ids


async def _staff_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))
    )
    return {row[0]: row[1] for row in rows.all()}


# --- hotline staff: routing ---------------------------------------------------------------------


async def route(
    deps: Deps,
    *,
    case_id: int,
    legal_basis: str,
    staff: Staff,
    unit_id: int | None = None,
) -> Routing:
    """Route a justified case to the proposed unit; the notice e-mail follows by a job.

    `unit_id`, when given, is the unit the staff member saw proposed: if the proposal has
    changed since, nothing is stored (RoutingConflict "proposal_changed").
    Raises RoutingFieldInvalid, CaseNotFound, states.IllegalTransition, RoutingRefused,
    RoutingConflict; nothing is stored then.
    """
    basis = " ".join(legal_basis.split())
    if basis not in deps.settings.legal_bases:
        raise RoutingFieldInvalid("legal_basis", LEGAL_BASIS_INVALID)
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        case_row = await session.get(Case, case_id, with_for_update=True)
        if case_row is None:
            raise CaseNotFound(case_id)
        # The state machine's word first: routing twice is an illegal move, whatever the units.
        states.check(case_row.status, CaseStatus.ROUTED)
        proposal = await proposal_for(session, case_row)
        if unit_id is not None and unit_id != proposal.unit_id:
            raise RoutingConflict("proposal_changed", PROPOSAL_CHANGED)
        routing = Routing(
            case_id=case_row.id,
            unit_id=proposal.unit_id,
            municipality=proposal.municipality,
            by_reporter_residence=proposal.by_reporter_residence,
            legal_basis=basis,
            sent_by=staff.id,
            sent_at=now,
            notice_status=NoticeStatus.PENDING,
            notice_attempts=0,
        )
        session.add(routing)
        await session.flush()
        await workflow.change_status(
            session,
            case_row,
            CaseStatus.ROUTED,
            actor=workflow.Actor.staff(staff.id),
            now=now,
            detail={"routing_id": routing.id, "unit_id": routing.unit_id},
        )
        audit(
            session,
            at=now,
            actor=staff,
            action="case_routed",
            subject_kind="case",
            subject_id=case_row.id,
            detail={
                "routing_id": routing.id,
                "unit_id": routing.unit_id,
                "legal_basis": basis,
                "by_reporter_residence": routing.by_reporter_residence,
            },
        )
    # Committed: the routing cannot be lost; the job sends the notice (the sweeper covers a
    # lost enqueue, and is the retry timer).
    deps.enqueuer.submit(send_routing_notices, routing.id)
    return routing


# --- the recipient unit -------------------------------------------------------------------------


def _text(value: str, field_name: str, limit: int, message: str) -> str:
    cleaned = value.strip()
    if not 1 <= len(cleaned) <= limit:
        raise RoutingFieldInvalid(field_name, message)
    return cleaned


# Sets the routing's own fields for an action (who, when, what they wrote).
_Apply = Callable[[Routing, datetime], None]


async def acknowledge(deps: Deps, *, staff: Staff, routing_id: int) -> Routing:
    """The unit confirms it has the case (routed → acknowledged)."""

    def apply(routing: Routing, now: datetime) -> None:
        routing.acknowledged_by = staff.id
        routing.acknowledged_at = now

    return await _move(
        deps, staff, routing_id, CaseStatus.ACKNOWLEDGED, "acknowledged", apply=apply
    )


async def record_visitation(
    deps: Deps, *, staff: Staff, routing_id: int, responsible_agency: str, next_step: str
) -> Routing:
    """Who takes the case on and the next step (acknowledged → visited): the visitation that
    the 48-hour clock counts as met (the move meets the case's visitation deadline now,
    `workflow.deadline_effects`)."""
    agency = _text(responsible_agency, "responsible_agency", AGENCY_MAX_CHARS, AGENCY_MISSING)
    step = _text(next_step, "next_step", TEXT_MAX_CHARS, NEXT_STEP_MISSING)

    def apply(routing: Routing, now: datetime) -> None:
        routing.visited_by = staff.id
        routing.visited_at = now
        routing.responsible_agency = agency
        routing.next_step = step

    return await _move(deps, staff, routing_id, CaseStatus.VISITED, "visited", apply=apply)


async def close(deps: Deps, *, staff: Staff, routing_id: int) -> Routing:
    """Handed over to the responsible agency (visited → closed, handed_over)."""

    def apply(routing: Routing, now: datetime) -> None:
        routing.closed_by = staff.id
        routing.closed_at = now

    return await _move(
        deps,
        staff,
        routing_id,
        CaseStatus.CLOSED,
        "closed",
        apply=apply,
        reason=CloseReason.HANDED_OVER,
    )


async def return_to_hotline(deps: Deps, *, staff: Staff, routing_id: int, reason: str) -> Routing:
    """The wrong unit: back to justified, for hotline staff to route again (routed → justified)."""
    why = _text(reason, "reason", TEXT_MAX_CHARS, RETURN_REASON_MISSING)

    def apply(routing: Routing, now: datetime) -> None:
        routing.returned_by = staff.id
        routing.returned_at = now
        routing.return_reason = why

    return await _move(deps, staff, routing_id, CaseStatus.JUSTIFIED, "returned", apply=apply)


async def _move(
    deps: Deps,
    staff: Staff,
    routing_id: int,
    target: CaseStatus,
    action: str,
    *,
    apply: _Apply,
    reason: CloseReason | None = None,
) -> Routing:
    """One recipient action: the scoped, locked routing; the case's status change; the audit.

    Raises RoutingNotFound, RoutingConflict (a returned or closed routing) or
    states.IllegalTransition (e.g. acknowledging twice); nothing is written then.
    """
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        routing = await routing_for(session, staff, routing_id, lock=True)
        if not routing.is_open:
            raise RoutingConflict("routing_ended", ROUTING_ENDED)
        case_row = await session.get_one(Case, routing.case_id, with_for_update=True)
        await workflow.change_status(
            session,
            case_row,
            target,
            actor=workflow.Actor.staff(staff.id),
            now=now,
            reason=reason,
            detail={"routing_id": routing.id, "unit_id": routing.unit_id},
        )
        apply(routing, now)
        audit(
            session,
            at=now,
            actor=staff,
            action=f"routing_{action}",
            subject_kind="routing",
            subject_id=routing.id,
            detail={"case_id": case_row.id},
        )
    return routing
