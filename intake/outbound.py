"""Sending one queued outbound message through the messaging port. Runs in the worker.

Idempotent: the message row is locked and re-checked, so a job that runs twice (rq may, the
sweeper may enqueue it again) sends nothing the second time. A failure never loses the
message: a retryable one leaves it pending with the next attempt's time (the sweeper enqueues
it then), a final one marks it failed with the reason.

Sending happens inside the row's transaction: if the process dies after the provider accepted
but before the commit, the message is sent again (at least once, never lost).
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db import transaction_lock
from intake import delivery
from intake.models import (
    Contact,
    Message,
    MessageDirection,
    PhoneOptOut,
    ProviderStatusEvent,
)
from notifications.ports import SendFailed, SentMessage, SmsSender

log = structlog.get_logger(__name__)


def send_message(
    session: Session,
    message_id: int,
    *,
    sms: SmsSender,
    now: datetime,
    status_callback: str | None,
) -> str | None:
    """Send a pending outbound message if it is due; returns its status afterwards."""
    message = session.execute(
        select(Message).where(Message.id == message_id).with_for_update()
    ).scalar_one_or_none()
    if message is None:
        log.warning("message_missing", message_id=message_id)
        return None
    if not _due(message, now):
        return message.status

    contact = session.get_one(Contact, message.contact_id)
    opted_out = contact.reporter_phone_lookup is not None and (
        session.get(PhoneOptOut, contact.reporter_phone_lookup) is not None
    )
    refusal = (
        # Web-form replies wait on the follow-up page and are never pending; never send one.
        delivery.NOT_A_MESSAGE_CHANNEL
        if delivery.on_follow_up_page(contact)
        else delivery.reply_refusal(contact, opted_out=opted_out)
    )
    if refusal is not None:
        # E.g. the number opted out after the reply was written: never send, say why.
        _fail(message, refusal.code, refusal.message, now)
        return message.status
    assert contact.hotline_address is not None  # reply_refusal checked it

    try:
        sent = sms.send(
            to=delivery.recipient_address(contact),
            from_=contact.hotline_address,
            body=message.body,
            status_callback=status_callback,
        )
    except SendFailed as exc:
        _failed_attempt(message, exc, now)
        return message.status
    except Exception as exc:  # an adapter bug must not make the sweeper resend forever
        log.exception("message_send_error", message_id=message.id)
        _failed_attempt(message, SendFailed("error", type(exc).__name__, retryable=True), now)
        return message.status
    _sent(session, message, sent, now)
    return message.status


def _due(message: Message, now: datetime) -> bool:
    """Outbound, still pending, and not waiting for a retry time (the sweeper enqueues it then)."""
    return (
        message.direction is MessageDirection.OUTBOUND
        and message.status == delivery.PENDING
        and (message.next_attempt_at is None or message.next_attempt_at <= now)
    )


def _failed_attempt(message: Message, exc: SendFailed, now: datetime) -> None:
    message.attempts += 1
    if exc.retryable and message.attempts < delivery.MAX_ATTEMPTS:
        message.error_code = exc.code[:16]
        message.error_message = exc.message[:255]
        message.next_attempt_at = now + delivery.retry_delay(message.attempts)
        log.info(
            "message_send_retry",
            message_id=message.id,
            attempts=message.attempts,
            code=message.error_code,
        )
        return
    _fail(message, exc.code, exc.message, now)


def _fail(message: Message, code: str, reason: str, now: datetime) -> None:
    message.status = delivery.FAILED
    message.status_at = now
    message.error_code = code[:16]
    message.error_message = reason[:255]
    message.next_attempt_at = None
    log.warning("message_send_failed", message_id=message.id, code=message.error_code)


def _sent(session: Session, message: Message, sent: SentMessage, now: datetime) -> None:
    message.attempts += 1
    message.next_attempt_at = None
    message.error_code = None
    message.error_message = None
    message.status = sent.status if delivery.is_known(sent.status) else "queued"
    message.status_at = now
    if sent.provider_id:
        # Taken before storing the id: a status report for it either committed already (and is
        # read below) or waits for this transaction and then finds the message.
        lock = transaction_lock(session, "provider-message", sent.provider_id)
        if lock is not None:
            session.execute(lock)
        message.provider_id = sent.provider_id
        _apply_early_reports(session, message)
    log.info("message_sent", message_id=message.id, status=message.status)


def _apply_early_reports(session: Session, message: Message) -> None:
    """Status reports that arrived before the provider id was stored."""
    events = session.scalars(
        select(ProviderStatusEvent)
        .where(ProviderStatusEvent.provider_id == message.provider_id)
        .order_by(ProviderStatusEvent.id)
    ).all()
    for event in events:
        delivery.apply_status(
            message,
            event.status,
            error_code=event.error_code,
            error_message=event.error_message,
            now=event.received_at,
        )
    if events:
        session.execute(
            delete(ProviderStatusEvent).where(
                ProviderStatusEvent.provider_id == message.provider_id
            )
        )
