"""SMS and WhatsApp threads, vendor-neutral: messages in, replies queued, delivery reports.

The provider's adapter (integrations/twilio/messaging_webhooks.py) translates its webhooks into
these calls and commits; sending is a job (intake/jobs.py → intake/outbound.py).

- A message joins the open conversation of its number (same hotline, same channel, a contact
  whose case is not closed or not opened yet); otherwise it opens a new contact, which the
  caller hands to the take-in job after commit, exactly like a web form.
- Withheld or unreadable sender numbers are not stored at all; such a contact cannot be replied
  to, and each of its messages is a contact of its own (there is nothing to thread them by).
- Retried webhooks (the same provider id) store nothing new.
- Opt-out and opt-in keywords (intake/opt_out.py) are stored as messages and recorded per
  number (its lookup hash), for both channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy import column, delete, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import DataCipher
from db import transaction_lock
from intake import delivery, opt_out, phone
from intake.models import (
    Channel,
    Contact,
    Hotline,
    Message,
    MessageDirection,
    PhoneOptOut,
    PhoneStatus,
    ProviderStatusEvent,
    ReporterRole,
)

log = structlog.get_logger(__name__)

# Where the provider reports delivery statuses, below the public base URL.
STATUS_CALLBACK_PATH = "/twilio/messages/status"
THREAD_ANSWERS = {"form_version": 1, "thread": True}
DEFAULT_LANGUAGE = "da"
# Whether a contact's case is closed: the two columns of triage's table this module reads, named
# like contacts.case_id's foreign key does, so intake imports nothing from triage.
_CASES = table("cases", column("id"), column("closed_at"))


@dataclass(frozen=True)
class InboundMessage:
    channel: Channel  # SMS or WHATSAPP
    # As the provider sent them: "+4520123456", "whatsapp:+4520123456", "anonymous", …
    from_address: str
    to_address: str
    body: str
    provider_id: str


@dataclass(frozen=True)
class ReceivedMessage:
    contact_id: int
    message_id: int
    # True when the message opened a new contact: enqueue its take-in job after commit.
    new_contact: bool
    # True when this provider id was stored before (a retried webhook): nothing changed.
    duplicate: bool
    keyword: opt_out.Keyword | None = None


class UnknownHotlineNumber(Exception):
    """The message was sent to a number that is none of our hotlines'."""


class ContactNotFound(Exception):
    pass


class ReplyBodyInvalid(ValueError):
    """The reply's text is empty or too long."""


class ReplyRefused(Exception):
    """A reply to this contact cannot be sent (opted out, no number, not a message thread)."""

    def __init__(self, refusal: delivery.Refusal) -> None:
        super().__init__(refusal.message)
        self.code = refusal.code
        self.message = refusal.message


class CaseTimeline(Protocol):
    """Notes a message on the timeline of the contact's case (triage/timeline.note_message).

    Passed in by the caller: intake does not import triage.
    """

    def __call__(
        self,
        session: AsyncSession,
        *,
        case_id: int,
        contact_id: int,
        message_id: int,
        channel: Channel,
        at: datetime,
    ) -> None: ...


# --- messages in ---------------------------------------------------------------------------


