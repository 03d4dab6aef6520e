"""From a web-form report to the partner unit's acknowledgement, through the JSON API only:
triage submitted as justified, routed on a legal basis, acknowledged by the unit's coordinator.
Each step is one status move on the timeline, with its actor, in the state machine's order."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bootstrap import Deps
from tests.integration.test_routing import (
    COORDINATOR,
    HOTLINE,
    KOEBENHAVN,
    add_unit,
    become,
    people,
    settings,  # noqa: F401  (fixture: a real mail server on loopback)
    smtp,  # noqa: F401  (fixture)
)
from tests.support.forms import open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.triage import triage_answers
from triage.models import Case, CaseEvent, CaseStatus, Deadline, DeadlineKind

pytestmark = pytest.mark.asyncio


async def _reported_case(client: Any, deps: Deps) -> int:
    token = await open_form(client)
    answers = valid_answers(municipality=str(KOEBENHAVN))
    reported = await client.post("/report/national", data={"csrf_token": token, **answers})
    assert reported.status == 200
    await run_jobs(deps)
    async with deps.sessions() as session:
        case_id = await session.scalar(select(func.max(Case.id)))
    assert case_id is not None
    return int(case_id)


async def test_triage_route_and_acknowledge_through_the_api(client: Any, deps: Deps) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    await people(deps, unit_id)
    case_id = await _reported_case(client, deps)

    headers = await become(client, HOTLINE)
    submitted = await client.post(
        f"/api/v1/cases/{case_id}/triage/submit",
        json={"revision": 0, "answers": triage_answers()},
        headers=headers,
    )
    assert submitted.status == 200, await submitted.text()

    proposal = await (await client.get(f"/api/v1/cases/{case_id}/routing-proposal")).json()
    assert proposal["proposal"]["unit"] == {"id": unit_id, "name": "Infohus København"}
    routed = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2", "unit_id": unit_id},
        headers=headers,
    )
    assert routed.status == 201, await routed.text()
    routing_id = (await routed.json())["id"]
    # Routing twice is refused by the state machine, and says why.
    twice = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2", "unit_id": unit_id},
        headers=headers,
    )
    assert twice.status == 409
    assert "routed" in (await twice.json())["error"]["message"]

    headers = await become(client, COORDINATOR)
    acknowledged = await client.post(f"/api/v1/routings/{routing_id}/acknowledge", headers=headers)
    assert acknowledged.status == 200, await acknowledged.text()

    async with deps.sessions() as session:
        case = await session.get_one(Case, case_id)
        moves = [
            (e.detail["from"], e.detail["to"], e.actor_id)
            for e in await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "status_changed")
                .order_by(CaseEvent.id)
            )
        ]
        triage_deadline = await session.scalar(
            select(Deadline).where(
                Deadline.case_id == case_id, Deadline.kind == DeadlineKind.TRIAGE
            )
        )
    assert case.status is CaseStatus.ACKNOWLEDGED
    assert case.subject_municipality == KOEBENHAVN
    assert [(source, target) for source, target, _ in moves] == [
        ("new", "in_triage"),
        ("in_triage", "justified"),
        ("justified", "routed"),
        ("routed", "acknowledged"),
    ]
    hotline_actor, coordinator_actor = moves[2][2], moves[3][2]
    assert hotline_actor is not None
    assert coordinator_actor is not None
    assert hotline_actor != coordinator_actor
    assert triage_deadline is not None
    assert triage_deadline.met_at == deps.clock.now()
