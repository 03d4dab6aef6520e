"""Alert calls end to end: the real app's alert-call webhooks, signed as Twilio signs them, with a
small in-test alert engine behind the `AlertCallEvents` port (the real engine comes later).

The full-flow tests place the call with the real twilio-python client against the local stub and
let the stub play Twilio's side: status callbacks, the TwiML fetch, the keypresses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bootstrap import Deps
from clock import FrozenClock
from integrations.twilio import alert_webhooks
from integrations.twilio.alert_calls import TwilioAlertCaller
from integrations.twilio.client import rest_client
from notifications.alert_calls import (
    AlertCallScript,
    AlertCallStatus,
    alert_call_urls,
    new_attempt_token,
)
from notifications.escalation import StepKind
from server import create_app
from settings import load_settings
from tests.support.messaging import post_signed
from tests.support.twilio_signing import ACCOUNT_SID, PUBLIC_BASE_URL, sign_form
from tests.support.twilio_stub import TwilioStub, running_stub, stub_environ
from triage.deadline_clock import DeadlineKind
from web.appkeys import alert_call_events_key
from web.policy import csrf_mode, is_public

pytestmark = pytest.mark.asyncio

STAFF_PHONE = "+4520123456"
CALLER_ID = "+4570203040"
REFERENCE = "NAT-2026-00042"
SPOKEN = "N A T, 2 0 2 6, 0 0 0 4 2"
CALL_SID = "CA" + "c" * 32


@dataclass
class Status:
    token: str
    call_id: str
    status: AlertCallStatus
    error_code: str | None
    at: datetime


@dataclass
class FakeAlertEngine:
    """The engine's side of the port, in memory and idempotent as the real one must be: one
    acknowledgement per attempt; the same call pressing 1 again is still acknowledged."""

    scripts: dict[str, AlertCallScript] = field(default_factory=dict)
    # Tokens whose alert was closed meanwhile (e.g. acknowledged in the app).
    closed: set[str] = field(default_factory=set)
    # token → the call that acknowledged it, and when.
    acknowledgements: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    # Every delivery of a keypress (Twilio may retry), every status.
    keypresses: list[tuple[str, str]] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    script_requests: list[str] = field(default_factory=list)
    # Whether each call came inside an open transaction.
    transactions: list[bool] = field(default_factory=list)

    async def _check(self, session: AsyncSession) -> None:
        self.transactions.append(session.in_transaction())
        await session.execute(text("SELECT 1"))  # the session works

    async def script_for(self, session: AsyncSession, attempt_token: str) -> AlertCallScript | None:
        await self._check(session)
        self.script_requests.append(attempt_token)
        if attempt_token in self.closed or attempt_token in self.acknowledgements:
            return None
        return self.scripts.get(attempt_token)

    async def acknowledged_by_keypress(
        self, session: AsyncSession, *, attempt_token: str, provider_call_id: str, at: datetime
    ) -> bool:
        await self._check(session)
        self.keypresses.append((attempt_token, provider_call_id))
        if attempt_token not in self.scripts or attempt_token in self.closed:
            return False
        earlier = self.acknowledgements.setdefault(attempt_token, (provider_call_id, at))
        return earlier[0] == provider_call_id

    async def call_status(
        self,
        session: AsyncSession,
        *,
        attempt_token: str,
        provider_call_id: str,
        status: AlertCallStatus,
        error_code: str | None,
        at: datetime,
    ) -> None:
        await self._check(session)
        self.statuses.append(Status(attempt_token, provider_call_id, status, error_code, at))


@pytest.fixture
def engine() -> FakeAlertEngine:
    return FakeAlertEngine()


@pytest_asyncio.fixture
async def client(deps: Deps, engine: FakeAlertEngine) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(deps, in_process_worker=False)
    # server.py registers the webhooks with the real engine; this test's engine stands in.
    app[alert_call_events_key] = engine
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def new_alert(
    engine: FakeAlertEngine,
    step: StepKind = StepKind.OVERDUE,
    language: str | None = None,
) -> str:
    token = new_attempt_token()
    engine.scripts[token] = AlertCallScript(
        REFERENCE,
        DeadlineKind.VISITATION,
        step,
        language,  # type: ignore[arg-type]
    )
    return token


def voice_path(token: str) -> str:
    return f"/twilio/alerts/voice/{token}"


def keypress_path(token: str) -> str:
    return f"/twilio/alerts/keypress/{token}"


def status_path(token: str) -> str:
    return f"/twilio/alerts/status/{token}"


def call_fields(**extra: str) -> dict[str, str]:
    """What Twilio posts about an outbound call (to the Url, a Gather action, a callback)."""
    fields = {
        "CallSid": CALL_SID,
        "AccountSid": ACCOUNT_SID,
        "From": CALLER_ID,
        "To": STAFF_PHONE,
        "Called": STAFF_PHONE,
        "Caller": CALLER_ID,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
    }
    fields.update(extra)
    return fields


async def post(client: Any, path: str, fields: dict[str, str], expect: int = 200) -> str:
    response = await post_signed(client, path, fields)
    body = str(await response.text())
    assert response.status == expect, body
    return body


# --- signatures ---------------------------------------------------------------------------------


async def test_the_routes_are_public_csrf_exempt_and_signature_checked() -> None:
    for _path, handler, _name in alert_webhooks.ROUTES:
        assert is_public(handler)
        assert csrf_mode(handler) == "exempt"


@pytest.mark.parametrize("path_for", [voice_path, keypress_path, status_path])
async def test_unsigned_or_forged_requests_are_refused_before_the_engine_hears(
    client: Any, engine: FakeAlertEngine, path_for: Any
) -> None:
    token, other = new_alert(engine), new_alert(engine)
    fields = call_fields(Digits="1", CallStatus="completed")
    path = path_for(token)

    unsigned = await client.post(path, data=fields)
    forged = await post_signed(
        client, path, fields, signature=sign_form(PUBLIC_BASE_URL + path, fields, "wrong-token")
    )
    # A valid signature for another attempt's URL does not carry over to this one.
    moved = await post_signed(
        client, path, fields, signature=sign_form(PUBLIC_BASE_URL + path_for(other), fields)
    )
    # Nor does one for other fields (e.g. Digits=2 signed, Digits=1 sent).
    tampered = await post_signed(
        client, path, fields, signature=sign_form(PUBLIC_BASE_URL + path, {**fields, "Digits": "2"})
    )

    assert [r.status for r in (unsigned, forged, moved, tampered)] == [403] * 4
    assert engine.script_requests == []
    assert engine.keypresses == []
    assert engine.statuses == []


async def test_a_signed_request_with_a_malformed_token_finds_nothing(
    client: Any, engine: FakeAlertEngine
) -> None:
    await post(client, voice_path("42"), call_fields(), expect=404)

    assert engine.script_requests == []


async def test_a_request_without_a_call_sid_is_refused(
    client: Any, engine: FakeAlertEngine
) -> None:
    token = new_alert(engine)
    fields = call_fields(Digits="1")
    del fields["CallSid"]

    await post(client, keypress_path(token), fields, expect=400)

    assert engine.keypresses == []


# --- what the phone hears --------------------------------------------------------------------


async def test_the_answered_call_hears_its_script_and_where_to_press(
    client: Any, engine: FakeAlertEngine
) -> None:
    token = new_alert(engine)

    twiml = await post(client, voice_path(token), call_fields())

    assert SPOKEN in twiml
    assert "Fristen for visitering er overskredet." in twiml
    assert "The visitation deadline is overdue." in twiml
    assert twiml.count(f'action="{PUBLIC_BASE_URL}{keypress_path(token)}"') == 2
    # Nothing of the call's numbers is said back.
    for number in (STAFF_PHONE, CALLER_ID, STAFF_PHONE[3:], CALLER_ID[3:]):
        assert number not in twiml
    assert engine.script_requests == [token]
    assert engine.transactions == [True]


async def test_an_unknown_or_closed_alert_says_so_and_hangs_up(
    client: Any, engine: FakeAlertEngine
) -> None:
    closed = new_alert(engine)
    engine.closed.add(closed)

    unknown = await post(client, voice_path(new_attempt_token()), call_fields())
    answered_closed = await post(client, voice_path(closed), call_fields())

    for twiml in (unknown, answered_closed):
        assert "Denne alarm kræver ikke længere handling." in twiml
        assert "<Gather" not in twiml
        assert "<Hangup />" in twiml


# --- the keypress -----------------------------------------------------------------------------


async def test_pressing_1_acknowledges_once_even_when_twilio_retries(
    client: Any, engine: FakeAlertEngine, clock: FrozenClock
) -> None:
    token = new_alert(engine, language="da")
    fields = call_fields(Digits="1")

    first = await post(client, keypress_path(token), fields)
    retried = await post(client, keypress_path(token), fields)

    assert "Tak. Alarmen er kvitteret." in first
    assert "en-GB" not in first  # the script's language
    # The retry is told the same (both languages: the script is gone once acknowledged).
    assert "Tak. Alarmen er kvitteret." in retried
    # The adapter passed every delivery on with the call's id; the engine kept one.
    assert engine.keypresses == [(token, CALL_SID), (token, CALL_SID)]
    assert engine.acknowledgements == {token: (CALL_SID, clock.now())}
    assert all(engine.transactions)


async def test_another_key_says_the_message_again(client: Any, engine: FakeAlertEngine) -> None:
    token = new_alert(engine)

    twiml = await post(client, keypress_path(token), call_fields(Digits="2"))
    silence = await post(client, keypress_path(token), call_fields(Digits=""))

    for again in (twiml, silence):
        assert SPOKEN in again
        assert again.count("<Gather") == 2
    assert engine.keypresses == []
    assert engine.acknowledgements == {}


async def test_a_keypress_the_engine_cannot_record_is_told_so(
    client: Any, engine: FakeAlertEngine
) -> None:
    token = new_alert(engine)
    engine.closed.add(token)

    twiml = await post(client, keypress_path(token), call_fields(Digits="1"))

    assert "Kvitteringen kunne ikke registreres." in twiml
    assert "could not be recorded" in twiml
    assert engine.keypresses == [(token, CALL_SID)]
    assert engine.acknowledgements == {}


# --- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("twilio_status", "status"),
    [
        ("queued", AlertCallStatus.QUEUED),
        ("initiated", AlertCallStatus.INITIATED),
        ("ringing", AlertCallStatus.RINGING),
        ("in-progress", AlertCallStatus.IN_PROGRESS),
        ("completed", AlertCallStatus.COMPLETED),
        ("busy", AlertCallStatus.BUSY),
        ("no-answer", AlertCallStatus.NO_ANSWER),
        ("failed", AlertCallStatus.FAILED),
        ("canceled", AlertCallStatus.CANCELED),
    ],
)
async def test_status_callbacks_are_recorded_in_our_words(
    client: Any, engine: FakeAlertEngine, clock: FrozenClock, twilio_status: str, status: str
) -> None:
    token = new_alert(engine)

    await post(client, status_path(token), call_fields(CallStatus=twilio_status), expect=204)

    assert engine.statuses == [Status(token, CALL_SID, AlertCallStatus(status), None, clock.now())]


async def test_an_error_code_is_passed_on(client: Any, engine: FakeAlertEngine) -> None:
    token = new_alert(engine)

    fields = call_fields(CallStatus="failed", ErrorCode="32009")
    await post(client, status_path(token), fields, expect=204)

    [recorded] = engine.statuses
    assert (recorded.status, recorded.error_code) == (AlertCallStatus.FAILED, "32009")


async def test_an_unknown_status_is_answered_but_not_recorded(
    client: Any, engine: FakeAlertEngine
) -> None:
    token = new_alert(engine)

    await post(client, status_path(token), call_fields(CallStatus="teleported"), expect=204)
    await post(client, status_path(token), call_fields(CallStatus=""), expect=204)

    assert engine.statuses == []


# --- the whole call, Twilio's side played by the stub --------------------------------------------


@pytest_asyncio.fixture
async def stub() -> AsyncIterator[TwilioStub]:
    async with running_stub() as running:
        yield running


async def place_call(stub: TwilioStub, token: str) -> str:
    """What the engine's job does: place the call through the real client (in a thread)."""
    client = rest_client(load_settings(stub_environ(stub.url)))
    urls = alert_call_urls(PUBLIC_BASE_URL, token)
    try:
        placed = await asyncio.to_thread(
            TwilioAlertCaller(client).place_call,
            to=STAFF_PHONE,
            from_=CALLER_ID,
            attempt_token=token,
            status_callback=urls.status_callback,
            twiml_url=urls.twiml_url,
        )
    finally:
        client.http_client.session.close()
    assert placed.provider_id is not None
    return placed.provider_id


