"""`hotline demo`: varied contacts and cases, loaded once, that the worker and the queue accept."""

from __future__ import annotations

import stat
import wave
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import demo
from access.models import AuditEntry, PartnerUnit, StaffUser
from access.service import log_in
from bootstrap import Deps
from clock import FrozenClock
from denmark.municipalities import by_code
from intake.concern_form import AGE_BANDS, SAFETY_ANSWERS, SAFETY_QUESTIONS, validate
from intake.models import (
    Call,
    CallOutcome,
    Channel,
    Chat,
    ChatStatus,
    Contact,
    Hotline,
    Message,
    MessageDirection,
    PhoneStatus,
    Recording,
    ReporterRole,
)
from notifications import oncall_service
from notifications.models import OncallOverride, OncallSchedule
from notifications.oncall import OverrideReason
from settings import Settings, load_settings
from tests.support.jobs import run_jobs_now
from triage.models import (
    ActorKind,
    Case,
    CaseEvent,
    CaseStatus,
    ClockMode,
    Deadline,
    DeadlineKind,
    NoticeStatus,
    Routing,
)
from triage.queue import deadline_counts, open_cases
from worker import Sweeper

pytestmark = pytest.mark.asyncio

FORM_KEYS = {
    "form_version",
    "relation",
    "person_age",
    "municipality",
    "observed",
    "observed_when",
    "how_known",
    "change_over_time",
    "safety",
}
SUMMARY_KEYS = {"form_version", "summary", "relation", "person_age", "municipality", "safety"}
# What the call's end adds, as intake/calls.py sets it.
CALL_KEYS = {"call_back", "voicemail"}
ROUTING_STATES = (CaseStatus.JUSTIFIED, CaseStatus.ROUTED, CaseStatus.ACKNOWLEDGED)
LOGIN_LINE = "Log in at http://127.0.0.1:8080/login as demo / demo-hotline-2026"


async def _contacts(deps: Deps) -> list[Contact]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(Contact).order_by(Contact.id))).all())


async def _cases(deps: Deps) -> list[Case]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(Case).order_by(Case.id))).all())


async def _events(deps: Deps) -> list[CaseEvent]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(CaseEvent).order_by(CaseEvent.id))).all())


async def _row_counts(deps: Deps) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with deps.sessions() as session:
        for model in (
            Contact,
            Case,
            CaseEvent,
            Deadline,
            StaffUser,
            AuditEntry,
            Message,
            Call,
            Recording,
            Chat,
            OncallSchedule,
            OncallOverride,
        ):
            total = await session.scalar(select(func.count()).select_from(model))
            counts[model.__tablename__] = total or 0
    return counts


