"""Twilio's SMS and WhatsApp webhooks: inbound messages and delivery status callbacks.

Both routes are `twilio_webhook`s (public, no CSRF, refused with 403 without a valid signature,
before anything is read or stored). They translate Twilio's form fields into intake.messaging
calls, commit, and answer at once; new contacts are taken in by the job queue afterwards.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from twilio.twiml.messaging_response import MessagingResponse

from intake import messaging
from intake.models import Channel, Message
from integrations.twilio.webhooks import form_fields, twilio_webhook
from jobqueue import take_in_contacts
from notifications import alert_acks
from triage.timeline import note_message
from web.appkeys import deps_key

log = structlog.get_logger(__name__)

INBOUND_PATH = "/twilio/messages"
WHATSAPP_PREFIX = "whatsapp:"
# What Twilio's error codes in status callbacks mean, in words staff can act on.
ERROR_REASONS = {
    "21610": "the recipient has opted out (STOP) with the carrier",
    "21614": "the number is not a mobile number",
    "30003": "the recipient's phone is switched off or unreachable",
    "30004": "the message was blocked by the recipient or the carrier",
    "30005": "the number is unknown or no longer in use",
    "30006": "the number is a landline or the carrier cannot be reached",
    "30007": "the carrier filtered the message",
    "30008": "the carrier reported an unknown error",
    "63016": "WhatsApp allows free-form replies only within 24 hours of the sender's last message",
}


# The answer to a staff member's "OK <code>", in Danish and English.
ACK_REPLIES = {
    alert_acks.AckOutcome.ACKNOWLEDGED: (
        "Kvitteret: sag {reference}. Tak.\nAcknowledged: case {reference}. Thank you."
    ),
    alert_acks.AckOutcome.ALREADY: (
        "Alarmen for sag {reference} var allerede kvitteret.\n"
        "The alert for case {reference} was already acknowledged."
    ),
    alert_acks.AckOutcome.CLOSED: (
        "Alarmen for sag {reference} kræver ikke længere handling.\n"
        "The alert for case {reference} needs no action any more."
    ),
}


def _ack_twiml(result: alert_acks.AckResult) -> web.Response:
    reply = MessagingResponse()
    reply.message(ACK_REPLIES[result.outcome].format(reference=result.reference))
    return web.Response(text=str(reply), content_type="text/xml")


def _empty_twiml() -> web.Response:
    """No automatic reply: staff answer from the thread."""
    return web.Response(text=str(MessagingResponse()), content_type="text/xml")


@twilio_webhook
async def inbound_message(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    sid, sender, to = form.get("MessageSid"), form.get("From", ""), form.get("To")
    if not sid or not to:
        raise web.HTTPBadRequest(reason="MessageSid and To are required")
    whatsapp = to.lower().startswith(WHATSAPP_PREFIX) or sender.lower().startswith(WHATSAPP_PREFIX)
    msg = messaging.InboundMessage(
        channel=Channel.WHATSAPP if whatsapp else Channel.SMS,
        from_address=sender,
        to_address=to,
        body=form.get("Body", ""),
        provider_id=sid,
    )
    deps = request.app[deps_key]
    if not whatsapp:
        # "OK <code>" from a staff phone acknowledges an alert; any other text is a message.
        async with deps.sessions() as session, session.begin():
            acknowledged = await alert_acks.acknowledge_by_sms(
                session, sender=sender, body=msg.body, provider_id=sid, now=deps.clock.now()
            )
        if acknowledged is not None:
            return _ack_twiml(acknowledged)
    try:
        async with deps.sessions() as session, session.begin():
            received = await messaging.receive_message(
                session, msg, now=deps.clock.now(), cipher=deps.cipher, timeline=note_message
            )
    except messaging.UnknownHotlineNumber:
        log.warning("message_to_unknown_number", provider_id=sid)
        raise web.HTTPNotFound(reason="the To number is not a hotline number") from None
    except IntegrityError:
        # The same message stored by a concurrent retry of this webhook: already done.
        async with deps.sessions() as session:
            if await session.scalar(select(Message.id).where(Message.provider_id == sid)) is None:
                raise
        return _empty_twiml()
    if received.new_contact:
        # Committed; the take-in job opens its case (the sweeper covers a lost enqueue).
        deps.enqueuer.submit(take_in_contacts, received.contact_id)
    return _empty_twiml()


def _reason(error_code: str | None) -> str | None:
    if not error_code:
        return None
    return ERROR_REASONS.get(error_code, f"Twilio error {error_code}")


@twilio_webhook
async def message_status(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not sid or not status:
        raise web.HTTPBadRequest(reason="MessageSid and MessageStatus are required")
    error_code = form.get("ErrorCode") or None
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        await messaging.record_status(
            session,
            sid,
            status,
            error_code,
            now=deps.clock.now(),
            error_message=_reason(error_code),
        )
    return web.Response(status=204)


def register(app: web.Application) -> None:
    app.router.add_post(INBOUND_PATH, inbound_message, name="twilio_inbound_message")
    app.router.add_post(
        messaging.STATUS_CALLBACK_PATH, message_status, name="twilio_message_status"
    )
