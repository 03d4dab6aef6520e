"""A local, Twilio-compatible REST stub (aiohttp on 127.0.0.1) and signed status callbacks.

The real twilio-python client is pointed at it with HOTLINE_TWILIO_API_URL (see
integrations.twilio.client.RedirectingHttpClient): region and edge handling stay real, only scheme
and host are swapped, so the stub sees Twilio's real paths, form fields and Basic auth.

Two ways to run it:

* in a test's event loop: ``async with running_stub() as stub: ...`` (or ``await stub.start()``
  / ``await stub.close()``). The twilio client is synchronous (``requests``), so call it with
  ``asyncio.to_thread`` there, or the loop cannot answer it.
* in a background thread with its own event loop, for synchronous tests and for real
  ``hotline serve/worker`` subprocesses: ``with threaded_stub() as stub: stub.url ...`` (or
  ``ThreadedTwilioStub().start()`` / ``.stop()``).

Routes (form-encoded, like Twilio; every one checks HTTP Basic auth ``AC…:auth token`` or
``SK…:key secret`` and answers a Twilio-shaped 401 otherwise) and their names for faults:

==================  ======  ====================================================
messages.create     POST    /2010-04-01/Accounts/{AC}/Messages.json        → 201
messages.fetch      GET     /2010-04-01/Accounts/{AC}/Messages/{SM}.json   → 200
messages.update     POST    /2010-04-01/Accounts/{AC}/Messages/{SM}.json   → 200
messages.delete     DELETE  /2010-04-01/Accounts/{AC}/Messages/{SM}.json   → 204
calls.create        POST    /2010-04-01/Accounts/{AC}/Calls.json           → 201
recordings.fetch    GET     /2010-04-01/Accounts/{AC}/Recordings/{RE}.json → 200
recordings.media    GET     /2010-04-01/Accounts/{AC}/Recordings/{RE}[.wav|.mp3] → audio
recordings.delete   DELETE  /2010-04-01/Accounts/{AC}/Recordings/{RE}.json → 204
==================  ======  ====================================================

Faults: ``stub.fail_next(route, fault, times=1)`` or ``stub.enqueue_faults(route, *faults)``;
each queued fault is used by exactly one later request to that route (after the auth check), in
order; ``"*"`` matches any route. See `TwilioError`, `ProblemError`, `ServerError`, `Delay`.

Calls: ``stub.calls`` keeps each created call with what it was created with (``_url``,
``_status_callback``, ``_status_callback_events``, …). ``await stub.simulate_call(sid,
local_base_url=app_url, outcome="answered", digits=["1"])`` then plays Twilio's side of it against
the hotline: signed status callbacks for the subscribed events, the POST to the call's Url for
its TwiML, a POST to the TwiML's ``<Gather action>`` per digit pressed, and the final status.
Every request is signed for its public URL (as Twilio signs it) and sent to the same path under
the app's local address; the returned `SimulatedCall` holds each delivery, so a test can replay
one as Twilio's retries would.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import secrets
import struct
import threading
import wave
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sequence,
)
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal, TypeAlias, TypeVar

import aiohttp
from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import RequestValidator

from tests.support.twilio_signing import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    sign_form,
    twilio_environ,
)

API_VERSION = "2010-04-01"
API_KEY_SID = "SK" + "1" * 32
API_KEY_SECRET = "test-twilio-api-key-secret-0123456"
# Fault key matching every route.
ANY_ROUTE = "*"

T = TypeVar("T")
Fields: TypeAlias = AbcMapping[str, str] | Iterable[tuple[str, str]]

_E164 = re.compile(r"^(whatsapp:)?\+[1-9]\d{6,14}$")
_ACCOUNT = r"(?P<account>AC[0-9a-zA-Z]{32})"


def new_sid(prefix: str) -> str:
    """A Twilio-looking SID: the two-letter prefix and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _more_info(code: int) -> str:
    return f"https://www.twilio.com/docs/errors/{code}"


