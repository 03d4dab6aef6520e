"""The real twilio-python client (rest_client + TwilioAlertCaller) against the local Twilio stub:
what an alert call is created with, region and edge, and which failures are worth a retry.

Synchronous, like the rq jobs that place alert calls: the stub runs in its own thread.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bootstrap import build_deps
from integrations.console import ConsoleAlertCaller
from integrations.twilio.alert_calls import (
    RING_SECONDS,
    TIME_LIMIT_SECONDS,
    TwilioAlertCaller,
)
from integrations.twilio.client import rest_client
from notifications.alert_calls import alert_call_urls, new_attempt_token
from notifications.ports import PlacedCall, SendFailed
from settings import Settings, load_settings
from tests.support.processes import free_port
from tests.support.twilio_signing import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_BASE_URL
from tests.support.twilio_stub import (
    Delay,
    ProblemError,
    ServerError,
    ThreadedTwilioStub,
    TwilioError,
    stub_environ,
    threaded_stub,
)

STAFF_PHONE = "+4520123456"
CALLER_ID = "+4570203040"
CALLS_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
CALL_SID = re.compile(r"^CA[0-9a-f]{32}$")


@pytest.fixture
def stub() -> Iterator[ThreadedTwilioStub]:
    with threaded_stub() as running:
        yield running


def stub_settings(url: str, **extra: str) -> Settings:
    return load_settings({**stub_environ(url), **extra})


@contextlib.contextmanager
def caller(settings: Settings, *, timeout: float = 10) -> Iterator[TwilioAlertCaller]:
    client = rest_client(settings, timeout=timeout)
    try:
        yield TwilioAlertCaller(client)
    finally:
        client.http_client.session.close()


def place(alert_caller: Any, token: str | None = None, **overrides: Any) -> PlacedCall:
    token = token or new_attempt_token()
    urls = alert_call_urls(PUBLIC_BASE_URL, token)
    call: dict[str, Any] = {
        "to": STAFF_PHONE,
        "from_": CALLER_ID,
        "attempt_token": token,
        "status_callback": urls.status_callback,
        "twiml_url": urls.twiml_url,
    }
    call.update(overrides)
    placed: PlacedCall = alert_caller.place_call(**call)
    return placed


# --- placing ----------------------------------------------------------------------------------


def test_a_call_is_created_with_the_url_status_callbacks_and_limits(
    stub: ThreadedTwilioStub,
) -> None:
    token = new_attempt_token()
    urls = alert_call_urls(PUBLIC_BASE_URL, token)

    with caller(stub_settings(stub.url)) as alert_caller:
        placed = place(alert_caller, token)

    assert placed.status == "queued"
    assert placed.provider_id is not None
    assert CALL_SID.match(placed.provider_id)
    [request] = stub.stub.requests
    assert (request.method, request.path, request.route) == ("POST", CALLS_PATH, "calls.create")
    assert (request.auth_user, request.authenticated) == (ACCOUNT_SID, True)
    assert request.value("To") == STAFF_PHONE
    assert request.value("From") == CALLER_ID
    assert request.value("Url") == urls.twiml_url
    assert request.value("Method") == "POST"
    assert request.value("StatusCallback") == urls.status_callback
    assert request.value("StatusCallbackMethod") == "POST"
    assert request.values("StatusCallbackEvent") == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]
    assert request.value("Timeout") == str(RING_SECONDS)
    assert request.value("TimeLimit") == str(TIME_LIMIT_SECONDS)
    # The TwiML comes from the Url (inline TwiML would be ignored next to it anyway), and no
    # answering-machine detection: only a keypress acknowledges.
    assert "Twiml" not in request.form
    assert "MachineDetection" not in request.form
    # The token is in the URLs only.
    assert sorted(k for k, v in request.form.items() if token in v) == ["StatusCallback", "Url"]
    assert stub.stub.calls[placed.provider_id]["status"] == "queued"


@pytest.mark.parametrize(
    ("region", "edge", "host"),
    [
        (None, None, "api.dublin.ie1.twilio.com"),  # the defaults: data stays in the EU
        ("us1", "ashburn", "api.ashburn.us1.twilio.com"),
    ],
)
def test_region_and_edge_from_settings_build_the_hostname(
    stub: ThreadedTwilioStub,
    monkeypatch: pytest.MonkeyPatch,
    region: str | None,
    edge: str | None,
    host: str,
) -> None:
    extra = {}
    if region is not None and edge is not None:
        extra = {"HOTLINE_TWILIO_REGION": region, "HOTLINE_TWILIO_EDGE": edge}
    client = rest_client(stub_settings(stub.url, **extra))
    asked: list[str] = []
    redirect = client.http_client.request

    def spy(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(url)
        return redirect(method, url, *args, **kwargs)

    monkeypatch.setattr(client.http_client, "request", spy)
    try:
        placed = place(TwilioAlertCaller(client))
    finally:
        client.http_client.session.close()

    assert asked == [f"https://{host}{CALLS_PATH}"]
    assert placed.status == "queued"


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        ServerError(500),
        ServerError(502, "Bad Gateway"),
        ServerError(503, "Service Unavailable"),
        TwilioError(20500, "Internal Server Error", 500),
        TwilioError(20429, "Too Many Requests", 429),
    ],
    ids=["500", "502", "503", "500-json", "429"],
)
def test_server_errors_and_throttling_are_retryable(
    stub: ThreadedTwilioStub, fault: ServerError | TwilioError
) -> None:
    stub.stub.fail_next("calls.create", fault)

    with caller(stub_settings(stub.url)) as alert_caller:
        with pytest.raises(SendFailed) as failed:
            place(alert_caller)
        # The fault was used up: the retry goes through.
        assert place(alert_caller).status == "queued"

    assert failed.value.retryable is True
    expected = str(fault.code) if isinstance(fault, TwilioError) else str(fault.status)
    assert failed.value.code == expected


def test_an_invalid_number_is_refused_and_not_retried(stub: ThreadedTwilioStub) -> None:
    with caller(stub_settings(stub.url)) as alert_caller, pytest.raises(SendFailed) as failed:
        place(alert_caller, to="12345")

    assert (failed.value.code, failed.value.retryable) == ("21211", False)
    assert "not a valid phone number" in failed.value.message
    assert stub.stub.calls == {}


@pytest.mark.parametrize(
    "fault",
    [
        TwilioError(21215, "Account not authorized to call this number (geo permissions)."),
        TwilioError(21210, "The source phone number provided is not yet verified."),
        ProblemError(21211, "Invalid 'To' Phone Number"),
    ],
    ids=["geo-permission", "unverified-from", "problem-document"],
)
def test_refusals_are_not_retried(
    stub: ThreadedTwilioStub, fault: TwilioError | ProblemError
) -> None:
    stub.stub.fail_next("calls.create", fault)

    with caller(stub_settings(stub.url)) as alert_caller, pytest.raises(SendFailed) as failed:
        place(alert_caller)

    assert (failed.value.code, failed.value.retryable) == (str(fault.code), False)


def test_wrong_credentials_are_refused_and_not_retried(stub: ThreadedTwilioStub) -> None:
    settings = stub_settings(stub.url, HOTLINE_TWILIO_AUTH_TOKEN="not-" + AUTH_TOKEN)

    with caller(settings) as alert_caller, pytest.raises(SendFailed) as failed:
        place(alert_caller)

    assert (failed.value.code, failed.value.retryable) == ("20003", False)


def test_a_timeout_is_retryable(stub: ThreadedTwilioStub) -> None:
    stub.stub.fail_next("calls.create", Delay(30))

    started = time.monotonic()
    with caller(stub_settings(stub.url), timeout=0.5) as alert_caller:
        with pytest.raises(SendFailed) as failed:
            place(alert_caller)
        elapsed = time.monotonic() - started
        assert place(alert_caller).status == "queued"

    assert (failed.value.code, failed.value.retryable) == ("unreachable", True)
    assert elapsed < 10


def test_an_unreachable_twilio_is_retryable() -> None:
    settings = stub_settings(f"http://127.0.0.1:{free_port()}")

    with caller(settings) as alert_caller, pytest.raises(SendFailed) as failed:
        place(alert_caller)

    assert (failed.value.code, failed.value.retryable) == ("unreachable", True)


def test_an_answer_that_is_not_twilio_json_is_not_retried_blindly(
    stub: ThreadedTwilioStub,
) -> None:
    # The call may have been placed: the alert moves on to its next channel instead.
    stub.stub.fail_next("calls.create", ServerError(201, "<html>proxy page</html>"))

    with caller(stub_settings(stub.url)) as alert_caller, pytest.raises(SendFailed) as failed:
        place(alert_caller)

    assert (failed.value.code, failed.value.retryable) == ("bad_response", False)


# --- the composition root ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_bootstrap_places_alert_calls_through_twilio_when_configured(
    stub: ThreadedTwilioStub, test_environ: dict[str, str]
) -> None:
    deps = build_deps(load_settings({**test_environ, **stub_environ(stub.url)}))
    try:
        assert isinstance(deps.alert_caller, TwilioAlertCaller)
        # Jobs (the alert engine's) reach the same caller through their context.
        context = deps.job_context()
        assert context.alert_caller is deps.alert_caller
        placed = place(context.alert_caller)
    finally:
        # The pooled connection to the stub (Deps.aclose leaves REST clients to the process).
        deps.alert_caller._client.http_client.session.close()  # type: ignore[attr-defined]
        await deps.aclose()

    assert placed.provider_id in stub.stub.calls


@pytest.mark.asyncio
async def test_bootstrap_uses_the_console_caller_without_twilio(
    test_environ: dict[str, str],
) -> None:
    deps = build_deps(load_settings(test_environ))
    try:
        assert isinstance(deps.alert_caller, ConsoleAlertCaller)
        assert place(deps.job_context().alert_caller).status == "not_placed"
    finally:
        await deps.aclose()
