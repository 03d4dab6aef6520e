"""The staff queue: open cases, acute first, then by nearest deadline, one keyset page at a time.

One query, served by the partial index ix_cases_queue; no OFFSET, so page 500 costs what page 1
costs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import StaffUser
from intake.models import Channel, ReporterRole
from triage.models import Case, CaseStatus

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class InvalidCursor(ValueError):
    """The cursor was not produced by this queue."""


@dataclass(frozen=True)
class QueuePosition:
    rank: int
    due_at: datetime
    case_id: int

    def encode(self) -> str:
        raw = json.dumps([self.rank, self.due_at.isoformat(), self.case_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> QueuePosition:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            rank, due_at, case_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
            position = cls(rank, datetime.fromisoformat(due_at), case_id)
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
            raise InvalidCursor(cursor) from exc
        if not (_whole(position.rank, 0, 32767) and _whole(position.case_id, 1, 2**63 - 1)):
            raise InvalidCursor(cursor)
        if position.due_at.tzinfo is None:
            raise InvalidCursor(cursor)
        return position


def _whole(value: object, low: int, high: int) -> bool:
    """An int in range; JSON's floats and booleans are not positions."""
    return type(value) is int and low <= value <= high


@dataclass(frozen=True)
class QueueRow:
    case_id: int
    reference: str
    hotline_id: str
    channel: Channel
    reporter_role: ReporterRole
    status: CaseStatus
    is_acute: bool
    received_at: datetime
    due_at: datetime
    assignee: str | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None


async def open_cases(
    session: AsyncSession, *, after: QueuePosition | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> QueuePage:
    # The assignee's name as a per-row lookup, not a join: a join lets the planner read and sort
    # every remaining open case before the LIMIT; this way it walks the index and stops.
    assignee_name = (
        select(StaffUser.display_name)
        .where(StaffUser.id == Case.assignee_id)
        .correlate(Case)
        .scalar_subquery()
    )
    query = (
        select(Case, assignee_name)
        .where(Case.closed_at.is_(None))
        .order_by(Case.queue_rank, Case.queue_due_at, Case.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(
            tuple_(Case.queue_rank, Case.queue_due_at, Case.id)
            > tuple_(after.rank, after.due_at, after.case_id)
        )
    result = (await session.execute(query)).all()
    rows = [
        QueueRow(
            case_id=case.id,
            reference=case.reference,
            hotline_id=case.hotline_id,
            channel=case.channel,
            reporter_role=case.reporter_role,
            status=case.status,
            is_acute=case.is_acute,
            received_at=case.received_at,
            due_at=case.queue_due_at,
            assignee=assignee,
        )
        for case, assignee in result[:limit]
    ]
    next_cursor = None
    if len(result) > limit:
        last = result[limit - 1][0]
        next_cursor = QueuePosition(last.queue_rank, last.queue_due_at, last.id).encode()
    return QueuePage(rows, next_cursor)
