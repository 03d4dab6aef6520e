"""The real twilio-python client (rest_client + TwilioSmsSender) against the local Twilio stub.

Most tests are synchronous, like the rq jobs that send: the stub runs in its own thread. One test
drives the client from async code through asyncio.to_thread against a stub on the test's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import requests
from twilio.rest import Client

from integrations.twilio.client import RedirectingHttpClient, rest_client
from integrations.twilio.sms import TwilioSmsSender
from notifications.ports import SendFailed, SentMessage
from settings import Settings, load_settings
from tests.support.processes import free_port, hotline_env
from tests.support.twilio_signing import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_BASE_URL
from tests.support.twilio_stub import (
    API_KEY_SID,
    Delay,
    ProblemError,
    ServerError,
    ThreadedTwilioStub,
    TwilioError,
    TwilioStub,
    running_stub,
    stub_environ,
    threaded_stub,
)

TO = "+4520123456"
FROM = "+4570203040"
BODY = "Tak for din henvendelse. Vi ringer dig op i dag."
STATUS_CALLBACK = PUBLIC_BASE_URL + "/twilio/messages/status?thread=t1"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
MESSAGE_SID = re.compile(r"^SM[0-9a-f]{32}$")
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def stub() -> Iterator[ThreadedTwilioStub]:
    with threaded_stub() as running:
        yield running


@pytest_asyncio.fixture
async def async_stub() -> AsyncIterator[TwilioStub]:
    async with running_stub() as running:
        yield running


def stub_settings(url: str, **extra: str) -> Settings:
    return load_settings({**stub_environ(url), **extra})


@contextlib.contextmanager
def twilio_client(settings: Settings, *, timeout: float = 10) -> Iterator[Client]:
    """rest_client(settings), with its requests session closed afterwards (no leaked sockets)."""
    client = rest_client(settings, timeout=timeout)
    try:
        yield client
    finally:
        client.http_client.session.close()


@contextlib.contextmanager
def sender(settings: Settings, *, timeout: float = 10) -> Iterator[TwilioSmsSender]:
    with twilio_client(settings, timeout=timeout) as client:
        yield TwilioSmsSender(client)


def send(sms: TwilioSmsSender, **overrides: Any) -> SentMessage:
    message: dict[str, Any] = {
        "to": TO,
        "from_": FROM,
        "body": BODY,
        "status_callback": STATUS_CALLBACK,
    }
    message.update(overrides)
    return sms.send(**message)


# --- sending ----------------------------------------------------------------------------------


def test_a_send_reaches_the_stub_and_returns_its_sid_and_status(stub: ThreadedTwilioStub) -> None:
    with sender(stub_settings(stub.url)) as sms:
        sent = send(sms)

    assert sent.status == "queued"
    assert sent.provider_id is not None
    assert MESSAGE_SID.match(sent.provider_id)
    assert list(stub.stub.messages) == [sent.provider_id]
    [request] = stub.stub.requests
    assert request.route == "messages.create"
    assert request.method == "POST"
    assert request.path == MESSAGES_PATH
    assert request.value("To") == TO
    assert request.value("From") == FROM
    assert request.value("Body") == BODY
    assert request.value("StatusCallback") == STATUS_CALLBACK
    assert request.auth_user == ACCOUNT_SID
    assert request.authenticated


def test_without_a_status_callback_none_is_sent(stub: ThreadedTwilioStub) -> None:
    with sender(stub_settings(stub.url)) as sms:
        send(sms, status_callback=None)

    [request] = stub.stub.requests
    assert "StatusCallback" not in request.form


@pytest.mark.parametrize(
    ("region", "edge", "host"),
    [
        (None, None, "api.dublin.ie1.twilio.com"),  # the defaults: data stays in the EU
        ("us1", "ashburn", "api.ashburn.us1.twilio.com"),
    ],
)
def test_region_and_edge_build_the_regional_hostname_and_the_stub_is_still_reached(
    stub: ThreadedTwilioStub,
    monkeypatch: pytest.MonkeyPatch,
    region: str | None,
    edge: str | None,
    host: str,
) -> None:
    extra = {}
    if region is not None and edge is not None:
        extra = {"HOTLINE_TWILIO_REGION": region, "HOTLINE_TWILIO_EDGE": edge}
    with twilio_client(stub_settings(stub.url, **extra)) as client:
        assert isinstance(client.http_client, RedirectingHttpClient)
        asked: list[str] = []
        redirect = client.http_client.request

        def spy(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            asked.append(url)
            return redirect(method, url, *args, **kwargs)

        monkeypatch.setattr(client.http_client, "request", spy)
        sent = TwilioSmsSender(client).send(
            to=TO, from_=FROM, body=BODY, status_callback=STATUS_CALLBACK
        )

    assert asked == [f"https://{host}{MESSAGES_PATH}"]
    assert sent.status == "queued"
    assert [r.path for r in stub.stub.requests] == [MESSAGES_PATH]


def test_api_key_credentials_are_used_when_set(stub: ThreadedTwilioStub) -> None:
    # The auth token stays configured (it checks webhooks); REST calls prefer the key.
    settings = load_settings(stub_environ(stub.url, api_key=True))
    assert settings.twilio_auth_token is not None

    with sender(settings) as sms:
        sent = send(sms)

    assert sent.status == "queued"
    [request] = stub.stub.requests
    assert request.auth_user == API_KEY_SID
    assert request.authenticated
    # The account is still the one in the path.
    assert request.path == MESSAGES_PATH


def test_wrong_credentials_are_refused_and_not_retried(stub: ThreadedTwilioStub) -> None:
    settings = stub_settings(stub.url, HOTLINE_TWILIO_AUTH_TOKEN="not-" + AUTH_TOKEN)

    with sender(settings) as sms, pytest.raises(SendFailed) as failed:
        send(sms)

    assert failed.value.code == "20003"
    assert failed.value.retryable is False
    [request] = stub.stub.requests
    assert request.auth_user == ACCOUNT_SID
    assert not request.authenticated
    assert stub.stub.messages == {}


def test_a_twilio_400_error_is_not_retryable_and_keeps_its_code(stub: ThreadedTwilioStub) -> None:
    stub.stub.fail_next(
        "messages.create", TwilioError(21211, "The 'To' number +4520123456 is not valid.")
    )

    with sender(stub_settings(stub.url)) as sms:
        with pytest.raises(SendFailed) as failed:
            send(sms)
        # The fault was used up: the next send goes through.
        assert send(sms).status == "queued"

    assert failed.value.code == "21211"
    assert failed.value.retryable is False
    assert "is not valid" in failed.value.message


def test_an_invalid_number_is_refused_by_the_stub_like_twilio(stub: ThreadedTwilioStub) -> None:
    with sender(stub_settings(stub.url)) as sms, pytest.raises(SendFailed) as failed:
        send(sms, to="12345")

    assert (failed.value.code, failed.value.retryable) == ("21211", False)


def test_an_rfc9457_problem_error_is_not_mistaken_for_an_unreachable_twilio(
    stub: ThreadedTwilioStub,
) -> None:
    stub.stub.fail_next("messages.create", ProblemError(21610, "Unsubscribed recipient"))

    with sender(stub_settings(stub.url)) as sms, pytest.raises(SendFailed) as failed:
        send(sms)

    assert failed.value.code == "21610"
    assert failed.value.retryable is False


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
    stub.stub.fail_next("messages.create", fault)

    with sender(stub_settings(stub.url)) as sms, pytest.raises(SendFailed) as failed:
        send(sms)

    assert failed.value.retryable is True
    expected = str(fault.code) if isinstance(fault, TwilioError) else str(fault.status)
    assert failed.value.code == expected


def test_a_success_status_without_twilio_json_is_a_failure_not_a_crash(
    stub: ThreadedTwilioStub,
) -> None:
    stub.stub.fail_next("messages.create", ServerError(201, "<html>proxy page</html>"))

    with sender(stub_settings(stub.url)) as sms, pytest.raises(SendFailed) as failed:
        send(sms)

    assert failed.value.code == "bad_response"
    # It may have gone out: not retried blindly.
    assert failed.value.retryable is False


def test_a_timeout_is_retryable(stub: ThreadedTwilioStub) -> None:
    stub.stub.fail_next("messages.create", Delay(30))

    started = time.monotonic()
    with sender(stub_settings(stub.url), timeout=0.5) as sms:
        with pytest.raises(SendFailed) as failed:
            send(sms)
        elapsed = time.monotonic() - started
        # Only that one request was slow.
        assert send(sms).status == "queued"

    assert failed.value.retryable is True
    assert failed.value.code == "unreachable"
    assert elapsed < 10


def test_an_unreachable_twilio_is_retryable() -> None:
    # Nothing listens on that port: the connection is refused.
    settings = stub_settings(f"http://127.0.0.1:{free_port()}")

    with sender(settings) as sms, pytest.raises(SendFailed) as failed:
        send(sms)

    assert failed.value.retryable is True
    assert failed.value.code == "unreachable"


def test_whatsapp_addresses_pass_through(stub: ThreadedTwilioStub) -> None:
    with sender(stub_settings(stub.url)) as sms:
        sent = send(sms, to="whatsapp:+4520123456", from_="whatsapp:+4570203040")

    [request] = stub.stub.requests
    assert request.value("To") == "whatsapp:+4520123456"
    assert request.value("From") == "whatsapp:+4570203040"
    assert sent.provider_id is not None
    assert stub.stub.messages[sent.provider_id]["to"] == "whatsapp:+4520123456"


@pytest.mark.asyncio
async def test_from_async_code_through_a_thread(async_stub: TwilioStub) -> None:
    """The stub on the test's own loop; the blocking client must run in a thread."""
    with sender(stub_settings(async_stub.url)) as sms:
        sent = await asyncio.to_thread(send, sms)

    assert sent.provider_id in async_stub.messages
    [request] = async_stub.requests
    assert request.value("Body") == BODY


