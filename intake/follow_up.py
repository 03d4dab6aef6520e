"""The reporter's side of a web-form thread, reached only with the receipt code.

With a valid code the reporter sees their report's status, the staff's replies (which become
read: status and time recorded on each) and what they added themselves, and may add more.
Adding stores an inbound message on the contact and notes it on the case's timeline through
the `messaging.CaseTimeline` port (intake does not import triage).

This is the reporter reading their own data: no staff audit entry. Logs carry ids only, never
the code or a text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import delivery, receipts
from intake.messaging import CaseTimeline
from intake.models import Contact, Message, MessageDirection
from intake.service import ReceiptStatus

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Entry:
    """One message as the reporter sees it: who wrote it (never a staff name), what, when."""

    from_staff: bool
    body: str
    created_at: datetime


@dataclass(frozen=True)
class FollowUp:
    status: ReceiptStatus
    entries: list[Entry]


async def _contact_for(session: AsyncSession, code: str, *, lock: bool = False) -> Contact | None:
    """The web-form contact with this receipt code (raises InvalidReceiptCode if malformed)."""
    query = select(Contact).where(Contact.receipt_hash == receipts.code_hash(code))
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def _read(session: AsyncSession, contact: Contact, *, now: datetime) -> FollowUp:
    messages = (
        await session.scalars(
            select(Message)
            .where(Message.contact_id == contact.id)
            .order_by(Message.created_at, Message.id)
        )
    ).all()
    read = 0
    for message in messages:
        if message.direction is MessageDirection.OUTBOUND and delivery.apply_status(
            message, delivery.READ, error_code=None, error_message=None, now=now
        ):
            read += 1
    if read:
        log.info("follow_up_replies_read", contact_id=contact.id, messages=read)
    return FollowUp(
        ReceiptStatus(contact.received_at, contact.processed_at is not None),
        [
            Entry(m.direction is MessageDirection.OUTBOUND, m.body, m.created_at)
            for m in messages
            # A reply that failed or is still on its way was never shown; web-form replies
            # are available at once, so this hides nothing there.
            if m.direction is MessageDirection.INBOUND
            or m.status in (delivery.AVAILABLE, delivery.READ)
        ],
    )


async def open_thread(session: AsyncSession, code: str, *, now: datetime) -> FollowUp | None:
    """The page's content for a receipt code, or None if no report has it.

    Raises InvalidReceiptCode if the text cannot be a code. Staff replies shown become read;
    the caller commits.
    """
    contact = await _contact_for(session, code, lock=True)
    if contact is None:
        return None
    return await _read(session, contact, now=now)


async def add_information(
    session: AsyncSession,
    code: str,
    text: str,
    *,
    now: datetime,
    timeline: CaseTimeline,
) -> FollowUp | None:
    """Store what the reporter adds (already validated) and return the page's content.

    None if no report has this code (nothing is stored); raises InvalidReceiptCode if the text
    cannot be a code. The caller commits.
    """
    contact = await _contact_for(session, code, lock=True)
    if contact is None:
        return None
    message = Message(
        contact_id=contact.id,
        direction=MessageDirection.INBOUND,
        body=text,
        created_at=now,
        status=delivery.RECEIVED,
        status_at=now,
        attempts=0,
    )
    session.add(message)
    await session.flush()
    if contact.case_id is not None:
        timeline(
            session,
            case_id=contact.case_id,
            contact_id=contact.id,
            message_id=message.id,
            channel=contact.channel,
            at=now,
        )
    log.info("follow_up_information_added", contact_id=contact.id, message_id=message.id)
    return await _read(session, contact, now=now)