async def receive_message(
    session: AsyncSession,
    msg: InboundMessage,
    *,
    now: datetime,
    cipher: DataCipher,
    timeline: CaseTimeline,
) -> ReceivedMessage:
    """Store one inbound message in its thread (the caller commits, then enqueues)."""
    if msg.channel not in delivery.MESSAGE_CHANNELS:
        raise ValueError(f"not a messaging channel: {msg.channel}")
    number = phone.normalise(msg.from_address)
    e164 = number.e164 if number.kind is phone.PhoneKind.VALID else None
    lookup = cipher.lookup_hash("phone", e164) if e164 else None
    # Messages from one number take turns, so two arriving at once neither open two
    # conversations nor both store a retried webhook.
    lock = transaction_lock(session, "messages-from", lookup or msg.provider_id)
    if lock is not None:
        await session.execute(lock)
    hotline_id = await _hotline_for(session, msg.to_address)

    stored = (
        await session.execute(
            select(Message.id, Message.contact_id).where(Message.provider_id == msg.provider_id)
        )
    ).one_or_none()
    if stored is not None:
        return ReceivedMessage(stored.contact_id, stored.id, new_contact=False, duplicate=True)

    contact = await _open_conversation(session, hotline_id, msg.channel, lookup) if lookup else None
    new_contact = contact is None
    if contact is None:
        contact = _new_contact(
            msg, hotline_id=hotline_id, kind=number.kind, e164=e164, lookup=lookup, now=now
        )
        session.add(contact)
        await session.flush()
    message = Message(
        contact_id=contact.id,
        direction=MessageDirection.INBOUND,
        body=msg.body,
        created_at=now,
        provider_id=msg.provider_id,
        status=delivery.RECEIVED,
        status_at=now,
        attempts=0,
    )
    session.add(message)
    await session.flush()

    keyword = opt_out.keyword_in(msg.body)
    if keyword is not None and lookup is not None:
        await _record_keyword(session, lookup, keyword, msg.body, now)
    if not new_contact and contact.case_id is not None:
        timeline(
            session,
            case_id=contact.case_id,
            contact_id=contact.id,
            message_id=message.id,
            channel=msg.channel,
            at=now,
        )
    log.info(
        "message_received",
        contact_id=contact.id,
        message_id=message.id,
        new_contact=new_contact,
        keyword=keyword.value if keyword else None,
    )
    return ReceivedMessage(
        contact.id, message.id, new_contact=new_contact, duplicate=False, keyword=keyword
    )


async def _hotline_for(session: AsyncSession, to_address: str) -> str:
    to = phone.normalise(to_address)
    if to.kind is phone.PhoneKind.VALID:
        for hotline_id, numbers in (
            await session.execute(select(Hotline.id, Hotline.phone_numbers))
        ).all():
            if to.e164 in {phone.normalise(n).e164 for n in numbers}:
                return str(hotline_id)
    raise UnknownHotlineNumber("the message was not sent to a hotline number")


async def _open_conversation(
    session: AsyncSession, hotline_id: str, channel: Channel, lookup: str
) -> Contact | None:
    return await session.scalar(
        select(Contact)
        .outerjoin(_CASES, _CASES.c.id == Contact.case_id)
        .where(
            Contact.reporter_phone_lookup == lookup,
            Contact.channel == channel,
            Contact.hotline_id == hotline_id,
            or_(Contact.case_id.is_(None), _CASES.c.closed_at.is_(None)),
        )
        .order_by(Contact.received_at.desc(), Contact.id.desc())
        .limit(1)
        .with_for_update(of=Contact)
    )


def _new_contact(
    msg: InboundMessage,
    *,
    hotline_id: str,
    kind: phone.PhoneKind,
    e164: str | None,
    lookup: str | None,
    now: datetime,
) -> Contact:
    status = {
        phone.PhoneKind.VALID: PhoneStatus.VALID,
        phone.PhoneKind.WITHHELD: PhoneStatus.WITHHELD,
        phone.PhoneKind.INVALID: PhoneStatus.INVALID,
    }[kind]
    return Contact(
        hotline_id=hotline_id,
        channel=msg.channel,
        received_at=now,
        language=DEFAULT_LANGUAGE,
        reporter_role=ReporterRole.UNKNOWN,
        # A hidden number is an anonymous sender; nothing of it is stored either way.
        anonymous=kind is phone.PhoneKind.WITHHELD,
        is_acute=False,
        reporter_phone_e164=e164,
        reporter_phone_lookup=lookup,
        reporter_phone_status=status,
        answers=dict(THREAD_ANSWERS),
        hotline_address=msg.to_address.strip(),
    )


async def _record_keyword(
    session: AsyncSession, lookup: str, keyword: opt_out.Keyword, body: str, now: datetime
) -> None:
    if keyword is opt_out.Keyword.OPT_IN:
        await session.execute(delete(PhoneOptOut).where(PhoneOptOut.phone_lookup == lookup))
        return
    if await session.get(PhoneOptOut, lookup) is None:
        session.add(
            PhoneOptOut(
                phone_lookup=lookup, opted_out_at=now, keyword=opt_out.normalised(body)[:16]
            )
        )


