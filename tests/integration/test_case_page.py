"""The staff case page: contacts, threads, voicemails, link proposals, timeline; replies by form."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from access.models import AuditEntry, Role
from bootstrap import Deps
from intake import messaging
from intake.models import (
    Call,
    CallOutcome,
    Channel,
    Contact,
    Message,
    MessageDirection,
    PhoneStatus,
    Recording,
    ReporterRole,
)
from jobqueue import take_in_contacts
from tests.support.forms import csrf_token, open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.messaging import NATIONAL_NUMBER, REPORTER
from tests.support.staff import create_staff, log_in, logged_in
from triage.models import Case, LinkProposal, LinkStatus
from triage.timeline import note_message

pytestmark = pytest.mark.asyncio


async def sms(deps: Deps, body: str, sid: str) -> int:
    """An inbound SMS stored as the webhook would; returns its contact id."""
    async with deps.sessions() as session, session.begin():
        received = await messaging.receive_message(
            session,
            messaging.InboundMessage(Channel.SMS, REPORTER, NATIONAL_NUMBER, body, sid),
            now=deps.clock.now(),
            cipher=deps.cipher,
            timeline=note_message,
        )
    if received.new_contact:
        deps.enqueuer.submit(take_in_contacts, received.contact_id)
    await run_jobs(deps)
    return received.contact_id


async def case_of(deps: Deps, contact_id: int) -> int:
    async with deps.sessions() as session:
        contact = await session.get_one(Contact, contact_id)
        assert contact.case_id is not None
        return contact.case_id


async def report(client: Any, deps: Deps, **answers: str) -> int:
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(**answers)}
    )
    assert response.status == 200
    await run_jobs(deps)
    async with deps.sessions() as session:
        return int(await session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0)


async def page(client: Any, case_id: int) -> str:
    response = await client.get(f"/cases/{case_id}")
    assert response.status == 200, await response.text()
    return html.unescape(await response.text())


async def reply(client: Any, case_id: int, contact_id: int, body: str) -> Any:
    token = csrf_token(await page(client, case_id))
    return await client.post(
        f"/cases/{case_id}/contacts/{contact_id}/reply",
        data={"csrf_token": token, "body": body},
        allow_redirects=False,
    )


async def test_staff_only(client: Any, deps: Deps) -> None:
    response = await client.get("/cases/1", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")


async def test_an_sms_thread_and_a_reply_through_the_form(client: Any, deps: Deps) -> None:
    contact_id = await sms(deps, "Jeg er bekymret for min nabo.", "SMin1")
    case_id = await case_of(deps, contact_id)
    await logged_in(client, deps)

    shown = await page(client, case_id)
    assert "Jeg er bekymret for min nabo." in shown
    assert "SMS" in shown
    assert REPORTER in shown  # decrypted for staff

    response = await reply(client, case_id, contact_id, "Tak, vi ringer dig op.")
    assert response.status == 303
    assert response.headers["Location"].startswith(f"/cases/{case_id}")
    shown = await page(client, case_id)
    assert "Tak, vi ringer dig op." in shown
    assert "Venter på at blive sendt" in shown  # pending

    await run_jobs(deps)
    async with deps.sessions() as session:
        outbound = await session.scalar(
            select(Message).where(Message.direction == MessageDirection.OUTBOUND)
        )
        assert outbound is not None
        assert outbound.status in {"sent", "not_sent"}
    shown = await page(client, case_id)
    assert "Venter på at blive sendt" not in shown


async def test_a_refused_reply_explains_itself_and_keeps_the_text(client: Any, deps: Deps) -> None:
    contact_id = await sms(deps, "Hej", "SMin2")
    await sms(deps, "STOP", "SMin3")
    case_id = await case_of(deps, contact_id)
    await logged_in(client, deps)

    response = await reply(client, case_id, contact_id, "Må vi ringe?")
    assert response.status == 409
    shown = html.unescape(await response.text())
    assert "afmeldt" in shown.lower()
    assert "Må vi ringe?</textarea>" in shown
    response = await reply(client, case_id, contact_id, "   ")
    assert response.status == 400
    async with deps.sessions() as session:
        outbound = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.direction == MessageDirection.OUTBOUND)
        )
    assert outbound == 0

    english = await client.get(f"/cases/{case_id}?lang=en")
    assert english.status == 200
    token = csrf_token(await english.text())
    response = await client.post(
        f"/cases/{case_id}/contacts/{contact_id}/reply",
        data={"csrf_token": token, "body": "May we call?"},
    )
    assert response.status == 409
    assert "opted out" in html.unescape(await response.text())


async def test_web_form_answers_are_shown_decrypted(client: Any, deps: Deps) -> None:
    case_id = await report(client, deps, name="Mette Hansen", email="mette@example.dk")
    await logged_in(client, deps)
    shown = await page(client, case_id)
    assert "Mette Hansen" in shown
    assert "mette@example.dk" in shown
    assert "Hvad har du set eller hørt?" in shown
    assert valid_answers()["observed"] in shown
    assert "København" in shown  # municipality 101
    assert "Under 18" in shown
    # A web-form contact with a receipt code can be answered on the follow-up page.
    assert "/reply" in shown


async def test_a_voicemail_has_a_player(client: Any, deps: Deps) -> None:
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        contact = Contact(
            hotline_id="national",
            channel=Channel.PHONE,
            received_at=now,
            language="da",
            reporter_role=ReporterRole.UNKNOWN,
            anonymous=True,
            is_acute=False,
            reporter_phone_status=PhoneStatus.WITHHELD,
            answers={},
        )
        session.add(contact)
        await session.flush()
        call = Call(
            contact_id=contact.id,
            provider_id="CA1",
            status="completed",
            started_at=now,
            ended_at=now + timedelta(seconds=42),
            duration_seconds=42,
            outcome=CallOutcome.VOICEMAIL,
            language="da",
        )
        session.add(call)
        await session.flush()
        recording = Recording(
            contact_id=contact.id,
            call_id=call.id,
            provider_id="RE1",
            duration_seconds=30,
            received_at=now,
            file_path="recordings/re1.wav",
            content_type="audio/wav",
            fetched_at=now,
            attempts=0,
        )
        session.add(recording)
        await session.flush()
        contact_id, recording_id = contact.id, recording.id
    deps.enqueuer.submit(take_in_contacts, contact_id)
    await run_jobs(deps)
    case_id = await case_of(deps, contact_id)
    await logged_in(client, deps)
    shown = await page(client, case_id)
    assert f'<audio controls preload="none" src="/api/v1/recordings/{recording_id}/audio"' in shown
    assert "Telefonsvarer" in shown
    assert "42 sekunder" in shown
    assert "Anonym" in shown
    assert f'action="/cases/{case_id}/contacts/{contact_id}/reply"' not in shown  # not a call


async def test_confirming_a_link_proposal_on_the_page(client: Any, deps: Deps) -> None:
    first = await report(client, deps, phone="20 12 34 56")
    second = await report(client, deps, phone="+45 20 12 34 56")
    await logged_in(client, deps)
    shown = await page(client, second)
    async with deps.sessions() as session:
        proposal = await session.scalar(select(LinkProposal))
    assert proposal is not None
    assert f"/link-proposals/{proposal.id}/confirm" in shown
    response = await client.post(
        f"/cases/{second}/link-proposals/{proposal.id}/confirm",
        data={"csrf_token": csrf_token(shown)},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/cases/{second}"
    async with deps.sessions() as session:
        decided = await session.get_one(LinkProposal, proposal.id)
        contact = await session.get_one(Contact, proposal.contact_id)
    assert decided.status is LinkStatus.CONFIRMED
    assert contact.case_id == first
    shown = await page(client, first)
    assert "Henvendelse tilknyttet" in shown  # contact_linked on the timeline

    again = await client.post(
        f"/cases/{second}/link-proposals/{proposal.id}/reject",
        data={"csrf_token": csrf_token(shown)},
    )
    assert again.status == 409


async def test_each_view_is_audited_once_and_the_timeline_is_labelled(
    client: Any, deps: Deps
) -> None:
    contact_id = await sms(deps, "Første", "SMin4")
    await sms(deps, "Anden", "SMin5")
    case_id = await case_of(deps, contact_id)
    await logged_in(client, deps)
    shown = await page(client, case_id)
    await page(client, case_id)
    async with deps.sessions() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "read_case"))
        )
    assert len(entries) == 2
    assert {e.subject_id for e in entries} == {str(case_id)}
    assert {e.subject_kind for e in entries} == {"case"}
    assert "Sag oprettet" in shown
    assert "Besked modtaget" in shown
    assert shown.index("Sag oprettet") < shown.index("Besked modtaget")
    english = html.unescape(await (await client.get(f"/cases/{case_id}?lang=en")).text())
    assert "Case opened" in english
    assert "Message received" in english


async def test_an_unknown_case_is_404(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)
    response = await client.get("/cases/999999")
    assert response.status == 404


async def test_the_case_page_is_for_hotline_staff_only(client: Any, deps: Deps) -> None:
    create_staff(deps, username="infohus", role=Role.COORDINATOR)
    response = await log_in(client, username="infohus")
    assert response.status == 303
    page = await client.get("/cases/1", allow_redirects=False)
    assert page.status == 403
