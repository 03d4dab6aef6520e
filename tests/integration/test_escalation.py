"""The alert engine with a controllable clock on the run's database and Redis: a case walks
through 24/36/44/48 h and each step fires exactly once; repeats move up the chain; an
acknowledgement by SMS reply, by keypress (signed webhooks played by the Twilio stub) or in the
app stops them; meeting the deadline stops the rest; Twilio failing with 500s, refusals and
timeouts is retried and falls back, every provider request accounted for by an attempt row.

Each `tick` is what a running worker does: one sweep (the real queries), then the jobs it
enqueued, in rq's worker, until the queue is empty.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from access.models import PartnerUnit, Role, UnitKind
from bootstrap import Deps, build_deps
from clock import FrozenClock
from intake.models import Contact
from integrations.twilio.alert_calls import TwilioAlertCaller
from integrations.twilio.client import rest_client
from jobqueue import set_job_context
from notifications import alert_engine, alert_rules
from notifications.alert_metrics import failed_alert_attempts_by_channel
from notifications.alert_models import AlertAttempt
from notifications.alert_stop import stop_for_met_deadlines_sync
from notifications.jobs import escalate_deadlines
from notifications.ports import OutgoingEmail, SendFailed, SentEmail
from server import create_app
from settings import load_settings
from tests.support.escalation import (
    NATIONAL_NUMBER,
    PASSWORD,
    Snapshot,
    Team,
    make_team,
    snapshot,
    visitation_case,
)
from tests.support.forms import csrf_token
from tests.support.jobs import run_jobs_now
from tests.support.messaging import inbound_fields, post_signed
from tests.support.openapi import assert_matches, served_document
from tests.support.staff import create_staff, log_in
from tests.support.twilio_stub import (
    Delay,
    ServerError,
    TwilioError,
    TwilioStub,
    running_stub,
    stub_environ,
)
from triage.models import Case, Deadline
from worker import Sweeper

pytestmark = pytest.mark.asyncio


@dataclass
class RecordingEmail:
    """The EmailSender port: keeps each e-mail; `outcomes` answer in turn (None: accepted)."""

    sent: list[OutgoingEmail] = field(default_factory=list)
    outcomes: list[SendFailed | None] = field(default_factory=list)

    def send(self, message: OutgoingEmail) -> SentEmail:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.sent.append(message)
        return SentEmail(status="sent")


@pytest_asyncio.fixture
async def stub() -> AsyncIterator[TwilioStub]:
    async with running_stub() as running:
        yield running


@pytest.fixture
def mail() -> RecordingEmail:
    return RecordingEmail()


@pytest_asyncio.fixture
async def deps(
    test_environ: dict[str, str],
    clock: FrozenClock,
    clean_database: None,
    stub: TwilioStub,
    mail: RecordingEmail,
) -> AsyncIterator[Deps]:
    """Twilio configured against the local stub (real twilio-python), e-mails recorded, and
    alert calls that give up after a second (so a stub that hangs is a timeout here)."""
    settings = load_settings({**test_environ, **stub_environ(stub.url)})
    built = build_deps(
        settings,
        clock=clock,
        email=mail,
        alert_caller=TwilioAlertCaller(rest_client(settings, timeout=1)),
    )
    yield built
    await built.aclose()


@pytest_asyncio.fixture
async def client(deps: Deps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(deps, in_process_worker=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@dataclass(frozen=True)
class World:
    team: Team
    case_id: int
    deadline_id: int
    start: datetime

    def at(self, hours: float, minutes: float = 0, seconds: float = 0) -> datetime:
        return self.start + timedelta(hours=hours, minutes=minutes, seconds=seconds)


@pytest.fixture
def world(deps: Deps, clock: FrozenClock) -> World:
    start = clock.now()
    with deps.job_context().transaction() as session:
        team = make_team(session, start)
    with deps.job_context().transaction() as session:
        case_id, deadline_id = visitation_case(session, started_at=start, assignee_id=team.anne)
    return World(team, case_id, deadline_id, start)


def _tick(deps: Deps) -> int:
    found = Sweeper(deps.job_context()).sweep(take_turn=False)
    run_jobs_now(deps)
    return found


async def tick(deps: Deps, clock: FrozenClock, at: datetime | None = None) -> None:
    """Move the clock (if given), then sweep and run every job, as a running worker would."""
    if at is not None:
        clock.set(at)
    await asyncio.to_thread(_tick, deps)


def state(deps: Deps, world: World) -> Snapshot:
    with deps.job_context().transaction() as session:
        return snapshot(session, world.case_id)


def snapshot_reference(deps: Deps, world: World) -> str:
    with deps.job_context().transaction() as session:
        return session.get_one(Case, world.case_id).reference


def external(shot: Snapshot, alert_id: int) -> list[tuple[str, int, str]]:
    """(recipient name, round, channel) of an alert's attempts outside the app."""
    return sorted(
        (str(a["recipient"]), a["round"], a["channel"])
        for a in shot.attempts_of(alert_id)
        if a["channel"] != "app"
    )


