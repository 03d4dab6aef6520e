"""Phone calls through the real app: Twilio's voice webhooks in, signed as Twilio signs them.

On-duty phones answer (or not) by pressing 1 in the whisper; voicemails are fetched by the real
job from the local Twilio stub and deleted there; time moves only with the frozen clock.
"""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
import structlog
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine, inspect, select, text

from access.models import AuditEntry
from bootstrap import Deps, build_deps
from clock import FrozenClock
from db import sync_url
from intake.models import (
    Call,
    CallerRole,
    CallOutcome,
    Channel,
    Contact,
    Hotline,
    PhoneStatus,
    Recording,
    ReporterRole,
)
from integrations.twilio.client import rest_client
from integrations.twilio.recordings import TwilioRecordingStore
from server import create_app
from settings import load_settings
from tests.support.jobs import run_jobs
from tests.support.messaging import NATIONAL_NUMBER, RecordingSender, post_signed
from tests.support.staff import logged_in
from tests.support.twilio_signing import ACCOUNT_SID, PUBLIC_BASE_URL
from tests.support.twilio_stub import ThreadedTwilioStub, new_sid, stub_environ, threaded_stub
from triage.models import Case
from worker import Sweeper

pytestmark = pytest.mark.asyncio

CALLER = "+4520123456"
CALLER_DIGITS = "20123456"
DUTY_ONE = "+4540123456"
DUTY_TWO = "+4530123456"


@pytest.fixture
def stub() -> Iterator[ThreadedTwilioStub]:
    with threaded_stub() as running:
        yield running


@pytest_asyncio.fixture
async def deps(
    test_environ: dict[str, str],
    clock: FrozenClock,
    clean_database: None,
    stub: ThreadedTwilioStub,
) -> AsyncIterator[Deps]:
    settings = load_settings({**test_environ, **stub_environ(stub.url)})
    client = rest_client(settings)
    built = build_deps(
        settings, clock=clock, sms=RecordingSender(), recordings=TwilioRecordingStore(client)
    )
    await set_duty(built, [DUTY_ONE, DUTY_TWO])
    yield built
    await set_duty(built, [])  # hotlines are reference data: leave them as found
    client.http_client.session.close()
    await built.aclose()


async def set_duty(deps: Deps, numbers: list[str]) -> None:
    async with deps.sessions() as session, session.begin():
        hotline = await session.get_one(Hotline, "national")
        hotline.duty_numbers = numbers