def app_url(client: Any) -> str:
    return f"http://{client.host}:{client.port}"


async def test_a_call_answered_and_acknowledged_after_a_wrong_key(
    client: Any, engine: FakeAlertEngine, stub: TwilioStub
) -> None:
    token = new_alert(engine)
    sid = await place_call(stub, token)

    call = await stub.simulate_call(sid, local_base_url=app_url(client), digits=["2", "1"])

    fetched, wrong_key, right_key = call.twiml
    assert [d.result.status for d in call.twiml] == [200, 200, 200]
    assert [d.result.status for d in call.statuses] == [204] * 4
    assert SPOKEN in fetched.result.text
    assert SPOKEN in wrong_key.result.text  # said again
    assert "Tak. Alarmen er kvitteret." in right_key.result.text
    assert [(s.token, s.call_id, s.status) for s in engine.statuses] == [
        (token, sid, AlertCallStatus.INITIATED),
        (token, sid, AlertCallStatus.RINGING),
        (token, sid, AlertCallStatus.IN_PROGRESS),
        (token, sid, AlertCallStatus.COMPLETED),
    ]
    assert engine.keypresses == [(token, sid)]
    assert engine.acknowledgements[token][0] == sid
    assert stub.calls[sid]["status"] == "completed"

    # Twilio retries the keypress webhook (e.g. our answer was slow): still one acknowledgement.
    again = await call.keypresses[-1].replay()
    assert again.status == 200
    assert engine.keypresses == [(token, sid), (token, sid)]
    assert list(engine.acknowledgements) == [token]


