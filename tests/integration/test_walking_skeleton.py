"""Form → commit → job → case, on whatever backend the run uses (PostgreSQL + Redis in CI)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bootstrap import Deps
from intake.models import Contact, PhoneStatus
from jobqueue import take_in_contacts
from tests.support.forms import open_form, receipt_code, valid_answers
from tests.support.jobs import run_jobs
from triage.models import Case, CaseEvent, CaseStatus, Deadline, DeadlineKind

pytestmark = pytest.mark.asyncio


async def test_form_becomes_a_case_with_a_triage_deadline(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    response = await client.post("/report/national", data={"csrf_token": token, **valid_answers()})
    assert response.status == 200
    assert len(receipt_code(await response.text()).replace("-", "")) == 20

    await run_jobs(deps)

    async with deps.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
        case = (await session.scalars(select(Case))).one()
        deadline = (await session.scalars(select(Deadline))).one()
        events = (await session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id))).all()
    assert contact.case_id == case.id
    assert contact.reporter_phone_status is PhoneStatus.VALID
    assert contact.reporter_phone_e164 == "+4520123456"
    assert contact.reporter_phone_raw is None
    assert case.status is CaseStatus.NEW
    assert case.reference == f"NAT-2026-{case.id:05d}"
    assert deadline.kind is DeadlineKind.TRIAGE
    assert (deadline.due_at - contact.received_at).total_seconds() == 24 * 3600
    assert case.queue_due_at == deadline.due_at
    assert list(events) == ["contact_received", "case_opened"]


async def test_running_the_job_twice_changes_nothing(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    await client.post("/report/national", data={"csrf_token": token, **valid_answers()})
    await run_jobs(deps)
    async with deps.sessions() as session:
        contact_id = await session.scalar(select(Contact.id))
    assert contact_id is not None
    # The same job again, as rq might after a crash.
    deps.queue.enqueue(take_in_contacts([contact_id]))
    await run_jobs(deps)
    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 1
        assert await session.scalar(select(func.count()).select_from(CaseEvent)) == 2
        assert await session.scalar(select(func.count()).select_from(Deadline)) == 1
