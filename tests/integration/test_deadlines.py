"""The triage and visitation clocks of real cases: started from the hotline's configuration,
stored with their clock mode, met by triage and by the visitation, kept through returns and
re-triage, never moved by a later configuration change; the queue follows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from access.models import Role
from access.service import Staff
from bootstrap import Deps
from clock import FrozenClock
from denmark.closed_days import Closures
from tests.support.forms import open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff, staff_api_headers
from tests.support.triage import triage_answers
from triage import deadline_settings, partner_units, routing_service, triage_service, workflow
from triage.deadline_config import DeadlineDraft, draft_of
from triage.models import Case, CaseStatus, ClockMode, Deadline, DeadlineKind, Routing
from triage.queue import deadline_counts

pytestmark = pytest.mark.asyncio

# The clock fixture: Monday 2 March 2026 09:30 UTC, 10:30 in Copenhagen.
MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
KOEBENHAVN = 101
LEGAL_BASIS = "Retsplejeloven § 115, stk. 2"


# --- helpers ------------------------------------------------------------------------------------


async def configure(deps: Deps, hotline: str = "national", **changes: Any) -> None:
    """Change the hotline's deadlines as the admin page does (the other fields as they are)."""
    async with deps.sessions() as session, session.begin():
        current = await session.run_sync(deadline_settings.load, hotline)
        given = draft_of(current.values)
        draft = DeadlineDraft(
            triage_hours=changes.get("triage_hours", given.triage_hours),
            visitation_hours=changes.get("visitation_hours", given.visitation_hours),
            clock_mode=changes.get("clock_mode", given.clock_mode),
            business_hours=changes.get("business_hours", given.business_hours),
            closures=changes.get("closures", given.closures),
            policies=changes.get("policies", given.policies),
        )
        await session.run_sync(
            deadline_settings.change, hotline, draft, actor=None, now=deps.clock.now()
        )


async def new_case(client: Any, deps: Deps) -> int:
    """A report through the public form, taken in by the worker."""
    token = await open_form(client)
    response = await client.post("/report/national", data={"csrf_token": token, **valid_answers()})
    assert response.status == 200
    await run_jobs(deps)
    async with deps.sessions() as session:
        case_id = await session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1))
    assert case_id is not None
    return int(case_id)


async def submit_triage(deps: Deps, case_id: int, staff_id: int, **answers: Any) -> None:
    async with deps.sessions() as session, session.begin():
        await triage_service.submit(
            session,
            case_id,
            triage_answers(**answers),
            revision=0,
            staff_id=staff_id,
            now=deps.clock.now(),
        )


async def move(deps: Deps, case_id: int, *targets: CaseStatus) -> None:
    async with deps.sessions() as session, session.begin():
        case = await session.get_one(Case, case_id, with_for_update=True)
        for target in targets:
            await workflow.change_status(
                session, case, target, actor=workflow.SYSTEM, now=deps.clock.now()
            )


async def deadlines_of(deps: Deps, case_id: int) -> dict[DeadlineKind, Deadline]:
    async with deps.sessions() as session:
        rows = await session.scalars(select(Deadline).where(Deadline.case_id == case_id))
        return {d.kind: d for d in rows}


async def clocks(deps: Deps, case_id: int) -> dict[DeadlineKind, tuple[Any, ...]]:
    """Each deadline as it runs: mode, start, due time, met."""
    return {
        kind: (d.clock_mode, d.started_at, d.due_at, d.met_at)
        for kind, d in (await deadlines_of(deps, case_id)).items()
    }


async def case_of(deps: Deps, case_id: int) -> Case:
    async with deps.sessions() as session:
        return await session.get_one(Case, case_id)


def staff(staff_id: int, role: Role, unit: int | None = None) -> Staff:
    return Staff(staff_id, f"user{staff_id}", f"User {staff_id}", role, 0, unit)


async def add_unit(deps: Deps) -> int:
    async with deps.sessions() as session, session.begin():
        unit = await partner_units.create_unit(
            session,
            partner_units.UnitData(
                name="Infohus København",
                kind="coordination_unit",
                email="infohus@example.dk",
                municipalities=(KOEBENHAVN,),
            ),
            staff=None,
            now=deps.clock.now(),
        )
        return unit.id


async def routed(deps: Deps, case_id: int, hotline_staff: Staff) -> int:
    routing = await routing_service.route(
        deps, case_id=case_id, legal_basis=LEGAL_BASIS, staff=hotline_staff
    )
    return routing.id


# --- intake -------------------------------------------------------------------------------------