# --- replies -------------------------------------------------------------------------------


async def is_opted_out(session: AsyncSession, contact: Contact) -> bool:
    if contact.reporter_phone_lookup is None:
        return False
    found = await session.scalar(
        select(PhoneOptOut.phone_lookup).where(
            PhoneOptOut.phone_lookup == contact.reporter_phone_lookup
        )
    )
    return found is not None


@dataclass(frozen=True)
class QueuedReply:
    message_id: int
    # delivery.PENDING: enqueue `jobqueue.send_messages` after commit; delivery.AVAILABLE: a
    # web-form reply, sent nowhere, waiting on the follow-up page.
    status: str

    @property
    def to_send(self) -> bool:
        return self.status == delivery.PENDING


async def queue_reply(
    session: AsyncSession, contact_id: int, body: str, *, staff_id: int | None, now: datetime
) -> QueuedReply:
    """Store a staff reply as an outbound message.

    SMS/WhatsApp: pending; the caller commits, then enqueues `jobqueue.send_messages` for it.
    Web form: available on the follow-up page (intake/follow_up.py); nothing is sent.
    """
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise ContactNotFound(contact_id)
    text = body.strip()
    if not 1 <= len(text) <= delivery.MAX_REPLY_CHARS:
        raise ReplyBodyInvalid(f"must be 1 to {delivery.MAX_REPLY_CHARS} characters")
    refusal = delivery.reply_refusal(contact, opted_out=await is_opted_out(session, contact))
    if refusal is not None:
        raise ReplyRefused(refusal)
    status = delivery.reply_status(contact)
    message = Message(
        contact_id=contact.id,
        direction=MessageDirection.OUTBOUND,
        body=text,
        created_at=now,
        status=status,
        status_at=now,
        staff_id=staff_id,
        attempts=0,
    )
    session.add(message)
    await session.flush()
    log.info("reply_queued", contact_id=contact.id, message_id=message.id, status=status)
    return QueuedReply(message.id, status)


@dataclass(frozen=True)
class Thread:
    contact: Contact
    messages: list[Message]
    opted_out: bool
    # Why a reply cannot be sent now, or None.
    refusal: delivery.Refusal | None


async def thread(session: AsyncSession, contact_id: int) -> Thread:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise ContactNotFound(contact_id)
    messages = list(
        (
            await session.scalars(
                select(Message)
                .where(Message.contact_id == contact_id)
                .order_by(Message.created_at, Message.id)
            )
        ).all()
    )
    opted_out = await is_opted_out(session, contact)
    return Thread(
        contact, messages, opted_out, delivery.reply_refusal(contact, opted_out=opted_out)
    )


# --- delivery reports ----------------------------------------------------------------------


async def record_status(
    session: AsyncSession,
    provider_id: str,
    status: str,
    error_code: str | None,
    *,
    now: datetime,
    error_message: str | None = None,
) -> bool:
    """Apply a delivery report; returns whether a message changed.

    Idempotent and order-independent (intake/delivery.py's ranks). A report for a provider id
    no message carries yet (the send job has not stored it) is kept and applied by the job.
    """
    status = status.strip().lower()
    if not delivery.is_known(status):
        log.info("message_status_ignored", status=status[:20])
        return False
    lock = transaction_lock(session, "provider-message", provider_id)
    if lock is not None:
        await session.execute(lock)
    message = await session.scalar(
        select(Message).where(Message.provider_id == provider_id).with_for_update()
    )
    if message is None:
        seen = await session.scalar(
            select(ProviderStatusEvent.id).where(
                ProviderStatusEvent.provider_id == provider_id,
                ProviderStatusEvent.status == status,
            )
        )
        if seen is None:
            session.add(
                ProviderStatusEvent(
                    provider_id=provider_id,
                    status=status,
                    error_code=error_code[:16] if error_code else None,
                    error_message=error_message[:255] if error_message else None,
                    received_at=now,
                )
            )
        return False
    if message.direction is not MessageDirection.OUTBOUND:
        return False
    changed = delivery.apply_status(
        message, status, error_code=error_code, error_message=error_message, now=now
    )
    if changed:
        log.info("message_status", message_id=message.id, status=status)
    return changed