@pytest_asyncio.fixture
async def client(deps: Deps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(deps, in_process_worker=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


# --- helpers -------------------------------------------------------------------------------


def call_fields(sid: str, **extra: str) -> dict[str, str]:
    fields = {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CALLER,
        "To": NATIONAL_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    fields.update(extra)
    return fields


async def post(client: Any, path: str, fields: dict[str, str], expect: int = 200) -> str:
    response = await post_signed(client, path, fields)
    body = await response.text()
    assert response.status == expect, body
    return str(body)


async def menu(
    client: Any, sid: str, *, role: str = "2", anonymous: str = "2", **extra: str
) -> str:
    """Call in, choose a role and an anonymity answer; returns the routing TwiML."""
    welcome = await post(client, "/twilio/voice", call_fields(sid, **extra))
    assert "<Gather" in welcome
    await post(client, "/twilio/voice/role", call_fields(sid, Digits=role, **extra))
    return await post(
        client, "/twilio/voice/anonymity", call_fields(sid, Digits=anonymous, **extra)
    )


async def ended(client: Any, sid: str, status: str = "completed", duration: str = "42") -> None:
    await post(
        client,
        "/twilio/voice/status",
        call_fields(sid, CallStatus=status, CallDuration=duration),
        expect=204,
    )


async def rows(deps: Deps, model: type[Any]) -> list[Any]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


def whisper_fields(parent: str, leg: str, **extra: str) -> dict[str, str]:
    return {
        "CallSid": leg,
        "ParentCallSid": parent,
        "AccountSid": ACCOUNT_SID,
        "From": CALLER,
        "To": DUTY_ONE,
        "Direction": "outbound-dial",
        **extra,
    }


async def voicemail_left(client: Any, stub: ThreadedTwilioStub, sid: str) -> str:
    recording_sid = stub.stub.add_recording(call_sid=sid, duration=7)
    await post(client, "/twilio/voice/recorded", call_fields(sid, RecordingSid=recording_sid))
    await post(
        client,
        "/twilio/voice/recording",
        {
            "CallSid": sid,
            "AccountSid": ACCOUNT_SID,
            "RecordingSid": recording_sid,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}",
            "RecordingStatus": "completed",
            "RecordingDuration": "7",
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        },
        expect=204,
    )
    return str(recording_sid)


def every_value(database_url: str) -> list[str]:
    """Every value in every column of every row of every table, as text."""
    engine = create_engine(sync_url(database_url))
    try:
        values: list[str] = []
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                    values.extend(str(value) for value in row)
        return values
    finally:
        engine.dispose()


# --- the menu ------------------------------------------------------------------------------


async def test_the_greeting_is_danish_and_stores_the_contact_at_once(
    client: Any, deps: Deps
) -> None:
    sid = new_sid("CA")
    twiml = await post(client, "/twilio/voice", call_fields(sid))
    assert 'language="da-DK"' in twiml
    assert 'voice="Polly.Naja"' in twiml
    assert "tavshedspligt" in twiml
    assert "notatpligt" in twiml
    assert "Infohuset eller politiet" in twiml
    assert "ring 112" in twiml
    assert "For English, press 9." in twiml
    assert "fagperson, tryk 1" in twiml
    assert f'action="{PUBLIC_BASE_URL}/twilio/voice/role"' in twiml
    assert 'numDigits="1"' in twiml

    (contact,) = await rows(deps, Contact)
    assert contact.channel is Channel.PHONE
    assert contact.hotline_id == "national"
    assert contact.reporter_phone_e164 == CALLER
    assert contact.reporter_phone_status is PhoneStatus.VALID
    (call,) = await rows(deps, Call)
    assert (call.provider_id, call.contact_id, call.outside_hours) == (sid, contact.id, False)

    # A retried webhook stores nothing new.
    await post(client, "/twilio/voice", call_fields(sid))
    assert len(await rows(deps, Contact)) == 1


async def test_pressing_9_switches_to_english(client: Any, deps: Deps) -> None:
    sid = new_sid("CA")
    await post(client, "/twilio/voice", call_fields(sid))
    twiml = await post(client, "/twilio/voice/role", call_fields(sid, Digits="9"))
    assert 'language="en-GB"' in twiml
    assert "duty of confidentiality" in twiml
    twiml = await post(client, "/twilio/voice/role", call_fields(sid, Digits="1"))
    assert "anonymous, press 1" in twiml
    (call,) = await rows(deps, Call)
    assert (call.language, call.chosen_role) == ("en", CallerRole.PROFESSIONAL)
    (contact,) = await rows(deps, Contact)
    assert (contact.language, contact.reporter_role) == ("en", ReporterRole.PROFESSIONAL)


async def test_a_call_to_an_unknown_number_is_told_politely_and_nothing_is_stored(
    client: Any, deps: Deps
) -> None:
    twiml = await post(client, "/twilio/voice", call_fields(new_sid("CA"), To="+4570112233"))
    assert "Beklager" in twiml
    assert "<Hangup" in twiml
    assert await rows(deps, Contact) == []
    assert await rows(deps, Call) == []


@pytest.mark.parametrize("tamper", ["unsigned", "tampered"])
async def test_unsigned_or_tampered_voice_webhooks_are_refused_and_store_nothing(
    client: Any, deps: Deps, tamper: str
) -> None:
    fields = call_fields(new_sid("CA"))
    if tamper == "unsigned":
        response = await client.post("/twilio/voice", data=fields)
    else:
        from tests.support.twilio_signing import sign_form

        signature = sign_form(PUBLIC_BASE_URL + "/twilio/voice", fields)
        response = await client.post(
            "/twilio/voice",
            data={**fields, "From": "+4520999999"},
            headers={"X-Twilio-Signature": signature},
        )
    assert response.status == 403
    for path in ("/twilio/voice/status", "/twilio/voice/recording", "/twilio/voice/whisper"):
        assert (await client.post(path, data=fields)).status == 403
    assert await rows(deps, Contact) == []
    assert await rows(deps, Call) == []


# --- answered ------------------------------------------------------------------------------


async def test_a_call_answered_by_the_on_duty_phone(client: Any, deps: Deps) -> None:
    sid, leg = new_sid("CA"), new_sid("CA")
    twiml = await menu(client, sid, role="1")
    assert '<Dial action="' in twiml
    assert 'answerOnBridge="true"' in twiml
    assert 'timeout="20"' in twiml
    assert f'<Number method="POST" url="{PUBLIC_BASE_URL}/twilio/voice/whisper">{DUTY_ONE}' in twiml
    assert DUTY_TWO in twiml
    assert f'action="{PUBLIC_BASE_URL}/twilio/voice/dial-result"' in twiml

    whisper = await post(client, "/twilio/voice/whisper", whisper_fields(sid, leg))
    assert "Tryk 1 for at tage opkaldet" in whisper
    assert 'numDigits="1"' in whisper
    accepted = await post(
        client, "/twilio/voice/whisper/accept", whisper_fields(sid, leg, Digits="1")
    )
    assert "<Hangup" not in accepted
    done = await post(
        client,
        "/twilio/voice/dial-result",
        call_fields(sid, DialCallStatus="completed", DialCallSid=leg, DialCallDuration="95"),
    )
    assert "<Record" not in done
    await ended(client, sid, duration="130")
    await run_jobs(deps)

    (call,) = await rows(deps, Call)
    assert call.outcome is CallOutcome.ANSWERED
    assert call.answered_by == "duty-1"
    assert call.accepted_leg_id == leg
    assert call.duration_seconds == 95
    assert call.status == "completed"
    assert call.ended_at is not None
    assert call.answered_at is not None
    (contact,) = await rows(deps, Contact)
    assert contact.reporter_role is ReporterRole.PROFESSIONAL
    assert contact.case_id is not None
    (case,) = await rows(deps, Case)
    assert case.channel is Channel.PHONE
    assert case.reporter_role is ReporterRole.PROFESSIONAL
    assert case.is_acute is False

    await logged_in(client, deps)
    items = (await (await client.get("/api/v1/queue")).json())["items"]
    assert [(i["channel"], i["reporter_role"]) for i in items] == [("phone", "professional")]


# --- not accepted → voicemail ----------------------------------------------------------------


async def test_a_call_not_accepted_goes_to_voicemail_fetched_and_deleted_at_twilio(
    client: Any, deps: Deps, stub: ThreadedTwilioStub
) -> None:
    sid, leg = new_sid("CA"), new_sid("CA")
    await menu(client, sid)
    # The on-duty phone's own voicemail picks up: nobody presses 1.
    await post(client, "/twilio/voice/whisper", whisper_fields(sid, leg))
    hung_up = await post(
        client, "/twilio/voice/whisper/accept", whisper_fields(sid, leg, Digits="")
    )
    assert "<Hangup" in hung_up
    twiml = await post(
        client,
        "/twilio/voice/dial-result",
        call_fields(sid, DialCallStatus="completed", DialCallSid=leg, DialCallDuration="3"),
    )
    assert "Ingen medarbejder kan tage telefonen" in twiml
    assert 'maxLength="120"' in twiml
    assert 'playBeep="true"' in twiml
    assert f'action="{PUBLIC_BASE_URL}/twilio/voice/recorded"' in twiml
    assert f'recordingStatusCallback="{PUBLIC_BASE_URL}/twilio/voice/recording"' in twiml
    assert twiml.rstrip().endswith("<Hangup /></Response>")

    recording_sid = await voicemail_left(client, stub, sid)
    await ended(client, sid)
    await run_jobs(deps)

    assert stub.stub.deleted_recordings == [recording_sid]
    (recording,) = await rows(deps, Recording)
    assert recording.fetched_at is not None
    assert recording.deleted_at_provider is not None
    assert recording.duration_seconds == 7
    path = deps.settings.data_dir / "recordings" / f"{recording_sid}.wav"
    assert recording.file_path == f"recordings/{recording_sid}.wav"
    assert path.read_bytes()[:4] == b"RIFF"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (call,) = await rows(deps, Call)
    assert call.outcome is CallOutcome.VOICEMAIL
    assert call.answered_by is None

    # Fetch-and-delete again: nothing changes, nothing more reaches Twilio.
    before = len(stub.stub.requests)
    from jobqueue import fetch_recordings

    deps.queue.enqueue(fetch_recordings([recording.id]))
    await run_jobs(deps)
    assert len(stub.stub.requests) == before
    assert stub.stub.deleted_recordings == [recording_sid]

    # Staff play it; the play is audited.
    await logged_in(client, deps)
    audio = await client.get(f"/api/v1/recordings/{recording.id}/audio")
    assert audio.status == 200
    assert audio.content_type == "audio/x-wav"
    assert (await audio.read()) == path.read_bytes()
    assert "play_recording" in {a.action for a in await rows(deps, AuditEntry)}


async def test_the_audio_is_for_staff_only(client: Any, deps: Deps) -> None:
    response = await client.get("/api/v1/recordings/1/audio")
    assert response.status == 401


async def test_a_failed_fetch_is_retried_by_the_sweeper_not_lost(
    client: Any, deps: Deps, stub: ThreadedTwilioStub, clock: FrozenClock
) -> None:
    from datetime import timedelta

    from tests.support.twilio_stub import ServerError

    sid = new_sid("CA")
    await menu(client, sid)
    await post(client, "/twilio/voice/dial-result", call_fields(sid, DialCallStatus="no-answer"))
    stub.stub.fail_next("recordings.media", ServerError(503))
    recording_sid = await voicemail_left(client, stub, sid)
    await run_jobs(deps)
    (recording,) = await rows(deps, Recording)
    assert recording.fetched_at is None
    assert recording.attempts == 1
    assert recording.last_error is not None
    assert stub.stub.deleted_recordings == []

    clock.advance(timedelta(minutes=2))
    assert Sweeper(deps.job_context()).sweep(take_turn=False) >= 1
    await run_jobs(deps)
    (recording,) = await rows(deps, Recording)
    assert recording.fetched_at is not None
    assert recording.deleted_at_provider is not None
    assert stub.stub.deleted_recordings == [recording_sid]


# --- outside opening hours ------------------------------------------------------------------


async def test_outside_opening_hours_voicemail_is_offered_and_nobody_is_rung(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 3, 2, 22, 30, tzinfo=UTC))  # 23:30 in Copenhagen
    sid = new_sid("CA")
    twiml = await menu(client, sid)
    assert "<Dial" not in twiml
    assert "alle dage fra klokken 8 til 22" in twiml
    assert "ring 112" in twiml
    assert "ring 114" in twiml
    assert "<Record" in twiml
    await ended(client, sid)
    await run_jobs(deps)
    (call,) = await rows(deps, Call)
    assert call.outside_hours is True
    assert call.outcome is CallOutcome.OUTSIDE_HOURS
    (contact,) = await rows(deps, Contact)
    assert contact.answers["call_back"] is True
    assert contact.case_id is not None


# --- missed, anonymous ----------------------------------------------------------------------


async def test_a_missed_call_is_a_contact_to_call_back(client: Any, deps: Deps) -> None:
    sid = new_sid("CA")
    await menu(client, sid)
    await post(client, "/twilio/voice/dial-result", call_fields(sid, DialCallStatus="no-answer"))
    await ended(client, sid)  # hung up without a message
    await ended(client, sid)  # a repeated callback changes nothing
    await run_jobs(deps)
    (call,) = await rows(deps, Call)
    assert call.outcome is CallOutcome.MISSED
    (contact,) = await rows(deps, Contact)
    assert contact.answers["call_back"] is True
    assert contact.reporter_phone_e164 == CALLER
    assert contact.case_id is not None


@pytest.mark.parametrize("how", ["withheld", "sentinel", "chosen"])
async def test_an_anonymous_caller_leaves_no_number_in_any_table_or_log(
    client: Any, deps: Deps, database_url: str, how: str
) -> None:
    caller = {"withheld": "anonymous", "sentinel": "+266696687", "chosen": CALLER}[how]
    sid = new_sid("CA")
    with structlog.testing.capture_logs() as logs:
        await menu(client, sid, anonymous="1" if how == "chosen" else "2", From=caller)
        await post(
            client, "/twilio/voice/dial-result", call_fields(sid, DialCallStatus="no-answer")
        )
        await ended(client, sid)
        await run_jobs(deps)

    (contact,) = await rows(deps, Contact)
    assert contact.anonymous is True
    assert contact.reporter_phone_status is PhoneStatus.WITHHELD
    assert contact.reporter_phone_e164 is None
    assert contact.reporter_phone_lookup is None
    assert contact.reporter_phone_raw is None
    assert contact.answers["call_back"] is False
    assert contact.case_id is not None
    values = every_value(database_url)
    lookup = deps.cipher.lookup_hash("phone", CALLER)
    for forbidden in (CALLER, CALLER_DIGITS, "266696687", lookup):
        assert not [v for v in values if forbidden in v], forbidden
    logged = repr(logs)
    for forbidden in (CALLER, CALLER_DIGITS, "266696687", lookup):
        assert forbidden not in logged


async def test_the_dial_hides_an_anonymous_callers_number_from_the_on_duty_phone(
    client: Any, deps: Deps
) -> None:
    twiml = await menu(client, new_sid("CA"), anonymous="1")
    assert f'callerId="{NATIONAL_NUMBER}"' in twiml
    twiml = await menu(client, new_sid("CA"), anonymous="2")
    assert "callerId" not in twiml


async def test_the_sweeper_leaves_a_call_in_its_menu_to_the_caller(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    sid = new_sid("CA")
    await post(client, "/twilio/voice", call_fields(sid))
    sweeper = Sweeper(deps.job_context())

    # A caller still listening to the menu after the grace period is not taken in yet, so the
    # case will get the role they are about to choose.
    clock.advance(timedelta(minutes=2))
    assert sweeper.sweep(take_turn=False) == 0

    await post(client, "/twilio/voice/role", call_fields(sid, Digits="1"))
    await post(client, "/twilio/voice/anonymity", call_fields(sid, Digits="2"))
    await run_jobs(deps)
    (case,) = await rows(deps, Case)
    assert case.reporter_role is ReporterRole.PROFESSIONAL


async def test_a_call_whose_end_was_never_reported_is_swept_eventually(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    await post(client, "/twilio/voice", call_fields(new_sid("CA")))
    sweeper = Sweeper(deps.job_context())

    clock.advance(timedelta(hours=1, minutes=1))
    assert sweeper.sweep(take_turn=False) == 1
    await run_jobs(deps)
    assert len(await rows(deps, Case)) == 1


async def test_answered_calls_are_not_recorded_unless_the_hotline_switches_it_on(
    client: Any, deps: Deps
) -> None:
    twiml = await menu(client, new_sid("CA"), role="1")
    assert "<Dial" in twiml
    assert "record=" not in twiml
    assert "recordingStatusCallback" not in twiml


async def test_a_hotline_that_records_calls_keeps_the_answered_call_not_as_a_voicemail(
    client: Any, deps: Deps, stub: ThreadedTwilioStub
) -> None:
    async with deps.sessions() as session, session.begin():
        (await session.get_one(Hotline, "national")).record_calls = True
    sid, leg = new_sid("CA"), new_sid("CA")
    twiml = await menu(client, sid, role="1")
    assert 'record="record-from-answer-dual"' in twiml
    assert f'recordingStatusCallback="{PUBLIC_BASE_URL}/twilio/voice/recording"' in twiml

    await post(client, "/twilio/voice/whisper", whisper_fields(sid, leg))
    await post(client, "/twilio/voice/whisper/accept", whisper_fields(sid, leg, Digits="1"))
    await post(
        client,
        "/twilio/voice/dial-result",
        call_fields(sid, DialCallStatus="completed", DialCallSid=leg, DialCallDuration="60"),
    )
    recording_sid = await voicemail_left(client, stub, sid)
    await ended(client, sid)
    await run_jobs(deps)

    (call,) = await rows(deps, Call)
    assert call.outcome is CallOutcome.ANSWERED
    (contact,) = await rows(deps, Contact)
    assert "voicemail" not in contact.answers
    (recording,) = await rows(deps, Recording)
    assert recording.fetched_at is not None
    assert stub.stub.deleted_recordings == [recording_sid]