def test_another_process_reaches_the_threaded_stub(stub: ThreadedTwilioStub) -> None:
    """What `hotline worker` does with HOTLINE_TWILIO_API_URL pointing at the stub."""
    program = (
        "from settings import load_settings\n"
        "from integrations.twilio.client import rest_client\n"
        "from integrations.twilio.sms import TwilioSmsSender\n"
        "client = rest_client(load_settings())\n"
        "sent = TwilioSmsSender(client).send(\n"
        f"    to={TO!r}, from_={FROM!r}, body='Hej', status_callback=None\n"
        ")\n"
        "client.http_client.session.close()\n"
        "print(sent.provider_id, sent.status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        env=hotline_env(stub_environ(stub.url)),
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    [sid] = stub.stub.messages
    assert done.stdout.split() == [sid, "queued"]


# --- the rest of the stub, through the real client (redaction, deletion, calls, recordings) --


def test_a_message_body_is_redacted_and_the_message_deleted(stub: ThreadedTwilioStub) -> None:
    with twilio_client(stub_settings(stub.url)) as client:
        sent = TwilioSmsSender(client).send(to=TO, from_=FROM, body=BODY, status_callback=None)
        sid = sent.provider_id
        assert sid is not None
        redacted = client.messages(sid).update(body="")
        assert redacted.body == ""
        assert stub.stub.messages[sid]["body"] == ""
        assert client.messages(sid).delete() is True

    assert stub.stub.messages == {}
    update, delete = stub.stub.requests[1:]
    assert (update.route, update.value("Body")) == ("messages.update", "")
    assert delete.route == "messages.delete"
    assert delete.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"


def test_an_alert_call_sends_twiml_and_repeated_status_callback_events(
    stub: ThreadedTwilioStub,
) -> None:
    twiml = "<Response><Say language='da-DK'>Ny henvendelse.</Say></Response>"
    events = ["initiated", "ringing", "answered", "completed"]
    with twilio_client(stub_settings(stub.url)) as client:
        call = client.calls.create(
            to=TO,
            from_=FROM,
            twiml=twiml,
            timeout=20,
            status_callback=PUBLIC_BASE_URL + "/twilio/alerts/a1/status",
            status_callback_event=events,
            machine_detection="Enable",
        )

    assert re.match(r"^CA[0-9a-f]{32}$", call.sid)
    assert call.status == "queued"
    [request] = stub.stub.requests_to("calls.create")
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert request.value("Twiml") == twiml
    assert request.values("StatusCallbackEvent") == events
    assert request.value("Timeout") == "20"
    assert request.value("MachineDetection") == "Enable"


def test_a_recording_is_fetched_downloaded_and_deleted(stub: ThreadedTwilioStub) -> None:
    sid = stub.stub.add_recording(duration=3)
    base = f"{stub.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"

    with twilio_client(stub_settings(stub.url)) as client:
        recording = client.recordings(sid).fetch()
        assert (recording.sid, recording.duration, recording.status) == (sid, "3", "completed")
        with requests.Session() as http:
            wav = http.get(base + ".wav", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
            mp3 = http.get(base + ".mp3", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
            anonymous = http.get(base + ".wav", timeout=10)
        assert client.recordings(sid).delete() is True

    assert wav.status_code == 200
    assert wav.headers["Content-Type"] == "audio/x-wav"
    with wave.open(io.BytesIO(wav.content)) as audio:
        assert audio.getnchannels() == 1
        assert audio.getnframes() > 0
    assert mp3.headers["Content-Type"] == "audio/mpeg"
    assert mp3.content[:2] == b"\xff\xfb"
    assert anonymous.status_code == 401
    assert stub.stub.deleted_recordings == [sid]
    assert stub.stub.recordings == []
