"""Finding one case by its reference or by the reporter's receipt code; nothing fuzzier.

A receipt code is recognised by its shape (receipts.canonical) and found through its hash on
the contact, never stored or logged as typed; anything else is taken as a case reference,
matched exactly but regardless of case. Every search leaves an audit entry (`search_case`)
saying which kind it was and whether it found a case, never the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.service import Staff, audit
from intake import receipts
from intake.models import Contact
from triage.models import Case

MAX_QUERY_CHARS = 64


class SearchKind(StrEnum):
    REFERENCE = "reference"
    RECEIPT_CODE = "receipt_code"


@dataclass(frozen=True)
class SearchResult:
    kind: SearchKind
    case_id: int | None
    # A receipt code whose report is stored but not yet a case (its job has not run yet).
    pending: bool = False


async def find_case(
    session: AsyncSession, text: str, *, actor: Staff | None, now: datetime
) -> SearchResult:
    try:
        digest = receipts.code_hash(text)
    except receipts.InvalidReceiptCode:
        # References are upper case by construction (`NAT-2026-00042`): the unique index finds it.
        case_id = await session.scalar(
            select(Case.id).where(Case.reference == text.strip().upper())
        )
        result = SearchResult(SearchKind.REFERENCE, case_id)
    else:
        found = (
            await session.execute(
                select(Contact.id, Contact.case_id).where(Contact.receipt_hash == digest)
            )
        ).one_or_none()
        case_id = found.case_id if found is not None else None
        result = SearchResult(
            SearchKind.RECEIPT_CODE, case_id, pending=found is not None and case_id is None
        )
    audit(
        session,
        at=now,
        actor=actor,
        action="search_case",
        subject_kind="case" if result.case_id is not None else None,
        subject_id=result.case_id,
        detail={"kind": result.kind.value, "found": result.case_id is not None},
    )
    return result