async def test_demo_covers_hotlines_channels_languages_and_states(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    message = demo.load(settings, clock=clock)

    contacts = await _contacts(deps)
    assert len(contacts) >= 30
    assert f"Demo data loaded: {len(contacts)} contacts" in message
    assert LOGIN_LINE in message
    for hotline in ("national", "copenhagen"):
        channels = {c.channel for c in contacts if c.hotline_id == hotline}
        assert channels == set(Channel), hotline
    assert {c.language for c in contacts} == {"da", "en"}
    assert {c.reporter_role for c in contacts} == set(ReporterRole)
    assert any(c.is_acute for c in contacts)
    assert not all(c.is_acute for c in contacts)
    anonymous = [c for c in contacts if c.anonymous]
    assert anonymous
    for contact in anonymous:
        assert contact.reporter_name is None
        assert contact.reporter_organisation is None
        assert contact.reporter_phone_raw is None
        assert contact.reporter_phone_e164 is None
        assert contact.reporter_email is None
        assert contact.reporter_phone_status in (PhoneStatus.NONE, PhoneStatus.WITHHELD)
    assert all(c.receipt_hash for c in contacts)
    assert len({c.receipt_hash for c in contacts}) == len(contacts)

    now = clock.now()
    grace = timedelta(seconds=settings.sweep_grace_seconds)
    assert all(now - timedelta(days=5) <= c.received_at <= now - grace for c in contacts)
    waiting = [c for c in contacts if c.processed_at is None]
    assert 2 <= len(waiting) <= 3
    assert all(c.case_id is None for c in waiting)
    assert all(now - c.received_at < timedelta(hours=1) for c in waiting)
    taken_in = [c for c in contacts if c.processed_at is not None]
    assert all(c.reporter_phone_status is not PhoneStatus.PENDING for c in taken_in)
    assert any(
        c.reporter_phone_e164 and not c.reporter_phone_e164.startswith("+45") for c in taken_in
    )

    cases = await _cases(deps)
    assert len(cases) == len(taken_in)
    statuses = Counter(case.status for case in cases)
    assert set(statuses) == {
        CaseStatus.NEW,
        CaseStatus.IN_TRIAGE,
        CaseStatus.JUSTIFIED,
        CaseStatus.ROUTED,
        CaseStatus.ACKNOWLEDGED,
        CaseStatus.CLOSED,
    }
    assert any(case.assignee_id is not None and case.status is CaseStatus.NEW for case in cases)
    # Some open cases are past their 24-hour triage deadline, some are not yet.
    open_ = [case for case in cases if case.closed_at is None]
    assert any(case.queue_due_at < now for case in open_)
    assert any(case.queue_due_at > now for case in open_)


async def test_staff_actions_are_on_the_timeline_and_deadlines(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    demo.load(settings, clock=clock)
    cases = {case.id: case for case in await _cases(deps)}
    events = await _events(deps)
    async with deps.sessions() as session:
        deadlines = {
            d.case_id: d
            for d in (
                await session.scalars(select(Deadline).where(Deadline.kind == DeadlineKind.TRIAGE))
            ).all()
        }
        staff_ids = set((await session.scalars(select(StaffUser.id))).all())
    by_case: dict[int, list[CaseEvent]] = {}
    for event in events:
        by_case.setdefault(event.case_id, []).append(event)
        assert event.at <= clock.now()
        if event.actor_kind is ActorKind.STAFF:
            assert event.actor_id in staff_ids

    for case_id, case in cases.items():
        kinds = [e.kind for e in by_case[case_id]]
        assert kinds[:2] == ["contact_received", "case_opened"]
        changes = [e.detail for e in by_case[case_id] if e.kind == "status_changed"]
        assigned = [e.detail for e in by_case[case_id] if e.kind == "assigned"]
        assert assigned == ([] if case.assignee_id is None else [{"assignee_id": case.assignee_id}])
        times = [e.at for e in by_case[case_id]]
        assert times == sorted(times)
        deadline = deadlines[case_id]
        if case.status is CaseStatus.NEW:
            assert changes == []
        if case.status is CaseStatus.IN_TRIAGE:
            assert changes == [{"from": "new", "to": "in_triage", "action": "start_triage"}]
            assert deadline.met_at is None
        routed = case.status in (CaseStatus.ROUTED, CaseStatus.ACKNOWLEDGED)
        if case.status is CaseStatus.JUSTIFIED or routed:
            actions = [c["action"] for c in changes]
            expected = ["start_triage", "justify", "route", "acknowledge"]
            assert actions == expected[: 2 + list(ROUTING_STATES).index(case.status)]
            assert deadline.met_at is not None
            assert case.subject_municipality is not None
        if case.status is CaseStatus.CLOSED:
            assert case.closed_at is not None
            assert deadline.met_at == case.closed_at
            assert changes[0] == {"from": "new", "to": "in_triage", "action": "start_triage"}
            assert changes[-1]["to"] == "closed"
            assert changes[-1]["reason"] in ("not_justified", "advice_only")
            assert case.closed_reason == changes[-1]["reason"]
    outcomes = {e.detail.get("reason") for e in events if e.kind == "status_changed"} - {None}
    assert outcomes == {"not_justified", "advice_only"}


async def test_answers_keep_to_the_form_and_carry_no_beliefs(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    demo.load(settings, clock=clock)
    municipalities = {"unknown", *map(str, by_code())}
    for contact in await _contacts(deps):
        answers: dict[str, Any] = contact.answers
        if contact.channel is Channel.WEB_FORM:
            assert set(answers) == FORM_KEYS
            assert answers["observed"]
        elif contact.channel is Channel.PHONE:
            assert SUMMARY_KEYS <= set(answers) <= SUMMARY_KEYS | CALL_KEYS
            assert answers["summary"]
        else:
            assert set(answers) == SUMMARY_KEYS
            assert answers["summary"]
        assert answers["form_version"] == 1
        assert answers["person_age"] in AGE_BANDS
        assert answers["municipality"] in municipalities
        assert set(answers["safety"]) == set(SAFETY_QUESTIONS)
        assert set(answers["safety"].values()) <= set(SAFETY_ANSWERS)
        assert contact.is_acute == ("yes" in answers["safety"].values())

    # Every web-form contact is exactly what the real form would have stored.
    for item in demo.DEMO_CONTACTS:
        if item.channel is not Channel.WEB_FORM:
            continue
        fields = {
            "reporter_role": item.role.value,
            "anonymous": "yes" if item.anonymous else "",
            "name": item.name or "",
            "organisation": item.organisation or "",
            "phone": item.phone or "",
            "email": item.email or "",
            **{k: v or "" for k, v in item.answers.items() if isinstance(v, str)},
            **{f"safety_{q}": a for q, a in item.answers["safety"].items()},
        }
        result = validate(fields)
        assert result.report is not None, result.errors
        assert result.report.answers == item.answers
        assert result.report.is_acute == item.is_acute


async def test_loading_twice_adds_nothing(
    settings: Settings, test_environ: dict[str, str], clock: FrozenClock, deps: Deps
) -> None:
    demo.load(settings, clock=clock)
    before = await _row_counts(deps)
    assert before["staff_users"] == len(demo.DEMO_STAFF) == 5
    assert before["oncall_schedules"] == 2
    recordings = sorted((settings.data_dir / "recordings").iterdir())

    clock.advance(timedelta(hours=1))
    elsewhere = load_settings(
        {**test_environ, "HOTLINE_PUBLIC_BASE_URL": "https://hotline.example.dk/"}
    )
    message = demo.load(elsewhere, clock=clock)

    assert "already loaded" in message
    assert "Log in at https://hotline.example.dk/login as demo / demo-hotline-2026" in message
    assert await _row_counts(deps) == before
    assert sorted((settings.data_dir / "recordings").iterdir()) == recordings


async def test_the_worker_takes_in_the_waiting_contacts(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    demo.load(settings, clock=clock)
    waiting = [c.id for c in await _contacts(deps) if c.processed_at is None]
    cases_before = len(await _cases(deps))

    clock.advance(timedelta(seconds=settings.sweep_grace_seconds + 1))
    sweeper = Sweeper(deps.job_context())
    sweeper.sweep(take_turn=False)
    assert sweeper.found["unprocessed_contacts"] == len(waiting)
    run_jobs_now(deps)

    contacts = await _contacts(deps)
    assert all(c.processed_at is not None and c.case_id is not None for c in contacts)
    assert all(c.reporter_phone_status is not PhoneStatus.PENDING for c in contacts)
    assert len(await _cases(deps)) == cases_before + len(waiting)


async def test_demo_staff_log_in_and_the_queue_holds_only_open_cases(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    demo.load(settings, clock=clock)
    async with deps.sessions() as session, session.begin():
        for username in ("demo", "kirsten", "jonas", "infohus", "lise"):
            token = await log_in(
                session,
                username=username,
                password=demo.DEMO_PASSWORD,
                now=clock.now(),
                lifetime=timedelta(hours=settings.session_hours),
            )
            assert token, username
        page = await open_cases(session, limit=200)

    cases = await _cases(deps)
    open_ids = {case.id for case in cases if case.closed_at is None}
    assert len(open_ids) < len(cases)
    assert {row.case_id for row in page.rows} == open_ids
    assert all(row.status is not CaseStatus.CLOSED for row in page.rows)
    assert page.next_cursor is None
    # Acute cases come first.
    ranks = [not row.is_acute for row in page.rows]
    assert ranks == sorted(ranks)
    assert {row.assignee for row in page.rows} >= {"Demo Medarbejder", "Kirsten Dalgaard", None}


async def test_sms_and_whatsapp_contacts_have_threads_with_replies(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    message = demo.load(settings, clock=clock)
    assert "SMS/WhatsApp threads:" in message
    contacts = {c.id: c for c in await _contacts(deps)}
    async with deps.sessions() as session:
        messages = list((await session.scalars(select(Message).order_by(Message.id))).all())
    by_contact: dict[int, list[Message]] = {}
    for item in messages:
        by_contact.setdefault(item.contact_id, []).append(item)
        assert item.created_at <= clock.now()

    threaded = {Channel.SMS, Channel.WHATSAPP}
    for contact in contacts.values():
        if contact.channel is Channel.WEB_CHAT:
            continue  # its transcript: test_web_chats_have_transcripts
        if contact.channel not in threaded:
            assert contact.id not in by_contact
            assert contact.hotline_address is None
            continue
        thread = by_contact[contact.id]
        assert thread[0].direction is MessageDirection.INBOUND
        number = "+4541749090" if contact.hotline_id == "national" else "+4533172929"
        prefix = "whatsapp:" if contact.channel is Channel.WHATSAPP else ""
        assert contact.hotline_address == prefix + number

    replies = [
        m
        for m in messages
        if m.direction is MessageDirection.OUTBOUND and contacts[m.contact_id].channel in threaded
    ]
    assert {m.status for m in replies} >= {"delivered", "failed"}
    assert all(m.staff_id is not None for m in replies)
    failed = [m for m in replies if m.status == "failed"]
    assert len(failed) == 1
    assert failed[0].error_code
    assert failed[0].error_message
    assert {contacts[m.contact_id].channel for m in replies} == threaded
    events = [e for e in await _events(deps) if e.kind == "message_received"]
    assert events
    assert all(set(e.detail) == {"channel", "message_id"} for e in events)


async def test_phone_contacts_have_calls_and_voicemails_have_audio(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    message = demo.load(settings, clock=clock)
    contacts = {c.id: c for c in await _contacts(deps)}
    async with deps.sessions() as session:
        calls = list((await session.scalars(select(Call).order_by(Call.id))).all())
        recordings = list((await session.scalars(select(Recording))).all())
        national = await session.get_one(Hotline, "national")

    phone = {c.id for c in contacts.values() if c.channel is Channel.PHONE}
    assert sorted(call.contact_id for call in calls) == sorted(phone)
    assert {call.outcome for call in calls} == set(CallOutcome)
    assert "Calls: " in message
    for call in calls:
        contact = contacts[call.contact_id]
        assert call.provider_id.startswith("CA")
        assert len(call.provider_id) == 34
        assert call.status == "completed"
        assert call.started_at == contact.received_at
        assert call.ended_at is not None
        assert call.started_at < call.ended_at <= clock.now()
        assert call.language == contact.language
        assert call.outside_hours == (call.outcome is CallOutcome.OUTSIDE_HOURS)
        if call.outcome is CallOutcome.ANSWERED:
            assert call.answered_by in ("duty-1", "duty-2")
            assert call.answered_at is not None
            assert call.duration_seconds
            assert call.accepted_leg_id
        else:
            assert call.answered_by is None
        if call.outcome in (CallOutcome.MISSED, CallOutcome.OUTSIDE_HOURS):
            assert contact.answers["call_back"] is (contact.reporter_phone_e164 is not None)
        else:
            assert "call_back" not in contact.answers

    voicemails = {c.id for c in calls if c.outcome is CallOutcome.VOICEMAIL}
    assert voicemails
    assert {r.call_id for r in recordings} == voicemails
    for recording in recordings:
        assert recording.provider_id.startswith("RE")
        assert recording.file_path == f"recordings/{recording.provider_id}.wav"
        assert recording.fetched_at is not None
        assert recording.deleted_at_provider is not None
        assert recording.next_attempt_at is None
        path = settings.data_dir / recording.file_path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with wave.open(str(path), "rb") as audio:
            assert audio.getnframes() > 0
            assert audio.getnframes() / audio.getframerate() == recording.duration_seconds

    # A demo database must never ring a stranger: no on-duty phones are invented.
    assert national.duty_numbers == []


async def test_web_chats_have_transcripts(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    message = demo.load(settings, clock=clock)
    contacts = {c.id: c for c in await _contacts(deps)}
    async with deps.sessions() as session:
        chats = list((await session.scalars(select(Chat).order_by(Chat.id))).all())
        messages = list((await session.scalars(select(Message).order_by(Message.id))).all())

    web_chats = {c.id for c in contacts.values() if c.channel is Channel.WEB_CHAT}
    assert sorted(chat.contact_id for chat in chats) == sorted(web_chats)
    assert {chat.status for chat in chats} == {ChatStatus.ENDED, ChatStatus.MISSED}
    assert "Web chats: " in message
    for chat in chats:
        contact = contacts[chat.contact_id]
        lines = [m for m in messages if m.contact_id == chat.contact_id]
        assert lines
        assert lines[0].direction is MessageDirection.INBOUND
        assert all(m.provider_id is None for m in lines)
        assert chat.started_at == contact.received_at
        assert chat.ended_at is not None
        assert chat.ended_at <= clock.now()
        assert contact.processed_at is not None
        assert contact.processed_at > chat.ended_at
        staff_lines = [m for m in lines if m.direction is MessageDirection.OUTBOUND]
        if chat.status == ChatStatus.MISSED:
            assert chat.end_reason == "no_staff"
            assert chat.accepted_by is None
            assert staff_lines == []
            # The visitor left a number to call back on.
            assert contact.reporter_phone_status is PhoneStatus.VALID
            assert not contact.anonymous
        else:
            assert chat.end_reason in ("visitor", "staff")
            assert chat.accepted_by is not None
            assert staff_lines
            assert all(m.staff_id == chat.accepted_by for m in staff_lines)
            assert all(m.status == "delivered" for m in staff_lines)
    assert {contacts[chat.contact_id].language for chat in chats} == {"da", "en"}


async def test_routed_cases_went_to_the_unit_of_the_persons_municipality(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    message = demo.load(settings, clock=clock)
    assert "Partner units: Infohus København (101)" in message
    cases = {case.id: case for case in await _cases(deps)}
    async with deps.sessions() as session:
        units = {u.id: u for u in (await session.scalars(select(PartnerUnit))).all()}
        routings = list((await session.scalars(select(Routing))).all())
        coordinator = await session.scalar(select(StaffUser).where(StaffUser.username == "infohus"))

    assert {u.name for u in units.values()} >= {"Infohus København", "Infohus Frederiksberg"}
    assert all(u.email.endswith(".invalid") for u in units.values())
    assert coordinator is not None
    assert units[coordinator.partner_unit_id or 0].municipalities == [101]
    routed = {
        c.id for c in cases.values() if c.status in (CaseStatus.ROUTED, CaseStatus.ACKNOWLEDGED)
    }
    assert routed
    assert {r.case_id for r in routings} == routed
    for routing in routings:
        case = cases[routing.case_id]
        assert routing.municipality in units[routing.unit_id].municipalities
        assert routing.municipality == case.subject_municipality
        assert routing.legal_basis in settings.legal_bases
        # Nothing for the sweeper to mail: the notices are shown as logged in console mode.
        assert routing.notice_status is NoticeStatus.NOT_SENT
        acknowledged = case.status is CaseStatus.ACKNOWLEDGED
        assert (routing.acknowledged_by == coordinator.id) is acknowledged
    justified = [c for c in cases.values() if c.status is CaseStatus.JUSTIFIED]
    assert justified
    # Waiting to be routed, and a unit covers its municipality (Frederiksberg: not Copenhagen).
    assert all(
        any(c.subject_municipality in u.municipalities for u in units.values()) for c in justified
    )


async def test_cases_needing_local_action_have_a_visitation_clock(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    message = demo.load(settings, clock=clock)
    now = clock.now()
    cases = {case.id: case for case in await _cases(deps)}
    async with deps.sessions() as session:
        visitation = {
            d.case_id: d
            for d in (
                await session.scalars(
                    select(Deadline).where(Deadline.kind == DeadlineKind.VISITATION)
                )
            ).all()
        }
        counts = await deadline_counts(session, now=now, at_risk_window=timedelta(hours=4))
    needing = {c.id for c in cases.values() if c.status in ROUTING_STATES}
    assert needing
    assert set(visitation) == needing
    for case_id in needing:
        case, deadline = cases[case_id], visitation[case_id]
        # 48 calendar hours from receipt (the hotlines' default), not yet met.
        assert deadline.started_at == case.received_at
        assert deadline.due_at == case.received_at + timedelta(hours=48)
        assert deadline.clock_mode is ClockMode.CALENDAR
        assert deadline.met_at is None
        # The queue goes by it: triage was met when the case was justified.
        assert (case.queue_due_at, case.queue_deadline_kind) == (
            deadline.due_at,
            DeadlineKind.VISITATION,
        )
    # Some visitations are past their 48 hours, some still running, as in real life.
    assert any(visitation[c].due_at < now for c in needing)
    assert any(visitation[c].due_at > now for c in needing)
    # Closed cases have nothing running; the demo's count is the queue's.
    assert all(c.queue_deadline_kind is not None for c in cases.values())
    overdue = sum(1 for c in cases.values() if c.closed_at is None and c.queue_due_at <= now)
    assert counts.overdue == overdue
    assert f"{overdue} open cases past a deadline" in message


async def test_each_hotline_has_an_on_call_schedule_that_can_page_nobody(
    settings: Settings, clock: FrozenClock, deps: Deps
) -> None:
    message = demo.load(settings, clock=clock)
    assert "On call: a weekly rotation per hotline with team lead lise" in message
    assert "hotline staff set USERNAME --phone" in message

    async with deps.sessions() as session:
        staff = {u.username: u for u in (await session.scalars(select(StaffUser))).all()}
        schedules = (await session.scalars(select(OncallSchedule))).all()
        overrides = (await session.scalars(select(OncallOverride))).all()
        answers = {
            hotline: await oncall_service.who_is_on_call(session, hotline, clock.now())
            for hotline in ("national", "copenhagen")
        }
        chains = [
            await oncall_service.escalation_chain(session, hotline, clock.now())
            for hotline in ("national", "copenhagen")
        ]
    # No staff phone numbers (none can be known to be fictional), but e-mail nobody receives.
    assert all(user.phone_e164 is None for user in staff.values())
    assert {user.email for user in staff.values()} == {f"{name}@example.org" for name in staff}
    assert {s.hotline_id for s in schedules} == {"national", "copenhagen"}
    hotline_staff = {staff[name].id for name in ("demo", "kirsten", "jonas")}
    for schedule in schedules:
        assert set(schedule.participants) == hotline_staff
        assert schedule.team_lead_id == staff["lise"].id
        assert schedule.active
        oncall_service.rotation_of(schedule)  # the core accepts it
    assert {o.schedule_id for o in overrides} == {s.id for s in schedules}
    assert all(o.reason is OverrideReason.ABSENCE and o.starts_at > clock.now() for o in overrides)
    for answer in answers.values():
        assert answer.now is not None
        assert answer.now.id in hotline_staff
        assert answer.next is not None
        assert clock.now() < answer.next.at <= clock.now() + timedelta(days=7)
        assert answer.next.staff is not None
        assert answer.next.staff.id in hotline_staff - {answer.now.id}
        assert answer.team_lead is not None
        assert answer.team_lead.id == staff["lise"].id
    assert chains == [[], []]
