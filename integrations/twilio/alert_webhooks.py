"""Twilio's webhooks for alert calls: what the called phone hears, its keypress, its statuses.

Every route is a `twilio_webhook` (public, no CSRF, 403 without a valid signature, before
anything is read). The last path segment is the attempt token (notifications.alert_calls): the
URLs are the ones the alert engine handed to `AlertCaller.place_call`. Each handler translates
Twilio's form fields into a call of the `AlertCallEvents` port the engine implements and passes
to `register`, inside one transaction committed before the answer. Twilio's field names and
status words appear only here.

POST /twilio/alerts/voice/{token}     answered → the alert's TwiML (alert_twiml.alert_call)
POST /twilio/alerts/keypress/{token}  Digits=1 → acknowledged_by_keypress; another key → again
POST /twilio/alerts/status/{token}    CallStatus → call_status (initiated … completed, busy, …)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import structlog
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.twilio import alert_twiml
from integrations.twilio.webhooks import form_fields, twilio_webhook
from notifications.alert_calls import (
    KEYPRESS_PATH,
    STATUS_PATH,
    VOICE_PATH,
    AlertCallEvents,
    AlertCallScript,
    AlertCallStatus,
    is_attempt_token,
)
from web.appkeys import alert_call_events_key, deps_key

if TYPE_CHECKING:
    from bootstrap import Deps

log = structlog.get_logger(__name__)

ACKNOWLEDGE_DIGIT = "1"
# Twilio's CallStatus words (status callbacks) → ours.
STATUSES = {
    "queued": AlertCallStatus.QUEUED,
    "initiated": AlertCallStatus.INITIATED,
    "ringing": AlertCallStatus.RINGING,
    "in-progress": AlertCallStatus.IN_PROGRESS,
    "completed": AlertCallStatus.COMPLETED,
    "busy": AlertCallStatus.BUSY,
    "no-answer": AlertCallStatus.NO_ANSWER,
    "failed": AlertCallStatus.FAILED,
    "canceled": AlertCallStatus.CANCELED,
}

T = TypeVar("T")


def _twiml(xml: str) -> web.Response:
    return web.Response(text=xml, content_type="text/xml")


def _token(request: web.Request) -> str:
    token = request.match_info["token"]
    if not is_attempt_token(token):
        raise web.HTTPNotFound(reason="not an alert call")
    return token


def _call_sid(form: dict[str, str]) -> str:
    sid = form.get("CallSid", "").strip()
    if not sid:
        raise web.HTTPBadRequest(reason="CallSid is required")
    return sid


async def _in_transaction(deps: Deps, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with deps.sessions() as session, session.begin():
        return await work(session)


def _call_twiml(deps: Deps, token: str, script: AlertCallScript | None) -> web.Response:
    if script is None:
        return _twiml(alert_twiml.no_longer_needed())
    # twilio_webhook refuses every request when no public URL is configured.
    assert deps.settings.public_base_url is not None
    keypress_url = deps.settings.public_base_url + KEYPRESS_PATH.format(token=token)
    return _twiml(alert_twiml.alert_call(script, keypress_url=keypress_url))


@twilio_webhook
async def alert_call(request: web.Request) -> web.StreamResponse:
    token = _token(request)
    form = await form_fields(request)
    sid = _call_sid(form)
    deps, events = request.app[deps_key], request.app[alert_call_events_key]
    script = await _in_transaction(deps, lambda s: events.script_for(s, token))
    if script is None:
        log.info("alert_call_not_needed", provider_id=sid)
    return _call_twiml(deps, token, script)


@twilio_webhook
async def alert_keypress(request: web.Request) -> web.StreamResponse:
    token = _token(request)
    form = await form_fields(request)
    sid = _call_sid(form)
    deps, events = request.app[deps_key], request.app[alert_call_events_key]
    if form.get("Digits", "").strip() != ACKNOWLEDGE_DIGIT:
        # Another key: say it all again (the call's time limit ends endless key pressing).
        script = await _in_transaction(deps, lambda s: events.script_for(s, token))
        return _call_twiml(deps, token, script)
    now = deps.clock.now()

    async def acknowledge(session: AsyncSession) -> tuple[AlertCallScript | None, bool]:
        # The script first: only for the goodbye's language (None once acknowledged).
        script = await events.script_for(session, token)
        done = await events.acknowledged_by_keypress(
            session, attempt_token=token, provider_call_id=sid, at=now
        )
        return script, done

    script, done = await _in_transaction(deps, acknowledge)
    log.info("alert_call_keypress", provider_id=sid, acknowledged=done)
    language = script.language if script else None
    goodbye = alert_twiml.acknowledged if done else alert_twiml.not_recorded
    return _twiml(goodbye(language))


@twilio_webhook
async def alert_call_status(request: web.Request) -> web.StreamResponse:
    token = _token(request)
    form = await form_fields(request)
    sid = _call_sid(form)
    reported = form.get("CallStatus", "").strip().lower()
    status = STATUSES.get(reported)
    if status is None:
        # A status Twilio added later, or none: nothing we could record. 2xx, so no retries.
        log.warning("alert_call_status_unknown", provider_id=sid, status=reported[:20])
        return web.Response(status=204)
    # [U] Twilio is believed to add ErrorCode to callbacks of failed calls; absent otherwise.
    error_code = form.get("ErrorCode", "").strip()[:16] or None
    deps, events = request.app[deps_key], request.app[alert_call_events_key]
    now = deps.clock.now()
    await _in_transaction(
        deps,
        lambda s: events.call_status(
            s,
            attempt_token=token,
            provider_call_id=sid,
            status=status,
            error_code=error_code,
            at=now,
        ),
    )
    return web.Response(status=204)


ROUTES: list[tuple[str, Callable[[web.Request], Awaitable[web.StreamResponse]], str]] = [
    (VOICE_PATH, alert_call, "twilio_alert_call"),
    (KEYPRESS_PATH, alert_keypress, "twilio_alert_keypress"),
    (STATUS_PATH, alert_call_status, "twilio_alert_call_status"),
]


def register(app: web.Application, *, events: AlertCallEvents) -> None:
    """The alert-call webhooks, answering through the alert engine's `events`."""
    app[alert_call_events_key] = events
    for path, handler, name in ROUTES:
        app.router.add_post(path, handler, name=name)