# --- faults -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwilioError:
    """Twilio's usual error JSON, e.g. 400 + code 21211 (invalid 'To' number)."""

    code: int = 21211
    message: str = "The 'To' number is not a valid phone number."
    status: int = 400


@dataclass(frozen=True)
class ProblemError:
    """An RFC 9457 problem document, the shape some newer Twilio APIs answer with."""

    code: int = 21211
    title: str = "Invalid 'To' Phone Number"
    detail: str = "The 'To' number is not a valid phone number."
    status: int = 400


@dataclass(frozen=True)
class ServerError:
    """A plain HTTP error (500 by default), not JSON: a load balancer or a crash."""

    status: int = 500
    text: str = "Internal Server Error"


@dataclass(frozen=True)
class Delay:
    """Wait `seconds` before answering (then apply `then`, or answer normally).

    Meant to outlast a client timeout. The wait ends early, with a 503, when the stub stops;
    when the client gives up and disconnects, the handler is cancelled.
    """

    seconds: float
    then: TwilioError | ProblemError | ServerError | None = None


Fault: TypeAlias = TwilioError | ProblemError | ServerError | Delay


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stub received (also refused ones)."""

    method: str
    path: str
    query: MultiDictProxy[str]
    form: MultiDictProxy[str]
    # The Basic auth user name (AC… or SK…), or None without a readable Authorization header.
    auth_user: str | None
    # Whether the credentials were accepted.
    authenticated: bool
    # Route name (see the module docstring), or None for a path the stub does not know.
    route: str | None

    def value(self, name: str) -> str | None:
        """The (first) form field `name`, or None."""
        return self.form.get(name)

    def values(self, name: str) -> list[str]:
        """Every value of a repeated form field, in the order sent."""
        return list(self.form.getall(name, []))


@dataclass(frozen=True)
class CallbackResult:
    """What the hotline answered to a status callback."""

    status: int
    text: str


CallOutcome: TypeAlias = Literal["answered", "busy", "no-answer", "failed", "canceled"]


@dataclass(frozen=True)
class WebhookDelivery:
    """One signed request the stub made to the hotline during a simulated call."""

    local_url: str
    public_url: str
    fields: tuple[tuple[str, str], ...]
    result: CallbackResult

    def fields_dict(self) -> dict[str, str]:
        return dict(self.fields)

    async def replay(self, auth_token: str = AUTH_TOKEN) -> CallbackResult:
        """Send the same request again, as Twilio does when it retries a webhook."""
        return await send_status_callback(
            self.local_url, self.public_url, self.fields_dict(), auth_token=auth_token
        )


@dataclass
class SimulatedCall:
    sid: str
    # The status callbacks, in order.
    statuses: list[WebhookDelivery] = field(default_factory=list)
    # The TwiML requests, in order: the call's Url when answered, then one per key pressed.
    twiml: list[WebhookDelivery] = field(default_factory=list)

    @property
    def keypresses(self) -> list[WebhookDelivery]:
        return [d for d in self.twiml if "Digits" in d.fields_dict()]

    @property
    def call_statuses(self) -> list[str]:
        return [d.fields_dict()["CallStatus"] for d in self.statuses]


def _gather_action(twiml: str) -> str | None:
    """The action URL of the first <Gather> (where Twilio posts the keys), if any."""
    try:
        root = ET.fromstring(twiml)  # noqa: S314  (the hotline's own answer in a test)
    except ET.ParseError:
        return None
    gather = root.find("Gather")
    if gather is None:
        return None
    if gather.get("method", "POST") != "POST":
        raise ValueError("the stub simulates POST Gather actions only")
    return gather.get("action")


@dataclass
class _Recording:
    sid: str
    call_sid: str
    duration: int
    audio: bytes
    date_created: str = field(default_factory=_now)


# --- audio ------------------------------------------------------------------------------------


def tiny_wav(seconds: float = 0.25, rate: int = 8000, frequency: float = 440.0) -> bytes:
    """A valid mono 16-bit PCM WAV file: a quiet square-wave tone (a recording's stand-in)."""
    frames = int(seconds * rate)
    period = max(2, int(rate / frequency))
    amplitude = 2000
    samples = b"".join(
        struct.pack("<h", amplitude if (i % period) < period // 2 else -amplitude)
        for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples)
    return buffer.getvalue()


def silent_mp3(frames: int = 10) -> bytes:
    """MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz, mono, no CRC, 417 bytes each).

    Every side-information bit is zero (no main data), which decodes as silence.
    """
    header = bytes([0xFF, 0xFB, 0x90, 0xC0])
    frame = header + bytes(417 - len(header))
    return frame * frames


# --- status callbacks -------------------------------------------------------------------------


def _as_multidict(fields: Fields) -> MultiDict[str]:
    items = fields.items() if isinstance(fields, AbcMapping) else fields
    return MultiDict((str(k), str(v)) for k, v in items)


async def send_status_callback(
    local_url: str,
    public_url: str,
    fields: Fields,
    *,
    auth_token: str = AUTH_TOKEN,
    request_timeout: float = 10,
) -> CallbackResult:
    """POST `fields` form-encoded to `local_url`, signed as Twilio signs a call to `public_url`.

    This is what Twilio does behind a reverse proxy: it signs the public URL (with its query)
    while the request reaches the app on its internal address. Repeated fields are allowed
    (pass a sequence of pairs).
    """
    form = _as_multidict(fields)
    if isinstance(fields, AbcMapping):
        signature = sign_form(public_url, fields, token=auth_token)
    else:
        signature = str(RequestValidator(auth_token).compute_signature(public_url, form))
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=request_timeout)) as session,
        session.post(
            local_url,
            data=list(form.items()),
            headers={
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
            },
        ) as response,
    ):
        return CallbackResult(response.status, await response.text())