def sends_add_up(stub: TwilioStub, shot: Snapshot) -> None:
    """Exactly once per recorded try: every SMS and call the stub was asked for is a try of an
    attempt row, and every one it made is the provider id of exactly one attempt."""
    for channel, route, made in (
        ("sms", "messages.create", stub.messages),
        ("voice", "calls.create", stub.calls),
    ):
        rows = [a for a in shot.attempts if a["channel"] == channel]
        assert len(stub.requests_to(route)) == sum(a["tries"] for a in rows), channel
        ids = [a["provider_id"] for a in rows if a["provider_id"]]
        assert len(ids) == len(set(ids)), channel
        assert set(ids) == set(made), channel


# --- the walk through a 48-hour deadline ---------------------------------------------------------


async def test_a_case_walks_through_24_36_44_48_hours_and_each_step_fires_once(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub, mail: RecordingEmail
) -> None:
    team = world.team
    await tick(deps, clock)
    planned = state(deps, world)
    assert [(s["name"], s["status"], s["due_at"]) for s in planned.steps] == [
        ("reminder", "pending", world.at(24)),
        ("warning", "pending", world.at(36)),
        ("approaching", "pending", world.at(44)),
        ("overdue", "pending", world.at(48)),
    ]

    await tick(deps, clock, world.at(23, 59, 59))
    assert state(deps, world).alerts == []

    # 24 h: a reminder to the assignee, in the app and by e-mail.
    await tick(deps, clock, world.at(24))
    shot = state(deps, world)
    assert shot.step("reminder")["status"] == "fired"
    assert shot.step("reminder")["fired_at"] == world.at(24)
    reminder = shot.alert("reminder")
    assert sorted((a["recipient"], a["channel"], a["status"]) for a in shot.attempts) == [
        (team.anne, "app", "shown"),
        (team.anne, "email", "sent"),
    ]
    assert [m.to for m in mail.sent] == ["anne@example.org"]
    reference = snapshot_reference(deps, world)
    text = mail.sent[0].text
    assert f"sag {reference}, påmindelse om visitationsfristen." in text
    assert f"OK {reminder['code']}" in text
    assert f"/cases/{world.case_id}" in text

    # The same moment again, and the job run twice by hand: nothing new.
    await tick(deps, clock)
    await asyncio.to_thread(_run_escalation_twice, deps, world.deadline_id)
    assert state(deps, world) == shot

    # 36 h: a warning to the team lead by SMS.
    await tick(deps, clock, world.at(36))
    shot = state(deps, world)
    warning = shot.alert("warning")
    assert external(shot, warning["id"]) == [(str(team.lise), 0, "sms")]
    [sms] = stub.messages.values()
    assert sms["to"] == team.phone(team.lise)
    assert sms["from"] == NATIONAL_NUMBER
    assert f"Reply OK {warning['code']} to acknowledge." in sms["body"]
    assert "visitation deadline warning" in sms["body"]

    # 44 h: on call now (Bo) gets a call and an SMS; the alert repeats.
    await tick(deps, clock, world.at(44))
    shot = state(deps, world)
    approaching = shot.alert("approaching")
    assert external(shot, approaching["id"]) == [
        (str(team.bo), 0, "sms"),
        (str(team.bo), 0, "voice"),
    ]
    assert approaching["next_round_at"] == world.at(44, 15)
    [call] = stub.calls.values()
    assert call["to"] == team.phone(team.bo)
    assert call["_url"].startswith("https://hotline.example.dk/twilio/alerts/voice/")

    # 48 h: overdue to on call and the team lead; "approaching" hands over to it.
    await tick(deps, clock, world.at(48))
    shot = state(deps, world)
    overdue = shot.alert("overdue")
    assert shot.alert("approaching")["status"] == "stopped"
    assert shot.alert("approaching")["stop_reason"] == "superseded"
    assert external(shot, overdue["id"]) == sorted(
        [
            (str(team.bo), 0, "sms"),
            (str(team.bo), 0, "voice"),
            (str(team.lise), 0, "sms"),
            (str(team.lise), 0, "voice"),
        ]
    )
    assert [s["status"] for s in shot.steps] == ["fired"] * 4
    assert [a["step"] for a in shot.alerts] == ["reminder", "warning", "approaching", "overdue"]
    assert len({a["code"] for a in shot.alerts}) == 4
    assert all(a["status"] == "sent" for a in shot.attempts if a["channel"] in ("sms", "voice"))
    sends_add_up(stub, shot)
    # No text carries anything but the reference, the kind, the code and the link.
    for message in stub.messages.values():
        assert reference in message["body"]


