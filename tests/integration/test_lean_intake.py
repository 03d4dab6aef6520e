"""The intake hot path: the lean row insert, batched take-in jobs, one bad contact in a batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text

from bootstrap import Deps
from db import RowInserter
from intake import concern_form, service
from intake.models import Channel, Contact, PhoneStatus, ReporterRole
from jobqueue import MAX_IDS_PER_JOB, in_chunks, take_in_contacts
from tests.support.forms import open_form, valid_answers
from tests.support.jobs import JobFailed, run_jobs
from triage import intake_flow
from triage.models import Case

pytestmark = pytest.mark.asyncio


async def stored_contact(deps: Deps, contacts: RowInserter, **answers: str) -> int:
    report = concern_form.validate(valid_answers(**answers)).report
    assert report is not None
    stored = await service.record_concern(
        contacts,
        report,
        hotline_id="copenhagen",
        language="en",
        now=deps.clock.now(),
        cipher=deps.cipher,
    )
    return stored.contact_id


async def test_the_row_insert_commits_encrypts_and_keeps_types(
    deps: Deps, contact_inserter: RowInserter
) -> None:
    contact_id = await stored_contact(
        deps, contact_inserter, phone="31 45 67 89", observed="Saw the flyer twice"
    )

    async with deps.engine.connect() as connection:
        raw = (
            await connection.execute(
                text("SELECT reporter_phone_raw, answers, channel, reporter_role FROM contacts")
            )
        ).one()
    # At rest: ciphertext, never the typed text; enums as their values.
    assert "31 45 67 89" not in raw.reporter_phone_raw
    assert "Saw the flyer" not in raw.answers
    assert (raw.channel, raw.reporter_role) == ("web_form", "relative")

    async with deps.sessions() as session:
        contact = await session.get_one(Contact, contact_id)
    assert contact.reporter_phone_raw == "31 45 67 89"
    assert contact.answers["observed"] == "Saw the flyer twice"
    assert contact.channel is Channel.WEB_FORM
    assert contact.reporter_role is ReporterRole.RELATIVE
    assert contact.reporter_phone_status is PhoneStatus.PENDING
    assert contact.received_at == deps.clock.now()


async def test_the_row_insert_refuses_unknown_columns(contact_inserter: RowInserter) -> None:
    with pytest.raises(ValueError, match="risk_score"):
        await contact_inserter.insert({"risk_score": 7})


async def test_a_burst_of_reports_becomes_batched_jobs(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    responses = await asyncio.gather(
        *(
            client.post("/report/national", data={"csrf_token": token, **valid_answers()})
            for _ in range(12)
        )
    )
    assert [r.status for r in responses] == [200] * 12
    await deps.enqueuer.drain()

    jobs = [deps.queue.rq.fetch_job(job_id) for job_id in deps.queue.rq.get_job_ids()]
    carried = sorted(contact_id for job in jobs if job for contact_id in job.args[0])
    async with deps.sessions() as session:
        contact_ids = sorted((await session.scalars(select(Contact.id))).all())
    # Every contact travels in exactly one job, and the burst needed fewer jobs than reports.
    assert carried == contact_ids
    assert len(jobs) < 12

    await run_jobs(deps)
    async with deps.sessions() as session:
        assert len((await session.scalars(select(Case.id))).all()) == 12


async def test_jobs_carry_at_most_the_maximum_ids() -> None:
    ids = list(range(1, 2 * MAX_IDS_PER_JOB + 2))
    chunks = list(in_chunks(ids))
    assert [len(c) for c in chunks] == [MAX_IDS_PER_JOB, MAX_IDS_PER_JOB, 1]
    assert [i for c in chunks for i in c] == ids
    with pytest.raises(ValueError, match="1 to"):
        take_in_contacts(ids)
    with pytest.raises(ValueError, match="1 to"):
        take_in_contacts([])


async def test_one_bad_contact_does_not_hold_up_its_batch(
    deps: Deps, contact_inserter: RowInserter, monkeypatch: pytest.MonkeyPatch
) -> None:
    good_before = await stored_contact(deps, contact_inserter)
    bad = await stored_contact(deps, contact_inserter)
    good_after = await stored_contact(deps, contact_inserter)
    real_take_in = intake_flow.take_in_contact

    def failing_for_bad(session: Any, contact_id: int, **kwargs: Any) -> int | None:
        if contact_id == bad:
            raise RuntimeError("simulated failure")
        return real_take_in(session, contact_id, **kwargs)

    monkeypatch.setattr(intake_flow, "take_in_contact", failing_for_bad)

    deps.queue.enqueue(take_in_contacts([good_before, bad, good_after]))
    with pytest.raises(JobFailed, match=f"contacts not taken in: \\[{bad}\\]"):
        await run_jobs(deps)

    async with deps.sessions() as session:
        processed = dict((await session.execute(select(Contact.id, Contact.processed_at))).all())
        cases = (await session.scalars(select(Case.id))).all()
    assert processed[good_before] is not None
    assert processed[good_after] is not None
    # Left whole for the sweeper: no case, not marked processed.
    assert processed[bad] is None
    assert len(cases) == 2