async def test_a_voicemail_that_answers_acknowledges_nothing(
    client: Any, engine: FakeAlertEngine, stub: TwilioStub
) -> None:
    token = new_alert(engine)
    sid = await place_call(stub, token)

    # Answered, the message played twice to a machine that presses nothing.
    call = await stub.simulate_call(sid, local_base_url=app_url(client), digits=[])

    [fetched] = call.twiml
    assert fetched.result.text.count("<Gather") == 2
    assert call.call_statuses == ["initiated", "ringing", "in-progress", "completed"]
    assert engine.statuses[-1].status is AlertCallStatus.COMPLETED
    assert engine.keypresses == []
    assert engine.acknowledgements == {}


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("no-answer", AlertCallStatus.NO_ANSWER),
        ("busy", AlertCallStatus.BUSY),
        ("canceled", AlertCallStatus.CANCELED),
    ],
)
async def test_a_call_nobody_answers_ends_with_its_status_and_no_twiml(
    client: Any, engine: FakeAlertEngine, stub: TwilioStub, outcome: Any, status: AlertCallStatus
) -> None:
    token = new_alert(engine)
    sid = await place_call(stub, token)

    call = await stub.simulate_call(sid, local_base_url=app_url(client), outcome=outcome)

    assert call.twiml == []
    assert [s.status for s in engine.statuses] == [
        AlertCallStatus.INITIATED,
        AlertCallStatus.RINGING,
        status,
    ]
    assert engine.script_requests == []
    assert engine.acknowledgements == {}


async def test_a_failed_call_reports_its_error_code(
    client: Any, engine: FakeAlertEngine, stub: TwilioStub
) -> None:
    token = new_alert(engine)
    sid = await place_call(stub, token)

    await stub.simulate_call(
        sid, local_base_url=app_url(client), outcome="failed", error_code=32009
    )

    assert [(s.status, s.error_code) for s in engine.statuses] == [
        (AlertCallStatus.INITIATED, None),
        (AlertCallStatus.FAILED, "32009"),
    ]
