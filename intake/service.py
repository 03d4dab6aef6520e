"""Storing what arrives. The hot path: one INSERT, committed before anyone is answered.

Intake is the busiest write, so it skips the ORM's unit of work: `db.RowInserter` runs one
INSERT that is its own transaction (one round trip). Column types still apply, so personal fields
are encrypted on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import DataCipher
from db import RowInserter
from intake import receipts
from intake.concern_form import ConcernReport
from intake.models import Channel, Contact, Hotline, PhoneStatus


@dataclass(frozen=True)
class StoredContact:
    contact_id: int
    receipt_code: str


async def hotline_exists(session: AsyncSession, hotline_id: str) -> bool:
    return await session.scalar(select(Hotline.id).where(Hotline.id == hotline_id)) is not None


async def record_concern(
    contacts: RowInserter,
    report: ConcernReport,
    *,
    hotline_id: str,
    language: str,
    now: datetime,
    cipher: DataCipher,
) -> StoredContact:
    """Insert one web-form contact, committed when this returns.

    Phone normalisation happens in the job, off the request path.
    """
    code = receipts.new_code()
    contact_id = await contacts.insert(
        dict(
            hotline_id=hotline_id,
            channel=Channel.WEB_FORM,
            received_at=now,
            language=language,
            reporter_role=report.reporter_role,
            anonymous=report.anonymous,
            is_acute=report.is_acute,
            reporter_name=report.name,
            reporter_organisation=report.organisation,
            reporter_phone_raw=report.phone,
            reporter_phone_status=PhoneStatus.PENDING if report.phone else PhoneStatus.NONE,
            reporter_email=report.email,
            reporter_email_lookup=cipher.lookup_hash("email", report.email)
            if report.email
            else None,
            answers=report.answers,
            receipt_hash=receipts.code_hash(code),
        ),
    )
    return StoredContact(contact_id, code)


@dataclass(frozen=True)
class ReceiptStatus:
    received_at: datetime
    # True once staff have the report in their queue.
    in_progress: bool


async def status_for_receipt(session: AsyncSession, code: str) -> ReceiptStatus | None:
    """What a reporter may see with their receipt code (raises InvalidReceiptCode if malformed)."""
    digest = receipts.code_hash(code)
    row = (
        await session.execute(
            select(Contact.received_at, Contact.processed_at).where(Contact.receipt_hash == digest)
        )
    ).one_or_none()
    if row is None:
        return None
    received_at, processed_at = row
    return ReceiptStatus(received_at, processed_at is not None)
