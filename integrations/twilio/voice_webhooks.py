"""Twilio's voice webhooks: the phone menu, putting calls through, voicemail, call statuses.

Every route is a `twilio_webhook` (public, no CSRF, 403 without a valid signature, before
anything is read or stored). Each translates Twilio's form fields into intake.calls, commits,
answers TwiML at once (integrations/twilio/voice_twiml.py), and only then enqueues jobs: the
take-in of the call's contact, the fetch of a voicemail. The sweeper covers a lost enqueue.

The call, step by step (all action URLs absolute, from HOTLINE_PUBLIC_BASE_URL):

POST /twilio/voice              incoming call; `To` picks the hotline → greeting + role menu
POST /twilio/voice/role         9 → English; 1 professional, 2 private person → anonymity menu
POST /twilio/voice/anonymity    1 anonymous, 2 not → put through (open) or voicemail (closed)
POST /twilio/voice/whisper      to the on-duty phone that picked up: press 1 to take the call
POST /twilio/voice/whisper/accept   1 pressed: this phone takes the call
POST /twilio/voice/dial-result  answered and accepted → done; otherwise → voicemail
POST /twilio/voice/recorded     after the voicemail: thanks, goodbye
POST /twilio/voice/recording    the voicemail's audio exists → fetch job
POST /twilio/voice/status       call status callback (set on the number in Twilio's console)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import structlog
from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake import calls, opening_hours
from integrations.twilio import voice_twiml
from integrations.twilio.webhooks import form_fields, twilio_webhook
from jobqueue import fetch_recordings, take_in_contacts
from web.appkeys import deps_key

if TYPE_CHECKING:
    from bootstrap import Deps

log = structlog.get_logger(__name__)

VOICE_PATH = "/twilio/voice"
ROLE_PATH = "/twilio/voice/role"
ANONYMITY_PATH = "/twilio/voice/anonymity"
WHISPER_PATH = "/twilio/voice/whisper"
WHISPER_ACCEPT_PATH = "/twilio/voice/whisper/accept"
DIAL_RESULT_PATH = "/twilio/voice/dial-result"
RECORDED_PATH = "/twilio/voice/recorded"
RECORDING_PATH = "/twilio/voice/recording"
STATUS_PATH = "/twilio/voice/status"

T = TypeVar("T")


def _twiml(xml: str) -> web.Response:
    return web.Response(text=xml, content_type="text/xml")


def _required(form: dict[str, str], *names: str) -> list[str]:
    values = [form.get(name, "").strip() for name in names]
    if not all(values):
        raise web.HTTPBadRequest(reason=" and ".join(names) + " are required")
    return values


def _url(deps: Deps, path: str) -> str:
    # twilio_webhook refuses every request when no public URL is configured.
    assert deps.settings.public_base_url is not None
    return deps.settings.public_base_url + path


def _seconds(value: str | None) -> int | None:
    try:
        return max(0, int(value)) if value else None
    except ValueError:
        return None


async def _in_transaction(deps: Deps, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with deps.sessions() as session, session.begin():
        return await work(session)


def _take_in(deps: Deps, found: calls.CallState) -> None:
    """Committed: the contact's case is opened by the job (the sweeper covers a lost enqueue)."""
    if found.contact.processed_at is None:
        deps.enqueuer.submit(take_in_contacts, found.contact.id)


def _spoken_name(name: str) -> str:
    return name.split(" (", maxsplit=1)[0]


def _welcome(deps: Deps, found: calls.CallState) -> str:
    texts = voice_twiml.texts_for(found.call.language)
    name = found.hotline.name_en if found.call.language == "en" else found.hotline.name_da
    return voice_twiml.welcome(texts, hotline_name=_spoken_name(name), action=_url(deps, ROLE_PATH))


def _voicemail(deps: Deps, found: calls.CallState, message: str) -> str:
    return voice_twiml.voicemail(
        voice_twiml.texts_for(found.call.language),
        message,
        action=_url(deps, RECORDED_PATH),
        recording_callback=_url(deps, RECORDING_PATH),
    )


