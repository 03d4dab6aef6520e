"""Contacts from the same reporter are proposed for linking to their open case; staff decide."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bootstrap import Deps
from intake.models import Contact
from tests.support.forms import open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.staff import logged_in, login_token
from triage.models import Case, CaseEvent, CaseStatus, Deadline, LinkProposal, LinkStatus

pytestmark = pytest.mark.asyncio


async def report(client: Any, deps: Deps, **answers: str) -> int:
    """Submit the form and take it in; returns the new contact's case id."""
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(**answers)}
    )
    assert response.status == 200
    await run_jobs(deps)
    async with deps.sessions() as session:
        return int(await session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0)


async def proposals(deps: Deps) -> list[LinkProposal]:
    async with deps.sessions() as session:
        return list(await session.scalars(select(LinkProposal).order_by(LinkProposal.id)))


async def test_the_same_phone_written_differently_is_proposed(client: Any, deps: Deps) -> None:
    first = await report(client, deps, phone="20 12 34 56")
    second = await report(client, deps, phone="+45 20 12 34 56")

    (proposal,) = await proposals(deps)
    assert proposal.case_id == first
    assert proposal.reason.value == "same_phone"
    assert proposal.status is LinkStatus.PROPOSED
    async with deps.sessions() as session:
        contact = await session.get_one(Contact, proposal.contact_id)
        kinds = (
            await session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == second))
        ).all()
    assert contact.case_id == second
    assert "link_proposed" in kinds


async def test_the_same_email_is_proposed_and_unrelated_reports_are_not(
    client: Any, deps: Deps
) -> None:
    first = await report(client, deps, phone="", email="Mor@Example.dk")
    await report(client, deps, phone="31 45 67 89")  # someone else
    await report(client, deps, phone="", email="mor@example.dk")

    (proposal,) = await proposals(deps)
    assert (proposal.case_id, proposal.reason.value) == (first, "same_email")


async def test_anonymous_reports_and_closed_cases_get_no_proposals(client: Any, deps: Deps) -> None:
    first = await report(client, deps, phone="20 12 34 56")
    await report(client, deps, anonymous="yes", phone="20 12 34 56")
    assert await proposals(deps) == []

    async with deps.sessions() as session, session.begin():
        case = await session.get_one(Case, first)
        case.closed_at = deps.clock.now()
        case.status = CaseStatus.CLOSED
    await report(client, deps, phone="20 12 34 56")
    assert await proposals(deps) == []


async def api_token(client: Any) -> dict[str, str]:
    return {"X-CSRF-Token": await login_token(client)}


async def test_confirming_moves_the_contact_and_closes_the_emptied_case(
    client: Any, deps: Deps
) -> None:
    first = await report(client, deps, phone="20 12 34 56")
    second = await report(client, deps, phone="20123456")
    await logged_in(client, deps)
    (proposal,) = await proposals(deps)

    listed = await (await client.get(f"/api/v1/cases/{first}/link-proposals")).json()
    from_other_side = await (await client.get(f"/api/v1/cases/{second}/link-proposals")).json()
    assert [p["id"] for p in listed["items"]] == [proposal.id]
    assert [p["id"] for p in from_other_side["items"]] == [proposal.id]

    headers = await api_token(client)
    response = await client.post(f"/api/v1/link-proposals/{proposal.id}/confirm", headers=headers)
    assert response.status == 200
    assert (await response.json())["status"] == "confirmed"

    async with deps.sessions() as session:
        contact = await session.get_one(Contact, proposal.contact_id)
        emptied = await session.get_one(Case, second)
        deadline = await session.scalar(select(Deadline).where(Deadline.case_id == second))
        target_events = (
            await session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == first))
        ).all()
    assert contact.case_id == first
    assert emptied.status is CaseStatus.CLOSED
    assert emptied.closed_at == deps.clock.now()
    assert deadline is not None
    assert deadline.met_at == deps.clock.now()
    assert "contact_linked" in target_events

    queue = await (await client.get("/api/v1/queue")).json()
    assert [item["id"] for item in queue["items"]] == [first]

    again = await client.post(f"/api/v1/link-proposals/{proposal.id}/confirm", headers=headers)
    assert again.status == 409
    assert "already confirmed" in (await again.json())["error"]["message"]


async def test_rejecting_keeps_both_cases(client: Any, deps: Deps) -> None:
    first = await report(client, deps, phone="20 12 34 56")
    second = await report(client, deps, phone="20 12 34 56")
    await logged_in(client, deps)
    (proposal,) = await proposals(deps)

    response = await client.post(
        f"/api/v1/link-proposals/{proposal.id}/reject", headers=await api_token(client)
    )
    assert response.status == 200
    async with deps.sessions() as session:
        contact = await session.get_one(Contact, proposal.contact_id)
        open_cases = (await session.scalars(select(Case.id).where(Case.closed_at.is_(None)))).all()
    assert contact.case_id == second
    assert sorted(open_cases) == sorted([first, second])
    assert (await proposals(deps))[0].status is LinkStatus.REJECTED


async def test_deciding_needs_staff_a_token_and_an_existing_proposal(
    client: Any, deps: Deps
) -> None:
    anonymous = await client.post("/api/v1/link-proposals/1/confirm")
    assert anonymous.status == 401

    await logged_in(client, deps)
    without_token = await client.post("/api/v1/link-proposals/1/confirm")
    assert without_token.status == 403
    missing = await client.post(
        "/api/v1/link-proposals/999/confirm", headers=await api_token(client)
    )
    assert missing.status == 404
    not_a_number = await client.get("/api/v1/cases/abc/link-proposals")
    assert not_a_number.status == 404
