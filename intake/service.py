"""Storing what arrives. The hot path: one INSERT, committed before anyone is answered.

Intake is the busiest write, so it skips the ORM's unit of work: a statement built once, run on
an autocommit connection (one round trip: the INSERT is its own transaction). Column types still
apply, so personal fields are encrypted on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from crypto import DataCipher
from intake import receipts
from intake.concern_form import ConcernReport
from intake.models import Channel, Contact, Hotline, PhoneStatus


@dataclass(frozen=True)
class StoredContact:
    contact_id: int
    receipt_code: str


async def hotline_exists(session: AsyncSession, hotline_id: str) -> bool:
    return await session.scalar(select(Hotline.id).where(Hotline.id == hotline_id)) is not None


_INSERT_CONTACT = insert(Contact).returning(Contact.id)


async def record_concern(
    connection: AsyncConnection,
    report: ConcernReport,
    *,
    hotline_id: str,
    language: str,
    now: datetime,
    cipher: DataCipher,
) -> StoredContact:
    """Insert one web-form contact. Committed when this returns if `connection` autocommits.

    Phone normalisation happens in the job, off the request path.
    """
    code = receipts.new_code()
    result = await connection.execute(
        _INSERT_CONTACT,
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
            case_id=None,
            processed_at=None,
        ),
    )
    return StoredContact(result.scalar_one(), code)


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