def _run_at_once(deps: Deps, deadline_id: int, workers: int) -> list[BaseException]:
    set_job_context(deps.job_context())
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            escalate_deadlines([deadline_id])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        set_job_context(None)
    return errors


def _run_escalation_twice(deps: Deps, deadline_id: int) -> None:
    set_job_context(deps.job_context())
    try:
        escalate_deadlines([deadline_id])
        escalate_deadlines([deadline_id])
    finally:
        set_job_context(None)


async def test_two_workers_firing_the_same_deadline_at_once_fire_each_step_once(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    # Redis lost nothing, but the sweeper ran on two workers: the same job, twice, at once.
    clock.set(world.at(44))  # three steps due together (after an outage)
    errors = await asyncio.to_thread(_run_at_once, deps, world.deadline_id, 4)
    assert errors == []
    shot = state(deps, world)
    assert [(s["name"], s["status"]) for s in shot.steps] == [
        ("reminder", "fired"),
        ("warning", "fired"),
        ("approaching", "fired"),
        ("overdue", "pending"),
    ]
    assert [a["step"] for a in shot.alerts] == ["reminder", "warning", "approaching"]
    assert len(stub.requests_to("calls.create")) == 1
    assert len(stub.requests_to("messages.create")) == 2  # warning to Lise, approaching to Bo
    sends_add_up(stub, shot)


# --- repeats and the chain ---------------------------------------------------------------------


async def test_an_unanswered_alert_repeats_every_15_minutes_and_moves_up_the_chain(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    team = world.team
    await tick(deps, clock, world.at(44))
    approaching = state(deps, world).alert("approaching")

    def who(shot: Snapshot) -> list[tuple[int, int]]:
        return sorted(
            {
                (a["round"], a["recipient"])
                for a in shot.attempts_of(approaching["id"])
                if a["channel"] == "voice"
            }
        )

    expected = [(0, team.bo)]
    for minutes, person in ((15, team.bo), (30, team.carl), (45, team.carl), (60, team.lise)):
        # Just before the round: nothing; at it: one round, to the next person after 30 min.
        await tick(deps, clock, world.at(44, minutes) - timedelta(seconds=1))
        assert who(state(deps, world)) == expected
        await tick(deps, clock, world.at(44, minutes))
        await tick(deps, clock)
        expected.append((len(expected), person))
        assert who(state(deps, world)) == expected
    shot = state(deps, world)
    assert shot.alert("approaching")["rounds"] == 5
    assert shot.alert("approaching")["chain_position"] == 2  # the last in the chain keeps it
    # Each round: a call and an SMS to its one person (plus the app).
    assert len(shot.attempts_of(approaching["id"], channel="sms")) == 5
    assert len(shot.attempts_of(approaching["id"], channel="app")) == 5
    sends_add_up(stub, shot)


async def test_a_worker_back_after_an_hour_sends_only_the_round_due_now(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    await tick(deps, clock, world.at(44))
    await tick(deps, clock, world.at(45, 5))  # rounds 1–4 were missed while no worker ran
    shot = state(deps, world)
    approaching = shot.alert("approaching")
    assert sorted({a["round"] for a in shot.attempts_of(approaching["id"])}) == [0, 4]
    assert approaching["next_round_at"] == world.at(45, 15)  # the grid, not "now + 15 min"


# --- acknowledgements ------------------------------------------------------------------------


async def test_an_sms_reply_ok_code_from_the_recipient_acknowledges_and_stops_repeats(
    client: Any, deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    team = world.team
    await tick(deps, clock, world.at(44))
    code = state(deps, world).alert("approaching")["code"]
    clock.set(world.at(44, 3))

    fields = inbound_fields(f"ok {code}", sender=team.phone(team.bo), to=NATIONAL_NUMBER)
    response = await post_signed(client, "/twilio/messages", fields)
    assert response.status == 200
    assert "Acknowledged: case NAT-2026-" in await response.text()
    shot = state(deps, world)
    approaching = shot.alert("approaching")
    assert approaching["status"] == "acknowledged"
    assert (approaching["acknowledged_by"], approaching["acknowledged_how"]) == (team.bo, "sms")
    assert approaching["acknowledged_at"] == world.at(44, 3)
    assert approaching["next_round_at"] is None

    # Twilio retries the webhook; Bo sends it again: nothing changes.
    again = await post_signed(client, "/twilio/messages", fields)
    assert "already acknowledged" in await again.text()
    second = inbound_fields(f"OK {code}", sender=team.phone(team.bo), to=NATIONAL_NUMBER)
    assert (
        "already acknowledged"
        in await (await post_signed(client, "/twilio/messages", second)).text()
    )
    for minutes in (15, 30, 45):
        await tick(deps, clock, world.at(44, minutes))
    after = state(deps, world)
    assert after.alert("approaching") == approaching
    assert after.attempts == shot.attempts
    # Nobody became a reporter: no contact was opened by these replies.
    with deps.job_context().transaction() as session:
        assert session.scalars(select(Contact.id)).all() == []


async def test_ok_code_from_a_colleague_the_alert_was_not_sent_to_is_an_ordinary_message(
    client: Any, deps: Deps, clock: FrozenClock, world: World
) -> None:
    team = world.team
    await tick(deps, clock, world.at(44))
    code = state(deps, world).alert("approaching")["code"]  # sent to Bo only
    fields = inbound_fields(f"OK {code}", sender=team.phone(team.carl), to=NATIONAL_NUMBER)
    response = await post_signed(client, "/twilio/messages", fields)
    assert response.status == 200
    assert "Acknowledged" not in await response.text()
    assert state(deps, world).alert("approaching")["status"] == "open"


async def test_ok_code_from_a_number_that_is_no_staff_members_is_an_ordinary_message(
    client: Any, deps: Deps, clock: FrozenClock, world: World
) -> None:
    await tick(deps, clock, world.at(44))
    code = state(deps, world).alert("approaching")["code"]
    fields = inbound_fields(f"OK {code}", sender="+4520999999", to=NATIONAL_NUMBER)
    assert (await post_signed(client, "/twilio/messages", fields)).status == 200
    assert state(deps, world).alert("approaching")["status"] == "open"
    with deps.job_context().transaction() as session:
        assert len(session.scalars(select(Contact.id)).all()) == 1


async def test_pressing_1_on_the_alert_call_acknowledges_and_a_replay_changes_nothing(
    client: Any, deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    team = world.team
    await tick(deps, clock, world.at(44))
    [sid] = stub.calls
    clock.set(world.at(44, 1))
    call = await stub.simulate_call(sid, local_base_url=str(client.make_url("")), digits=["1"])
    assert [d.result.status for d in call.statuses] == [204] * len(call.statuses)
    assert "Case N A T" in call.twiml[0].result.text or "Sag N A T" in call.twiml[0].result.text
    shot = state(deps, world)
    approaching = shot.alert("approaching")
    assert approaching["status"] == "acknowledged"
    assert (approaching["acknowledged_by"], approaching["acknowledged_how"]) == (team.bo, "voice")
    [voice] = shot.attempts_of(approaching["id"], channel="voice")
    assert voice["provider_status"] == "completed"

    replayed = await call.keypresses[0].replay()
    assert replayed.status == 200
    assert "Tak" in replayed.text  # still this attempt's acknowledgement
    await tick(deps, clock, world.at(44, 15))
    assert state(deps, world) == shot


async def test_acknowledging_in_the_app_stops_repeats(
    client: Any, deps: Deps, clock: FrozenClock, world: World
) -> None:
    team = world.team
    await tick(deps, clock, world.at(44))
    approaching = state(deps, world).alert("approaching")
    assert (await log_in(client, username="anne", password=PASSWORD)).status == 303
    page = await client.get("/alerts")
    assert page.status == 200
    body = await page.text()
    assert snapshot_reference(deps, world) in body
    response = await client.post(
        f"/alerts/{approaching['id']}/acknowledge",
        data={"csrf_token": csrf_token(body)},
        allow_redirects=False,
    )
    assert response.status == 303
    acknowledged = state(deps, world).alert("approaching")
    assert (acknowledged["acknowledged_by"], acknowledged["acknowledged_how"]) == (team.anne, "app")
    await tick(deps, clock, world.at(44, 15))
    assert state(deps, world).alert("approaching")["rounds"] == 1


# --- meeting the deadline ----------------------------------------------------------------------


async def test_meeting_the_deadline_at_40_hours_stops_the_rest(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    await tick(deps, clock, world.at(36))
    clock.set(world.at(40))
    with deps.job_context().transaction() as session:
        session.execute(
            update(Deadline).where(Deadline.id == world.deadline_id).values(met_at=clock.now())
        )
        stop_for_met_deadlines_sync(session, world.case_id, clock.now())
    shot = state(deps, world)
    assert [(s["name"], s["status"], s["stop_reason"]) for s in shot.steps] == [
        ("reminder", "fired", None),
        ("warning", "fired", None),
        ("approaching", "stopped", "met"),
        ("overdue", "stopped", "met"),
    ]
    assert {a["status"] for a in shot.alerts} == {"stopped"}
    for hours in (44, 48, 49):
        await tick(deps, clock, world.at(hours))
    assert state(deps, world) == shot
    assert len(stub.requests_to("calls.create")) == 0


async def test_a_met_deadline_stops_even_when_the_meeting_code_forgot_to_say_so(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    await tick(deps, clock, world.at(44))
    with deps.job_context().transaction() as session:
        session.execute(
            update(Deadline).where(Deadline.id == world.deadline_id).values(met_at=clock.now())
        )
    await tick(deps, clock, world.at(44, 1))
    shot = state(deps, world)
    assert {a["status"] for a in shot.alerts} == {"stopped"}
    await tick(deps, clock, world.at(48))
    assert state(deps, world).step("overdue")["status"] == "stopped"
    assert len(stub.requests_to("calls.create")) == 1


# --- faults at the provider --------------------------------------------------------------------


async def test_twilio_500s_are_retried_with_backoff_and_a_refusal_falls_back_to_email(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub, mail: RecordingEmail
) -> None:
    team = world.team
    await tick(deps, clock, world.at(36))  # the reminder and the warning, before the faults
    mail.sent.clear()
    stub.fail_next("calls.create", ServerError(500), times=2)
    stub.fail_next("messages.create", TwilioError(21610, "opted out", 400))
    await tick(deps, clock, world.at(44))
    shot = state(deps, world)
    approaching = shot.alert("approaching")
    [voice] = shot.attempts_of(approaching["id"], channel="voice")
    assert (voice["status"], voice["tries"], voice["error_code"]) == ("pending", 1, "500")
    [sms] = shot.attempts_of(approaching["id"], channel="sms")
    assert (sms["status"], sms["error_code"]) == ("failed", "21610")
    [email] = shot.attempts_of(approaching["id"], channel="email")
    assert (email["status"], email["fallback_of"]) == ("sent", sms["id"])
    assert [m.to for m in mail.sent] == ["bo@example.org"]

    await tick(deps, clock, world.at(44, 0, 14))  # the backoff has not passed
    assert len(stub.requests_to("calls.create")) == 1
    await tick(deps, clock, world.at(44, 0, 15))
    await tick(deps, clock, world.at(44, 1, 0))
    shot = state(deps, world)
    [voice] = shot.attempts_of(approaching["id"], channel="voice")
    assert (voice["status"], voice["tries"]) == ("sent", 3)
    assert len(stub.calls) == 1
    assert external(shot, approaching["id"]) == [
        (str(team.bo), 0, "email"),
        (str(team.bo), 0, "sms"),
        (str(team.bo), 0, "voice"),
    ]
    sends_add_up(stub, shot)


async def test_timeouts_use_up_the_retries_and_the_alert_falls_back_to_email(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub, mail: RecordingEmail
) -> None:
    await tick(deps, clock, world.at(36))  # the reminder and the warning, before the faults
    mail.sent.clear()
    stub.fail_next("calls.create", Delay(3), times=3)
    stub.fail_next("messages.create", ServerError(503), times=3)
    await tick(deps, clock, world.at(44))
    await tick(deps, clock, world.at(44, 0, 15))
    await tick(deps, clock, world.at(44, 1, 0))
    shot = state(deps, world)
    approaching = shot.alert("approaching")
    by_channel = {a["channel"]: a for a in shot.attempts_of(approaching["id"])}
    assert (by_channel["voice"]["status"], by_channel["voice"]["tries"]) == ("failed", 3)
    assert by_channel["voice"]["error_code"] == "unreachable"
    assert (by_channel["sms"]["status"], by_channel["sms"]["tries"]) == ("failed", 3)
    assert by_channel["email"]["status"] == "sent"
    assert [m.to for m in mail.sent] == ["bo@example.org"]  # one e-mail, though both failed
    assert stub.calls == {}
    assert len(stub.requests_to("calls.create")) == 3
    sends_add_up(stub, shot)
    # What /metrics reports as delivery failures.
    async with deps.sessions() as session:
        assert await session.run_sync(failed_alert_attempts_by_channel) == {
            "voice": 1,
            "sms": 1,
            "email": 0,
        }


async def test_a_try_cut_off_by_a_crash_is_never_repeated_its_fallback_takes_over(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub, mail: RecordingEmail
) -> None:
    # The worker dies after committing "sending" and before the provider answered.
    clock.set(world.at(44))
    with deps.job_context().transaction() as session:
        attempt_ids = alert_engine.escalate_deadline(session, world.deadline_id, now=clock.now())
    with deps.job_context().transaction() as session:
        voice_id = session.scalar(
            select(AlertAttempt.id).where(
                AlertAttempt.id.in_(attempt_ids), AlertAttempt.channel == "voice"
            )
        )
        assert voice_id is not None
        claim = alert_engine.claim_try(
            session,
            voice_id,
            now=clock.now(),
            base_url="https://x.example",
            configured_caller_id=None,
        )
        assert claim.delivery is not None
    # The other attempts were made by the job too; the sweeper tries them after the grace.
    await tick(deps, clock, world.at(44) + alert_rules.FIRST_TRY_GRACE)
    shot = state(deps, world)
    approaching = shot.alert("approaching")
    [voice] = shot.attempts_of(approaching["id"], channel="voice")
    assert voice["status"] == "sending"
    await tick(deps, clock, world.at(44) + alert_rules.SENDING_TIMEOUT)
    shot = state(deps, world)
    by_channel = {a["channel"]: a for a in shot.attempts_of(approaching["id"])}
    assert (by_channel["voice"]["status"], by_channel["voice"]["tries"]) == ("unknown", 1)
    assert by_channel["voice"]["error_code"] == "interrupted"
    assert by_channel["sms"]["status"] == "sent"
    assert by_channel["email"]["fallback_of"] == voice_id
    assert by_channel["email"]["status"] == "sent"
    assert stub.requests_to("calls.create") == []  # never placed: the try was cut off before
    await tick(deps, clock, world.at(44, 14))
    assert state(deps, world).attempts == shot.attempts


# --- what staff see ----------------------------------------------------------------------------


async def _csrf_headers(client: Any, username: str) -> dict[str, str]:
    assert (await log_in(client, username=username, password=PASSWORD)).status == 303
    page = await client.get("/queue")
    assert page.status == 200
    return {"X-CSRF-Token": csrf_token(await page.text())}


async def test_the_case_page_shows_each_step_alert_attempt_and_acknowledgement(
    client: Any, deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    team = world.team
    stub.fail_next("messages.create", TwilioError(21610, "opted out", 400))
    await tick(deps, clock, world.at(44))
    code = state(deps, world).alert("approaching")["code"]
    fields = inbound_fields(f"OK {code}", sender=team.phone(team.bo), to=NATIONAL_NUMBER)
    assert (await post_signed(client, "/twilio/messages", fields)).status == 200

    assert (await log_in(client, username="anne", password=PASSWORD)).status == 303
    page = await client.get(f"/cases/{world.case_id}?lang=en")
    assert page.status == 200
    text = " ".join((await page.text()).split())
    assert "Escalation" in text
    for step in ("Reminder", "Warning", "Deadline approaching", "Deadline overdue"):
        assert f"Visitation deadline: {step}" in text
    assert text.count(">Fired ") == 3
    assert ">Pending<" in text  # overdue, at 48 h
    assert "Acknowledged by Bo by SMS reply" in text
    # The attempts: Bo's call, the refused SMS (its error code) and the e-mail instead.
    assert "Phone call" in text
    assert "21610" in text
    assert "E-mail" in text
    assert code not in text  # the code is for the SMS reply only

    danish = " ".join((await (await client.get(f"/cases/{world.case_id}?lang=da")).text()).split())
    assert "Eskalering" in danish
    assert "Kvitteret af Bo med sms-svar" in danish


async def test_the_queue_shows_waiting_alerts_and_the_api_lists_and_acknowledges_them(
    client: Any, deps: Deps, clock: FrozenClock, world: World
) -> None:
    team = world.team
    await tick(deps, clock, world.at(44))
    headers = await _csrf_headers(client, "bo")
    queue = await (await client.get("/queue?lang=en")).text()
    assert "Alerts waiting for acknowledgement: 3" in queue

    document = await served_document(client)
    response = await client.get("/api/v1/alerts")
    listing = await response.json()
    assert_matches(document, "GET", "/api/v1/alerts", response.status, listing)
    assert [a["step"] for a in listing["open"]] == ["approaching", "warning", "reminder"]
    approaching = listing["open"][0]
    assert (approaching["recipients"], approaching["mine"]) == (["Bo"], True)
    assert approaching["next_round_at"] == world.at(44, 15).isoformat().replace("+00:00", "Z")

    url = f"/api/v1/alerts/{approaching['id']}/acknowledge"
    assert (await client.post(url)).status == 403  # no CSRF header
    response = await client.post(url, headers=headers)
    body = await response.json()
    assert_matches(document, "POST", url, response.status, body)
    assert body == {"outcome": "acknowledged", "alert_id": approaching["id"]}
    again = await (await client.post(url, headers=headers)).json()
    assert again["outcome"] == "already"
    acknowledged = state(deps, world).alert("approaching")
    assert (acknowledged["acknowledged_by"], acknowledged["acknowledged_how"]) == (team.bo, "app")
    missing = await client.post("/api/v1/alerts/999999/acknowledge", headers=headers)
    assert missing.status == 404

    listing = await (await client.get("/api/v1/alerts")).json()
    assert [a["step"] for a in listing["closed"]] == ["approaching"]
    assert listing["closed"][0]["acknowledged_by"] == "Bo"


async def test_coordinators_see_no_alerts(client: Any, deps: Deps, world: World) -> None:
    with deps.job_context().transaction() as session:
        unit = PartnerUnit(
            name="Infohus",
            email="infohus@example.org",
            kind=UnitKind.COORDINATION_UNIT,
            municipalities=[101],
            active=True,
            created_at=world.start,
            updated_at=world.start,
        )
        session.add(unit)
        session.flush()
        unit_id = unit.id
    create_staff(
        deps,
        username="koordinator",
        password=PASSWORD,
        role=Role.COORDINATOR,
        partner_unit_id=unit_id,
    )
    assert (await log_in(client, username="koordinator", password=PASSWORD)).status == 303
    assert (await client.get("/alerts")).status == 403
    assert (await client.get("/api/v1/alerts")).status == 403


async def test_a_deadline_that_starts_again_is_planned_anew_and_the_old_plan_never_fires(
    deps: Deps, clock: FrozenClock, world: World, stub: TwilioStub
) -> None:
    # As a reopened case's deadline: started again, due again, not met.
    await tick(deps, clock, world.at(30))  # the reminder fired
    with deps.job_context().transaction() as session:
        session.execute(
            update(Deadline)
            .where(Deadline.id == world.deadline_id)
            .values(started_at=world.at(30), due_at=world.at(78))
        )
    await tick(deps, clock)
    shot = state(deps, world)
    old = [(s["name"], s["status"], s["stop_reason"]) for s in shot.steps[:4]]
    assert old == [
        ("reminder", "fired", None),
        ("warning", "stopped", "replanned"),
        ("approaching", "stopped", "replanned"),
        ("overdue", "stopped", "replanned"),
    ]
    assert [(s["name"], s["due_at"]) for s in shot.steps[4:]] == [
        ("reminder", world.at(54)),
        ("warning", world.at(66)),
        ("approaching", world.at(74)),
        ("overdue", world.at(78)),
    ]
    await tick(deps, clock, world.at(44))  # the old plan's approaching: nothing
    assert len(stub.requests_to("calls.create")) == 0
    await tick(deps, clock, world.at(54))
    assert state(deps, world).steps[4]["status"] == "fired"