async def test_intake_uses_the_hotlines_calendar_clock(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    case_id = await new_case(client, deps)
    triage = (await deadlines_of(deps, case_id))[DeadlineKind.TRIAGE]
    assert triage.clock_mode is ClockMode.CALENDAR
    assert triage.started_at == MONDAY
    assert triage.due_at == MONDAY + timedelta(hours=24)
    case = await case_of(deps, case_id)
    assert (case.queue_due_at, case.queue_deadline_kind) == (triage.due_at, DeadlineKind.TRIAGE)


async def test_intake_in_business_hours_gets_a_business_due_time(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    await configure(deps, clock_mode="business_hours")
    case_id = await new_case(client, deps)
    triage = (await deadlines_of(deps, case_id))[DeadlineKind.TRIAGE]
    assert triage.clock_mode is ClockMode.BUSINESS_HOURS
    # Received Monday 10:30: 5½ h on Monday, 8 on Tuesday and Wednesday, 2½ on Thursday.
    assert triage.due_at == datetime(2026, 3, 5, 9, 30, tzinfo=UTC)  # 10:30 in Copenhagen
    assert (await case_of(deps, case_id)).queue_due_at == triage.due_at
    # The other hotline keeps its own (calendar) configuration.
    async with deps.sessions() as session:
        other = await session.run_sync(deadline_settings.load, "copenhagen")
    assert other.config.mode is ClockMode.CALENDAR


# --- the visitation clock -----------------------------------------------------------------------


async def test_justifying_starts_the_visitation_clock_from_receipt(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    staff_id = create_staff(deps)
    case_id = await new_case(client, deps)
    clock.advance(timedelta(hours=5))  # triaged five hours after receipt
    await submit_triage(deps, case_id, staff_id)

    found = await deadlines_of(deps, case_id)
    assert found[DeadlineKind.TRIAGE].met_at == clock.now()
    visitation = found[DeadlineKind.VISITATION]
    # 48 hours from receipt, not from the triage: the action plan's rule.
    assert visitation.started_at == MONDAY
    assert visitation.due_at == MONDAY + timedelta(hours=48)
    assert visitation.clock_mode is ClockMode.CALENDAR
    assert visitation.met_at is None
    case = await case_of(deps, case_id)
    assert case.status is CaseStatus.JUSTIFIED
    assert (case.queue_due_at, case.queue_deadline_kind) == (
        visitation.due_at,
        DeadlineKind.VISITATION,
    )


async def test_the_visitation_clock_regardless_of_severity(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    """An acute case gets the same 48 hours; a case not justified gets none."""
    staff_id = create_staff(deps)
    acute = await new_case(client, deps)
    await submit_triage(
        deps,
        acute,
        staff_id,
        acute_danger="yes",
        police_contact="police_contacted",
        police_contact_by="Vagthavende",
        police_contact_at="2026-03-02T10:10",
    )
    visitation = (await deadlines_of(deps, acute))[DeadlineKind.VISITATION]
    assert visitation.due_at == MONDAY + timedelta(hours=48)
    assert (await case_of(deps, acute)).is_acute

    dismissed = await new_case(client, deps)
    await submit_triage(
        deps,
        dismissed,
        staff_id,
        outcome="not_justified",
        not_justified_reason="Ingen tegn på radikalisering.",
    )
    assert set(await deadlines_of(deps, dismissed)) == {DeadlineKind.TRIAGE}
    case = await case_of(deps, dismissed)
    assert case.status is CaseStatus.CLOSED


async def test_business_hours_visitation(client: Any, deps: Deps, clock: FrozenClock) -> None:
    staff_id = create_staff(deps)
    await configure(deps, clock_mode="business_hours")
    case_id = await new_case(client, deps)
    clock.advance(timedelta(hours=2))
    await submit_triage(deps, case_id, staff_id)
    visitation = (await deadlines_of(deps, case_id))[DeadlineKind.VISITATION]
    assert visitation.clock_mode is ClockMode.BUSINESS_HOURS
    assert visitation.started_at == MONDAY
    # From Monday 10:30: 5½ + 8 × 5 working days (Tue–Fri, Mon) = 45½, then 2½ on Tuesday.
    assert visitation.due_at == datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


async def test_recording_the_visitation_meets_it(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    hotline_id = create_staff(deps)
    unit_id = await add_unit(deps)
    coordinator_id = create_staff(
        deps, username="kasper", role=Role.COORDINATOR, partner_unit_id=unit_id
    )
    case_id = await new_case(client, deps)
    await submit_triage(deps, case_id, hotline_id)
    routing_id = await routed(deps, case_id, staff(hotline_id, Role.HOTLINE))
    coordinator = staff(coordinator_id, Role.COORDINATOR, unit_id)
    await routing_service.acknowledge(deps, staff=coordinator, routing_id=routing_id)
    # Routing and acknowledging do not meet it.
    assert (await deadlines_of(deps, case_id))[DeadlineKind.VISITATION].met_at is None

    clock.advance(timedelta(hours=40))
    await routing_service.record_visitation(
        deps,
        staff=coordinator,
        routing_id=routing_id,
        responsible_agency="SSP København",
        next_step="Samtale med familien i næste uge.",
    )
    visitation = (await deadlines_of(deps, case_id))[DeadlineKind.VISITATION]
    assert visitation.met_at == clock.now()
    # Nothing runs any more: the case stays in the queue (visited) but is neither due soon
    # nor overdue, whatever time passes.
    case = await case_of(deps, case_id)
    assert case.status is CaseStatus.VISITED
    assert (case.queue_due_at, case.queue_deadline_kind) == (visitation.due_at, None)
    clock.advance(timedelta(days=3))
    async with deps.sessions() as session:
        counts = await deadline_counts(session, now=clock.now(), at_risk_window=timedelta(hours=4))
    assert (counts.overdue, counts.at_risk) == (0, 0)

    await routing_service.close(deps, staff=coordinator, routing_id=routing_id)
    case = await case_of(deps, case_id)
    assert case.closed_at is not None
    assert case.queue_deadline_kind is DeadlineKind.VISITATION  # a closed case keeps the kind
    assert (await deadlines_of(deps, case_id))[DeadlineKind.VISITATION].met_at == visitation.met_at


async def test_a_returned_or_retriaged_case_keeps_its_visitation_deadline(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    hotline_id = create_staff(deps)
    unit_id = await add_unit(deps)
    coordinator_id = create_staff(
        deps, username="kasper", role=Role.COORDINATOR, partner_unit_id=unit_id
    )
    case_id = await new_case(client, deps)
    await submit_triage(deps, case_id, hotline_id)
    first = (await deadlines_of(deps, case_id))[DeadlineKind.VISITATION]

    # The unit returns it as the wrong unit: justified again, same clock.
    clock.advance(timedelta(hours=10))
    routing_id = await routed(deps, case_id, staff(hotline_id, Role.HOTLINE))
    await routing_service.return_to_hotline(
        deps,
        staff=staff(coordinator_id, Role.COORDINATOR, unit_id),
        routing_id=routing_id,
        reason="Personen bor ikke i København.",
    )
    # Sent back to triage and justified again, with a configuration change between: the
    # deadline still counts from receipt, as it was given.
    clock.advance(timedelta(hours=10))
    await move(deps, case_id, CaseStatus.IN_TRIAGE)
    await configure(deps, visitation_hours="12", clock_mode="business_hours")
    await move(deps, case_id, CaseStatus.JUSTIFIED)

    found = await deadlines_of(deps, case_id)
    visitation = found[DeadlineKind.VISITATION]
    assert (visitation.id, visitation.started_at, visitation.due_at, visitation.clock_mode) == (
        first.id,
        MONDAY,
        MONDAY + timedelta(hours=48),
        ClockMode.CALENDAR,
    )
    assert visitation.met_at is None
    async with deps.sessions() as session:
        rows = await session.scalars(select(Deadline).where(Deadline.case_id == case_id))
        assert len(list(rows)) == 2  # one triage, one visitation
    assert (await case_of(deps, case_id)).queue_due_at == visitation.due_at


async def test_a_configuration_change_moves_no_running_deadline(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    staff_id = create_staff(deps)
    before = await new_case(client, deps)
    justified = await new_case(client, deps)
    await submit_triage(deps, justified, staff_id)
    old = {case_id: await clocks(deps, case_id) for case_id in (before, justified)}

    await configure(
        deps,
        triage_hours="4",
        visitation_hours="8",
        clock_mode="business_hours",
        business_hours={"mon": "08:00-09:00"},
        closures=Closures(constitution_day=True),
    )
    for case_id in (before, justified):
        assert await clocks(deps, case_id) == old[case_id]
    assert (await case_of(deps, before)).queue_due_at == MONDAY + timedelta(hours=24)

    # Deadlines started after the change follow it: 4 business hours of Mondays 08–09.
    after = await new_case(client, deps)
    triage = (await deadlines_of(deps, after))[DeadlineKind.TRIAGE]
    assert triage.clock_mode is ClockMode.BUSINESS_HOURS
    assert triage.due_at == datetime(2026, 3, 30, 7, tzinfo=UTC)  # 09:00 CEST, the 4th Monday
    # ... and a case justified now gets the new visitation rule, from its receipt.
    await submit_triage(deps, before, staff_id)
    visitation = (await deadlines_of(deps, before))[DeadlineKind.VISITATION]
    assert visitation.clock_mode is ClockMode.BUSINESS_HOURS
    assert visitation.due_at > triage.due_at


async def test_reopening_restarts_triage_by_the_hotlines_rule(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    staff_id = create_staff(deps, username="lene")
    case_id = await new_case(client, deps)
    await submit_triage(
        deps,
        case_id,
        staff_id,
        outcome="not_justified",
        not_justified_reason="Ingen tegn på radikalisering.",
    )
    await configure(deps, triage_hours="2")
    clock.advance(timedelta(hours=30))
    headers = await staff_api_headers(client, deps)
    response = await client.post(
        f"/api/v1/cases/{case_id}/status",
        json={"status": "in_triage", "note": "Reporteren har ringet igen."},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    triage = (await deadlines_of(deps, case_id))[DeadlineKind.TRIAGE]
    assert (triage.started_at, triage.due_at, triage.met_at) == (
        clock.now(),
        clock.now() + timedelta(hours=2),
        None,
    )
    case = await case_of(deps, case_id)
    assert (case.queue_due_at, case.queue_deadline_kind) == (triage.due_at, DeadlineKind.TRIAGE)


# --- the queue ----------------------------------------------------------------------------------


async def test_the_queue_counts_and_shows_running_deadlines_only(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    hotline_id = create_staff(deps, username="lene")
    unit_id = await add_unit(deps)
    coordinator_id = create_staff(
        deps, username="kasper", role=Role.COORDINATOR, partner_unit_id=unit_id
    )
    coordinator = staff(coordinator_id, Role.COORDINATOR, unit_id)
    # Three cases received Monday 10:30 local: one justified and routed, one visited, one
    # justified and then merged away (closed).
    routed_case, visited_case = await new_case(client, deps), await new_case(client, deps)
    for case_id in (routed_case, visited_case):
        await submit_triage(deps, case_id, hotline_id)
        await routed(deps, case_id, staff(hotline_id, Role.HOTLINE))
    async with deps.sessions() as session:
        routing_id = await session.scalar(select(Routing.id).where(Routing.case_id == visited_case))
    assert routing_id is not None
    await routing_service.acknowledge(deps, staff=coordinator, routing_id=routing_id)
    await routing_service.record_visitation(
        deps,
        staff=coordinator,
        routing_id=routing_id,
        responsible_agency="SSP",
        next_step="Møde med skolen.",
    )
    # A case received 46 hours later, still in triage.
    clock.advance(timedelta(hours=46))
    fresh = await new_case(client, deps)

    headers = await staff_api_headers(client, deps)

    async def queue() -> dict[str, Any]:
        response = await client.get("/api/v1/queue", headers=headers)
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    # 46 h after receipt: the visitation deadline of the routed case is due in 2 h (due soon);
    # the visited case has nothing running; the fresh one's triage is 24 h away.
    body = await queue()
    items = {item["id"]: item for item in body["items"]}
    assert items[routed_case]["deadline_kind"] == "visitation"
    assert items[routed_case]["clock_mode"] == "calendar"
    assert items[routed_case]["deadline_state"] == "at_risk"
    assert items[visited_case]["deadline_state"] == "none"
    assert items[visited_case]["deadline_kind"] is None
    assert items[fresh]["deadline_kind"] == "triage"
    assert items[fresh]["deadline_state"] == "on_time"
    assert body["counts"] == {"overdue": 0, "at_risk": 1}
    due_soon = await client.get("/api/v1/queue?due=at_risk", headers=headers)
    assert [item["id"] for item in (await due_soon.json())["items"]] == [routed_case]

    # Past 48 h the visitation is overdue; the visited case still counts nowhere.
    clock.advance(timedelta(hours=3))
    body = await queue()
    assert body["counts"] == {"overdue": 1, "at_risk": 0}
    overdue = await client.get("/api/v1/queue?due=overdue", headers=headers)
    assert [item["id"] for item in (await overdue.json())["items"]] == [routed_case]

    # The page says the same in words, with the kind of each clock.
    page = await client.get("/queue?lang=en", headers=headers)
    text = await page.text()
    assert "Overdue: 1" in text
    assert "Due soon: 0" in text
    assert "Visitation:" in text
    assert "No deadline running" in text

    # And the case page shows the visitation clock with its mode.
    case_page = await client.get(f"/cases/{routed_case}?lang=en")
    text = await case_page.text()
    assert 'id="visitation-deadline"' in text
    assert 'id="deadline-visitation"' in text
    assert "Calendar hours" in text
