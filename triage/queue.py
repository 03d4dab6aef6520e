"""The staff queue: open cases, acute first, then by nearest deadline, one keyset page at a time.

One query, served by a partial index over open cases (ix_cases_queue, or for a hotline or an
assignee filter the index that leads with that column); no OFFSET, so page 500 costs what
page 1 costs. A cursor is valid only with the filters it was made for.
`deadline_state` is the pure rule that says whether a deadline is on time, due soon or overdue.
A case is placed by its nearest deadline still running (`triage.deadlines` keeps
`queue_due_at` and `queue_deadline_kind`), whichever kind it is: triage, then visitation.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import StaffUser
from intake.models import Channel, ReporterRole
from triage.models import Case, CaseStatus, ClockMode, Deadline, DeadlineKind
from triage.queue_filters import MINE, NO_FILTERS, UNASSIGNED, Due, QueueFilters

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class InvalidCursor(ValueError):
    """The cursor was not produced by this queue."""


class CursorForOtherFilters(InvalidCursor):
    """The cursor was produced by this queue, but for other filters."""


class DeadlineState(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"  # shown as "due soon"
    OVERDUE = "overdue"
    NONE = "none"  # no deadline running: every one was met (or the case is closed)


def deadline_state(
    due_at: datetime, now: datetime, at_risk_window: timedelta, *, running: bool = True
) -> DeadlineState:
    """Overdue from the due moment on; at risk within `at_risk_window` before it; none when
    no deadline is `running`."""
    if not running:
        return DeadlineState.NONE
    if due_at <= now:
        return DeadlineState.OVERDUE
    if due_at - now <= at_risk_window:
        return DeadlineState.AT_RISK
    return DeadlineState.ON_TIME


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


def encode_cursor(position: QueuePosition, filters: QueueFilters) -> str:
    """The position, and with filters their tag after a dot (base64url has no dots)."""
    tag = filters.tag()
    return f"{position.encode()}.{tag}" if tag else position.encode()


def decode_cursor(cursor: str, filters: QueueFilters) -> QueuePosition:
    """The position in `cursor`, if it was made for exactly these filters."""
    encoded, _, tag = cursor.partition(".")
    position = QueuePosition.decode(encoded)
    if tag != filters.tag():
        raise CursorForOtherFilters(cursor)
    return position


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
    assignee_id: int | None
    assignee: str | None
    closed: bool = False
    # The deadline due_at belongs to while one is running (None: every one met), and the clock
    # it runs on.
    deadline_kind: DeadlineKind | None = None
    clock_mode: ClockMode | None = None

    @property
    def deadline_running(self) -> bool:
        return self.deadline_kind is not None and not self.closed


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None


@dataclass(frozen=True)
class DeadlineCounts:
    overdue: int
    at_risk: int


def _assignee_name() -> ColumnElement[str | None]:
    # The assignee's name as a per-row lookup, not a join: a join lets the planner read and sort
    # every remaining open case before the LIMIT; this way it walks the index and stops.
    return (
        select(StaffUser.display_name)
        .where(StaffUser.id == Case.assignee_id)
        .correlate(Case)
        .scalar_subquery()
    )


def _clock_mode() -> ColumnElement[ClockMode | None]:
    # The running deadline's clock mode, per row like the assignee (the unique (case, kind)
    # index finds it).
    return (
        select(Deadline.clock_mode)
        .where(Deadline.case_id == Case.id, Deadline.kind == Case.queue_deadline_kind)
        .correlate(Case)
        .scalar_subquery()
    )


def _row(case: Case, assignee: str | None, clock_mode: ClockMode | None = None) -> QueueRow:
    return QueueRow(
        case_id=case.id,
        reference=case.reference,
        hotline_id=case.hotline_id,
        channel=case.channel,
        reporter_role=case.reporter_role,
        status=case.status,
        is_acute=case.is_acute,
        received_at=case.received_at,
        due_at=case.queue_due_at,
        assignee_id=case.assignee_id,
        assignee=assignee,
        closed=case.closed_at is not None,
        deadline_kind=case.queue_deadline_kind,
        clock_mode=clock_mode,
    )


def _conditions(
    filters: QueueFilters,
    *,
    viewer_id: int | None,
    now: datetime | None,
    at_risk_window: timedelta | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Case.closed_at.is_(None)]
    if filters.hotline is not None:
        conditions.append(Case.hotline_id == filters.hotline)
    if filters.channel is not None:
        conditions.append(Case.channel == filters.channel)
    if filters.status is not None:
        conditions.append(Case.status == filters.status)
    if filters.assignee == UNASSIGNED:
        conditions.append(Case.assignee_id.is_(None))
    elif filters.assignee == MINE:
        if viewer_id is None:
            raise ValueError("assignee=mine needs the viewer's staff id")
        conditions.append(Case.assignee_id == viewer_id)
    elif isinstance(filters.assignee, int):
        conditions.append(Case.assignee_id == filters.assignee)
    if filters.due is not None:
        if now is None or at_risk_window is None:
            raise ValueError("a deadline filter needs the time and the at-risk window")
        # Only a deadline still running can be late: a case whose deadlines are all met keeps
        # the last due time for its place in the queue, and no kind.
        conditions.append(Case.queue_deadline_kind.is_not(None))
        if filters.due is Due.OVERDUE:
            conditions.append(Case.queue_due_at <= now)
        else:
            conditions.append(
                and_(Case.queue_due_at > now, Case.queue_due_at <= now + at_risk_window)
            )
    return conditions


async def open_cases(
    session: AsyncSession,
    *,
    filters: QueueFilters = NO_FILTERS,
    viewer_id: int | None = None,
    now: datetime | None = None,
    at_risk_window: timedelta | None = None,
    after: QueuePosition | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> QueuePage:
    """One page of open cases in queue order. `viewer_id` resolves `assignee=mine`; `now` and
    `at_risk_window` are needed for a `due` filter."""
    query = (
        select(Case, _assignee_name(), _clock_mode())
        .where(*_conditions(filters, viewer_id=viewer_id, now=now, at_risk_window=at_risk_window))
        .order_by(Case.queue_rank, Case.queue_due_at, Case.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(
            tuple_(Case.queue_rank, Case.queue_due_at, Case.id)
            > tuple_(after.rank, after.due_at, after.case_id)
        )
    result = (await session.execute(query)).all()
    rows = [_row(case, assignee, mode) for case, assignee, mode in result[:limit]]
    next_cursor = None
    if len(result) > limit:
        last = result[limit - 1][0]
        position = QueuePosition(last.queue_rank, last.queue_due_at, last.id)
        next_cursor = encode_cursor(position, filters)
    return QueuePage(rows, next_cursor)


async def case_row(session: AsyncSession, case_id: int) -> QueueRow | None:
    """One case as the queue shows it, open or closed (for search and assignment answers)."""
    found = (
        await session.execute(
            select(Case, _assignee_name(), _clock_mode()).where(Case.id == case_id)
        )
    ).one_or_none()
    return None if found is None else _row(*found)


async def deadline_counts(
    session: AsyncSession, *, now: datetime, at_risk_window: timedelta
) -> DeadlineCounts:
    """How many open cases are overdue and how many due soon, by their nearest deadline still
    running (triage or visitation; a case whose deadlines are all met counts in neither): one
    scan of the open-cases index bounded by the window's end, never of the closed cases."""
    overdue = func.count().filter(Case.queue_due_at <= now)
    at_risk = func.count().filter(Case.queue_due_at > now)
    found = (
        await session.execute(
            select(overdue, at_risk).where(
                Case.closed_at.is_(None),
                Case.queue_deadline_kind.is_not(None),
                Case.queue_due_at <= now + at_risk_window,
            )
        )
    ).one()
    return DeadlineCounts(overdue=int(found[0]), at_risk=int(found[1]))