def _not_found(language: str = "da") -> web.Response:
    texts = voice_twiml.texts_for(language)
    return _twiml(voice_twiml.say_and_hang_up(texts, texts.unknown_number))


@twilio_webhook
async def incoming_call(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    sid, to = _required(form, "CallSid", "To")
    deps = request.app[deps_key]
    now = deps.clock.now()
    incoming = calls.IncomingCall(provider_id=sid, from_address=form.get("From", ""), to_address=to)
    closed = opening_hours.closed_dates_for(
        now, closed_on_holidays=deps.settings.closed_on_holidays
    )

    async def start(session: AsyncSession) -> tuple[calls.CallState, bool]:
        return await calls.start_call(
            session, incoming, now=now, cipher=deps.cipher, closed_dates=closed
        )

    try:
        found, _new = await _in_transaction(deps, start)
    except calls.UnknownHotlineNumber:
        log.warning("call_to_unknown_number", provider_id=sid)
        return _not_found()
    except IntegrityError:
        # The same call stored by a concurrent retry of this webhook.
        found = await _in_transaction(deps, lambda s: calls.state(s, sid))
    return _twiml(_welcome(deps, found))


@twilio_webhook
async def role_chosen(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    (sid,) = _required(form, "CallSid")
    digits = form.get("Digits", "")
    deps = request.app[deps_key]

    async def choose(session: AsyncSession) -> tuple[calls.CallState, bool]:
        current = await calls.state(session, sid)
        if digits.strip() == calls.ENGLISH_DIGIT and current.call.language != "en":
            return await calls.choose_language(session, sid, "en"), True
        return await calls.choose_role(session, sid, digits), False

    try:
        found, switched = await _in_transaction(deps, choose)
    except calls.CallNotFound:
        return _not_found()
    if switched:
        return _twiml(_welcome(deps, found))
    texts = voice_twiml.texts_for(found.call.language)
    return _twiml(voice_twiml.anonymity_question(texts, action=_url(deps, ANONYMITY_PATH)))


@twilio_webhook
async def anonymity_chosen(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    (sid,) = _required(form, "CallSid")
    deps = request.app[deps_key]
    try:
        found = await _in_transaction(
            deps, lambda s: calls.choose_anonymity(s, sid, form.get("Digits", ""))
        )
    except calls.CallNotFound:
        return _not_found()
    _take_in(deps, found)
    texts = voice_twiml.texts_for(found.call.language)
    hotline = found.hotline
    if found.call.outside_hours:
        describe = (
            opening_hours.describe_en if found.call.language == "en" else opening_hours.describe_da
        )
        closed = texts.closed.format(hours=describe(hotline.opening_hours))
        return _twiml(_voicemail(deps, found, closed))
    if not hotline.duty_numbers:
        log.warning("call_no_duty_numbers", hotline=hotline.id, call_id=found.call.id)
        return _twiml(_voicemail(deps, found, texts.nobody_free))
    return _twiml(
        voice_twiml.put_through(
            texts,
            hotline.duty_numbers,
            action=_url(deps, DIAL_RESULT_PATH),
            whisper_url=_url(deps, WHISPER_PATH),
            # A caller who chose anonymity is not shown to the on-duty phone by number.
            caller_id=found.contact.hotline_address if found.contact.anonymous else None,
            recording_callback=_url(deps, RECORDING_PATH) if hotline.record_calls else None,
        )
    )


@twilio_webhook
async def whisper(request: web.Request) -> web.StreamResponse:
    await form_fields(request)
    deps = request.app[deps_key]
    return _twiml(voice_twiml.whisper(voice_twiml.DANISH, action=_url(deps, WHISPER_ACCEPT_PATH)))


@twilio_webhook
async def whisper_accept(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    leg, parent = _required(form, "CallSid", "ParentCallSid")
    if form.get("Digits", "").strip() != "1":
        return _twiml(voice_twiml.hang_up())
    deps = request.app[deps_key]
    duty_number = form.get("To", "")

    async def accept(session: AsyncSession) -> bool:
        found = await calls.state(session, parent)
        numbers = list(found.hotline.duty_numbers)
        index = numbers.index(duty_number) if duty_number in numbers else -1
        label = calls.duty_label(index) if index >= 0 else "duty-?"
        return await calls.accept_leg(
            session, parent, leg_id=leg, label=label, now=deps.clock.now()
        )

    try:
        accepted = await _in_transaction(deps, accept)
    except calls.CallNotFound:
        return _twiml(voice_twiml.hang_up())
    return _twiml(voice_twiml.connect() if accepted else voice_twiml.hang_up())


@twilio_webhook
async def dial_result(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    sid, status = _required(form, "CallSid", "DialCallStatus")
    deps = request.app[deps_key]
    try:
        found = await _in_transaction(
            deps,
            lambda s: calls.dial_result(
                s,
                sid,
                dial_status=status,
                leg_id=form.get("DialCallSid") or None,
                duration=_seconds(form.get("DialCallDuration")),
            ),
        )
    except calls.CallNotFound:
        return _not_found()
    if calls.answered(found):
        return _twiml(voice_twiml.hang_up())
    texts = voice_twiml.texts_for(found.call.language)
    return _twiml(_voicemail(deps, found, texts.nobody_free))


@twilio_webhook
async def recorded(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    (sid,) = _required(form, "CallSid")
    deps = request.app[deps_key]
    try:
        found = await _in_transaction(deps, lambda s: calls.state(s, sid))
    except calls.CallNotFound:
        return _twiml(voice_twiml.hang_up())
    texts = voice_twiml.texts_for(found.call.language)
    return _twiml(voice_twiml.say_and_hang_up(texts, texts.thanks))


@twilio_webhook
async def recording_status(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    sid, recording_sid, status = _required(form, "CallSid", "RecordingSid", "RecordingStatus")
    if status.lower() != "completed":
        # absent (silence) or failed: there is no audio to fetch.
        log.info("recording_not_completed", status=status.lower()[:20])
        return web.Response(status=204)
    deps = request.app[deps_key]
    now = deps.clock.now()
    duration = _seconds(form.get("RecordingDuration"))
    try:
        recording_id = await _in_transaction(
            deps,
            lambda s: calls.recording_available(
                s, sid, recording_id=recording_sid, duration=duration, now=now
            ),
        )
    except calls.CallNotFound:
        raise web.HTTPNotFound(reason="no call has this CallSid") from None
    except IntegrityError:
        return web.Response(status=204)  # stored by a concurrent retry of this webhook
    if recording_id is not None:
        deps.enqueuer.submit(fetch_recordings, recording_id)
    return web.Response(status=204)


@twilio_webhook
async def call_status(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    sid, status = _required(form, "CallSid", "CallStatus")
    deps = request.app[deps_key]
    now = deps.clock.now()
    ended = await _in_transaction(
        deps,
        lambda s: calls.record_status(s, sid, status, _seconds(form.get("CallDuration")), now=now),
    )
    if ended is not None:
        _take_in(deps, ended)
    return web.Response(status=204)


ROUTES: list[tuple[str, Callable[[web.Request], Awaitable[web.StreamResponse]], str]] = [
    (VOICE_PATH, incoming_call, "twilio_voice"),
    (ROLE_PATH, role_chosen, "twilio_voice_role"),
    (ANONYMITY_PATH, anonymity_chosen, "twilio_voice_anonymity"),
    (WHISPER_PATH, whisper, "twilio_voice_whisper"),
    (WHISPER_ACCEPT_PATH, whisper_accept, "twilio_voice_whisper_accept"),
    (DIAL_RESULT_PATH, dial_result, "twilio_voice_dial_result"),
    (RECORDED_PATH, recorded, "twilio_voice_recorded"),
    (RECORDING_PATH, recording_status, "twilio_voice_recording"),
    (STATUS_PATH, call_status, "twilio_voice_status"),
]


def register(app: web.Application) -> None:
    for path, handler, name in ROUTES:
        app.router.add_post(path, handler, name=name)