def message_status_fields(
    message_sid: str,
    status: str,
    *,
    to: str,
    from_: str | None,
    account_sid: str = ACCOUNT_SID,
    error_code: int | str | None = None,
    messaging_service_sid: str | None = None,
) -> dict[str, str]:
    """The form fields of a message status callback (no ErrorCode unless one is given)."""
    fields = {
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "AccountSid": account_sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": to,
        "ApiVersion": API_VERSION,
    }
    if from_ is not None:
        fields["From"] = from_
    if messaging_service_sid is not None:
        fields["MessagingServiceSid"] = messaging_service_sid
    if error_code is not None:
        fields["ErrorCode"] = str(error_code)
    return fields


# --- the stub ---------------------------------------------------------------------------------

_Handler = Callable[[web.Request, "_Matched"], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Matched:
    route: str
    account: str
    sid: str | None
    extension: str | None
    form: MultiDictProxy[str]


class TwilioStub:
    """The stub's state and HTTP app. Thread-safe: state may be read and faults programmed from
    any thread while it serves requests on its own loop."""

    def __init__(
        self,
        *,
        account_sid: str = ACCOUNT_SID,
        auth_token: str | None = AUTH_TOKEN,
        api_keys: AbcMapping[str, str] | None = None,
        media_requires_auth: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_keys = dict({API_KEY_SID: API_KEY_SECRET} if api_keys is None else api_keys)
        self.media_requires_auth = media_requires_auth
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._messages: dict[str, dict[str, Any]] = {}
        self._calls: dict[str, dict[str, Any]] = {}
        self._recordings: dict[str, _Recording] = {}
        self._deleted_recordings: list[str] = []
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._url: str | None = None
        self._routes: list[tuple[str, re.Pattern[str], str, _Handler]] = [
            ("POST", self._path(r"Messages\.json"), "messages.create", self._create_message),
            ("GET", self._path(r"Messages/(?P<sid>SM\w+)\.json"), "messages.fetch", self._fetch),
            ("POST", self._path(r"Messages/(?P<sid>SM\w+)\.json"), "messages.update", self._update),
            (
                "DELETE",
                self._path(r"Messages/(?P<sid>SM\w+)\.json"),
                "messages.delete",
                self._delete,
            ),
            ("POST", self._path(r"Calls\.json"), "calls.create", self._create_call),
            (
                "GET",
                self._path(r"Recordings/(?P<sid>RE\w+)\.json"),
                "recordings.fetch",
                self._fetch_recording,
            ),
            (
                "GET",
                self._path(r"Recordings/(?P<sid>RE\w+?)(?P<ext>\.wav|\.mp3)?"),
                "recordings.media",
                self._recording_media,
            ),
            (
                "DELETE",
                self._path(r"Recordings/(?P<sid>RE\w+)\.json"),
                "recordings.delete",
                self._delete_recording,
            ),
        ]

    @staticmethod
    def _path(tail: str) -> re.Pattern[str]:
        return re.compile(rf"^/{API_VERSION}/Accounts/{_ACCOUNT}/{tail}$")

    # -- lifecycle --

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (for HOTLINE_TWILIO_API_URL)."""
        if self._url is None:
            raise RuntimeError("the Twilio stub is not running")
        return self._url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a delayed answer stops when the client gives up.
        runner = web.AppRunner(
            app,
            handle_signals=False,
            handler_cancellation=True,
            shutdown_timeout=2,
            access_log=None,
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._stopping = asyncio.Event()
        bound_host, bound_port = runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        return self._url

    async def close(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._url = None

    # -- programming and inspecting (any thread) --

    def enqueue_faults(self, route: str, *faults: Fault) -> None:
        """The next len(faults) requests to `route` (or any route with "*") get these, in order."""
        with self._lock:
            self._faults.setdefault(route, deque()).extend(faults)

    def fail_next(self, route: str, fault: Fault, *, times: int = 1) -> None:
        self.enqueue_faults(route, *([fault] * times))

    def pending_faults(self, route: str) -> int:
        with self._lock:
            return len(self._faults.get(route, ()))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a copy)."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    def clear(self) -> None:
        """Forget received requests and queued faults (not messages, calls or recordings)."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        """Message resources by SID, as last returned (a copy; deleted ones are gone)."""
        with self._lock:
            return {sid: dict(resource) for sid, resource in self._messages.items()}

    @property
    def calls(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {sid: dict(resource) for sid, resource in self._calls.items()}

    @property
    def recordings(self) -> list[str]:
        with self._lock:
            return list(self._recordings)

    @property
    def deleted_recordings(self) -> list[str]:
        with self._lock:
            return list(self._deleted_recordings)

    def add_recording(
        self,
        sid: str | None = None,
        *,
        call_sid: str | None = None,
        duration: int = 1,
        audio: bytes | None = None,
    ) -> str:
        """Make a recording exist (its media is `audio`, by default a tiny WAV); returns its SID."""
        recording = _Recording(
            sid=sid or new_sid("RE"),
            call_sid=call_sid or new_sid("CA"),
            duration=duration,
            audio=tiny_wav() if audio is None else audio,
        )
        with self._lock:
            self._recordings[recording.sid] = recording
        return recording.sid

    async def send_message_status(
        self,
        message_sid: str,
        status: str,
        *,
        local_base_url: str,
        public_base_url: str = PUBLIC_BASE_URL,
        error_code: int | str | None = None,
        auth_token: str | None = None,
    ) -> CallbackResult:
        """Send the status callback of a message created through the stub to its StatusCallback.

        The StatusCallback is the hotline's public URL; the request goes to the same path and
        query under `local_base_url` (the app's real address), signed for the public URL.
        """
        with self._lock:
            resource = dict(self._messages[message_sid])
            callback = self._messages[message_sid].get("_status_callback")
        if not callback:
            raise ValueError(f"message {message_sid} was sent without a StatusCallback")
        if not str(callback).startswith(public_base_url):
            raise ValueError(f"StatusCallback {callback!r} is not under {public_base_url!r}")
        local_url = local_base_url.rstrip("/") + str(callback)[len(public_base_url) :]
        fields = message_status_fields(
            message_sid,
            status,
            to=resource["to"],
            from_=resource["from"],
            account_sid=resource["account_sid"],
            error_code=error_code,
            messaging_service_sid=resource["messaging_service_sid"],
        )
        return await send_status_callback(
            local_url, str(callback), fields, auth_token=auth_token or self.auth_token or AUTH_TOKEN
        )

    async def simulate_call(
        self,
        call_sid: str,
        *,
        local_base_url: str,
        public_base_url: str = PUBLIC_BASE_URL,
        outcome: CallOutcome = "answered",
        digits: Sequence[str] = ("1",),
        duration: int = 25,
        error_code: int | str | None = None,
        auth_token: str | None = None,
    ) -> SimulatedCall:
        """Play Twilio's side of a call created through the stub, against the hotline.

        "answered": initiated, ringing, answered (CallStatus in-progress) callbacks; the call's
        Url is fetched for TwiML; each digit in `digits` is posted to the current TwiML's first
        `<Gather>` action (its answer is the next TwiML; no Gather left ends the keys); then
        "completed" with CallDuration. Any other outcome ends with that status after ringing
        ("failed": after "initiated" only, with `error_code` when given). Callbacks go only for
        the events the call subscribed to. The call's status in the stub becomes the final one.
        """
        with self._lock:
            resource = dict(self._calls[call_sid])
        token = auth_token or self.auth_token or AUTH_TOKEN
        base = public_base_url.rstrip("/")

        async def deliver(public_url: str, fields: dict[str, str]) -> WebhookDelivery:
            if not public_url.startswith(base + "/"):
                raise ValueError(f"{public_url!r} is not under {public_base_url!r}")
            local_url = local_base_url.rstrip("/") + public_url[len(base) :]
            result = await send_status_callback(local_url, public_url, fields, auth_token=token)
            return WebhookDelivery(local_url, public_url, tuple(fields.items()), result)

        call_fields = {
            "CallSid": call_sid,
            "AccountSid": resource["account_sid"],
            "From": resource["from"],
            "To": resource["to"],
            "Caller": resource["from"],
            "Called": resource["to"],
            "Direction": "outbound-api",
            "ApiVersion": API_VERSION,
        }
        simulated = SimulatedCall(call_sid)
        callback = resource["_status_callback"]
        if callback and resource["_status_callback_method"] != "POST":
            raise ValueError("the stub simulates POST status callbacks only")
        events = set(resource["_status_callback_events"])
        sequence = iter(range(100))

        async def status(event: str, call_status: str, **extra: str) -> None:
            with self._lock:
                self._calls[call_sid]["status"] = call_status
            if not callback or event not in events:
                return
            fields = {
                **call_fields,
                "CallStatus": call_status,
                "CallbackSource": "call-progress-events",
                "Timestamp": _now(),
                "SequenceNumber": str(next(sequence)),
                **extra,
            }
            simulated.statuses.append(await deliver(str(callback), fields))

        await status("initiated", "initiated")
        if outcome == "failed":
            extra = {} if error_code is None else {"ErrorCode": str(error_code)}
            await status("completed", "failed", **extra)
            return simulated
        await status("ringing", "ringing")
        if outcome != "answered":
            await status("completed", outcome)
            return simulated
        await status("answered", "in-progress")
        answering = {**call_fields, "CallStatus": "in-progress"}
        if resource["_url"]:
            if resource["_method"] != "POST":
                raise ValueError("the stub simulates a POST to the call's Url only")
            fetched = await deliver(str(resource["_url"]), answering)
            simulated.twiml.append(fetched)
            current = fetched.result.text
        else:
            current = str(resource["_twiml"])
        for digit in digits:
            action = _gather_action(current)
            if action is None:
                break
            pressed = await deliver(action, {**answering, "Digits": digit, "FinishedOnKey": ""})
            simulated.twiml.append(pressed)
            current = pressed.result.text
        await status("completed", "completed", CallDuration=str(duration))
        return simulated

    # -- HTTP --

    def _authenticate(self, request: web.Request) -> tuple[str | None, bool]:
        header = request.headers.get("Authorization", "")
        try:
            auth = aiohttp.BasicAuth.decode(header)
        except ValueError:
            return None, False
        if auth.login == self.account_sid and self.auth_token is not None:
            expected: str | None = self.auth_token
        else:
            expected = self.api_keys.get(auth.login)
        ok = expected is not None and secrets.compare_digest(auth.password, expected)
        return auth.login, ok

    def _json(self, payload: Any, status: int = 200) -> web.Response:
        return web.json_response(payload, status=status, content_type="application/json")

    def _error(self, status: int, code: int, message: str) -> web.Response:
        payload = {
            "code": code,
            "message": message,
            "more_info": _more_info(code),
            "status": status,
        }
        return self._json(payload, status)

    def _not_found(self, path: str) -> web.Response:
        return self._error(404, 20404, f"The requested resource {path} was not found")

    def _fault_response(self, fault: TwilioError | ProblemError | ServerError) -> web.Response:
        if isinstance(fault, TwilioError):
            return self._error(fault.status, fault.code, fault.message)
        if isinstance(fault, ProblemError):
            problem = {
                "type": _more_info(fault.code),
                "title": fault.title,
                "status": fault.status,
                "code": fault.code,
                "detail": fault.detail,
            }
            return web.json_response(
                problem, status=fault.status, content_type="application/problem+json"
            )
        return web.Response(status=fault.status, text=fault.text)

    def _next_fault(self, route: str) -> Fault | None:
        with self._lock:
            for key in (route, ANY_ROUTE):
                queue = self._faults.get(key)
                if queue:
                    return queue.popleft()
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        posted = await request.post() if request.method == "POST" else MultiDictProxy(MultiDict())
        # Twilio's API takes form fields only (no file uploads).
        form = MultiDictProxy(MultiDict((k, v) for k, v in posted.items() if isinstance(v, str)))
        path = request.path
        matched: _Matched | None = None
        handler: _Handler | None = None
        for method, pattern, route, route_handler in self._routes:
            found = pattern.match(path)
            if found and method == request.method:
                groups = found.groupdict()
                matched = _Matched(
                    route, groups["account"], groups.get("sid"), groups.get("ext"), form
                )
                handler = route_handler
                break
        user, authenticated = self._authenticate(request)
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    method=request.method,
                    path=path,
                    query=MultiDictProxy(MultiDict(request.query)),
                    form=MultiDictProxy(MultiDict(form)),
                    auth_user=user,
                    authenticated=authenticated,
                    route=matched.route if matched else None,
                )
            )
        media_without_auth = (
            matched is not None
            and matched.route == "recordings.media"
            and not self.media_requires_auth
            and user is None
        )
        if not authenticated and not media_without_auth:
            response = self._error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        if matched is None or handler is None:
            return self._not_found(path)
        if matched.account != self.account_sid:
            return self._not_found(path)
        fault = self._next_fault(matched.route)
        if isinstance(fault, Delay):
            if await self._wait(fault.seconds):
                return web.Response(status=503, text="stub stopping")
            fault = fault.then
        if fault is not None:
            return self._fault_response(fault)
        return await handler(request, matched)

    async def _wait(self, seconds: float) -> bool:
        """Wait `seconds`; True if the stub began stopping first."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    # -- messages --

    def _public(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in resource.items() if not k.startswith("_")}

    async def _create_message(self, request: web.Request, m: _Matched) -> web.StreamResponse:
        to, from_ = m.form.get("To"), m.form.get("From")
        service = m.form.get("MessagingServiceSid")
        body = m.form.get("Body")
        media = m.form.getall("MediaUrl", [])
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service:
            return self._error(400, 21603, "A 'From' phone number is required.")
        if not body and not media and not m.form.get("ContentSid"):
            return self._error(400, 21602, "Message body is required.")
        if not _E164.match(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        sid = new_sid("SM")
        now = _now()
        resource: dict[str, Any] = {
            "account_sid": m.account,
            "api_version": API_VERSION,
            "body": body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": str(len(media)),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Twilio answers "accepted" when a Messaging Service picks the sender.
            "status": "queued" if from_ else "accepted",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{m.account}/Messages/{sid}/Media.json"
            },
            "to": to,
            "uri": f"/{API_VERSION}/Accounts/{m.account}/Messages/{sid}.json",
            "_status_callback": m.form.get("StatusCallback"),
        }
        with self._lock:
            self._messages[sid] = resource
        return self._json(self._public(resource), 201)

    async def _fetch(self, request: web.Request, m: _Matched) -> web.StreamResponse:
        with self._lock:
            resource = self._messages.get(str(m.sid))
            payload = None if resource is None else self._public(resource)
        if payload is None:
            return self._not_found(request.path)
        return self._json(payload)

    async def _update(self, request: web.Request, m: _Matched) -> web.StreamResponse:
        with self._lock:
            resource = self._messages.get(str(m.sid))
            if resource is not None:
                if "Body" in m.form:
                    resource["body"] = m.form["Body"]
                if "Status" in m.form:
                    resource["status"] = m.form["Status"]
                resource["date_updated"] = _now()
            payload = None if resource is None else self._public(resource)
        if payload is None:
            return self._not_found(request.path)
        return self._json(payload)

    async def _delete(self, request: web.Request, m: _Matched) -> web.StreamResponse:
        with self._lock:
            resource = self._messages.pop(str(m.sid), None)
        if resource is None:
            return self._not_found(request.path)
        return web.Response(status=204)

    # -- calls --

    async def _create_call(self, request: web.Request, m: _Matched) -> web.StreamResponse:
        to, from_ = m.form.get("To"), m.form.get("From")
        if not to:
            return self._error(400, 21201, "No 'To' number is specified")
        if not from_:
            return self._error(400, 21213, "No 'From' number is specified")
        if not m.form.get("Url") and not m.form.get("Twiml") and not m.form.get("ApplicationSid"):
            return self._error(400, 21205, "Url parameter is required.")
        if not _E164.match(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        sid = new_sid("CA")
        now = _now()
        resource: dict[str, Any] = {
            "account_sid": m.account,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": from_,
            "from_formatted": from_,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {
                "recordings": f"/{API_VERSION}/Accounts/{m.account}/Calls/{sid}/Recordings.json"
            },
            "to": to,
            "to_formatted": to,
            "uri": f"/{API_VERSION}/Accounts/{m.account}/Calls/{sid}.json",
            # What the call was created with (not part of Twilio's answer).
            "_url": m.form.get("Url"),
            "_method": m.form.get("Method") or "POST",
            "_twiml": m.form.get("Twiml"),
            "_status_callback": m.form.get("StatusCallback"),
            "_status_callback_method": m.form.get("StatusCallbackMethod") or "POST",
            # Twilio's default when none are named: only the call's end.
            "_status_callback_events": m.form.getall("StatusCallbackEvent", []) or ["completed"],
            "_timeout": m.form.get("Timeout"),
            "_time_limit": m.form.get("TimeLimit"),
            "_machine_detection": m.form.get("MachineDetection"),
        }
        with self._lock:
            self._calls[sid] = resource
        return self._json(self._public(resource), 201)

    # -- recordings --

    def _recording(self, sid: str | None) -> _Recording | None:
        with self._lock:
            return self._recordings.get(str(sid))

    async def _fetch_recording(self, request: web.Request, m: _Matched) -> web.StreamResponse:
        recording = self._recording(m.sid)
        if recording is None:
            return self._not_found(request.path)
        base = f"/{API_VERSION}/Accounts/{m.account}/Recordings/{recording.sid}"
        return self._json(
            {
                "account_sid": m.account,
                "api_version": API_VERSION,
                "call_sid": recording.call_sid,
                "channels": 1,
                "conference_sid": None,
                "date_created": recording.date_created,
                "date_updated": recording.date_created,
                "duration": str(recording.duration),
                "encryption_details": None,
                "error_code": None,
                "media_url": f"https://api.twilio.com{base}",
                "price": None,
                "price_unit": "USD",
                "sid": recording.sid,
                "source": "RecordVerb",
                "start_time": recording.date_created,
                "status": "completed",
                "uri": f"{base}.json",
            }
        )

    async def _recording_media(self, request: web.Request, m: _Matched) -> web.StreamResponse:
        recording = self._recording(m.sid)
        if recording is None:
            return self._not_found(request.path)
        if m.extension == ".mp3":
            return web.Response(body=silent_mp3(), content_type="audio/mpeg")
        return web.Response(body=recording.audio, content_type="audio/x-wav")

    async def _delete_recording(self, request: web.Request, m: _Matched) -> web.StreamResponse:
        with self._lock:
            recording = self._recordings.pop(str(m.sid), None)
            if recording is not None:
                self._deleted_recordings.append(recording.sid)
        if recording is None:
            return self._not_found(request.path)
        return web.Response(status=204)


# --- running it -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_stub(**options: Any) -> AsyncIterator[TwilioStub]:
    """The stub on this event loop, for async tests (`TwilioStub` keyword options)."""
    stub = TwilioStub(**options)
    await stub.start()
    try:
        yield stub
    finally:
        await stub.close()


class ThreadedTwilioStub:
    """The stub on its own event loop in a background thread: for sync tests and subprocesses.

    `.stub` is the `TwilioStub` (its programming and inspection methods are thread-safe);
    `.url`, `.stop()`, and `.call(coroutine)` to run something on the stub's loop.
    """

    def __init__(self, stub: TwilioStub | None = None, **options: Any) -> None:
        self.stub = stub or TwilioStub(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="twilio-stub", daemon=True)
        self._started = False

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()

    def start(self, host: str = "127.0.0.1", port: int = 0) -> ThreadedTwilioStub:
        self._thread.start()
        self._started = True
        try:
            self.call(self.stub.start(host, port))
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def url(self) -> str:
        return self.stub.url

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run `coroutine` on the stub's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def send_status_callback(
        self, local_url: str, public_url: str, fields: Fields, **options: Any
    ) -> CallbackResult:
        return self.call(send_status_callback(local_url, public_url, fields, **options))

    def send_message_status(self, message_sid: str, status: str, **options: Any) -> CallbackResult:
        return self.call(self.stub.send_message_status(message_sid, status, **options))

    def simulate_call(self, call_sid: str, **options: Any) -> SimulatedCall:
        return self.call(self.stub.simulate_call(call_sid, **options))

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        try:
            if self._loop.is_running():
                self.call(self.stub.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)

    def __enter__(self) -> ThreadedTwilioStub:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def threaded_stub(**options: Any) -> Iterator[ThreadedTwilioStub]:
    """``with threaded_stub() as stub:`` the stub running in a background thread."""
    runner = ThreadedTwilioStub(**options).start()
    try:
        yield runner
    finally:
        runner.stop()


def stub_environ(url: str, *, api_key: bool = False) -> dict[str, str]:
    """HOTLINE_* variables for a configured Twilio account whose REST calls go to the stub."""
    environ = {**twilio_environ(), "HOTLINE_TWILIO_API_URL": url}
    if api_key:
        environ["HOTLINE_TWILIO_API_KEY_SID"] = API_KEY_SID
        environ["HOTLINE_TWILIO_API_KEY_SECRET"] = API_KEY_SECRET
    return environ
