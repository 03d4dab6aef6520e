"""Twilio's status callbacks for alert SMS: POST /twilio/alerts/sms-status/{token}.

The alert engine gives each alert SMS its own callback URL carrying the attempt's random token
(never a row id), so these reports reach the attempt without touching the reporters' message
threads (intake). A `twilio_webhook`: public, no CSRF, 403 without a valid signature. Twilio's
field names for it appear only here.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from integrations.twilio.webhooks import form_fields, twilio_webhook
from notifications.alert_acks import AlertEvents
from notifications.alert_calls import is_attempt_token
from notifications.alert_engine import SMS_STATUS_PATH
from web.appkeys import alert_call_events_key, deps_key

log = structlog.get_logger(__name__)


@twilio_webhook
async def alert_message_status(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    if not is_attempt_token(token):
        raise web.HTTPNotFound(reason="not an alert message")
    form = await form_fields(request)
    sid, status = form.get("MessageSid", "").strip(), form.get("MessageStatus", "").strip()
    if not sid or not status:
        raise web.HTTPBadRequest(reason="MessageSid and MessageStatus are required")
    deps = request.app[deps_key]
    events = request.app[alert_call_events_key]
    if not isinstance(events, AlertEvents):
        raise web.HTTPNotFound(reason="no alert engine")
    async with deps.sessions() as session, session.begin():
        await events.provider_status(
            session,
            attempt_token=token,
            provider_id=sid,
            status=status,
            error_code=form.get("ErrorCode", "").strip()[:16] or None,
            at=deps.clock.now(),
        )
    return web.Response(status=204)


def register(app: web.Application) -> None:
    app.router.add_post(SMS_STATUS_PATH, alert_message_status, name="twilio_alert_message_status")
