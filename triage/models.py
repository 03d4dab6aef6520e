"""Cases (a concern about one person), their timeline and their deadlines."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

import access.models  # noqa: F401  (defines staff_users, which cases and case_events reference)
from db import Base, BigId, UTCDateTime, enum_column
from intake.models import Channel, ReporterRole


class CaseStatus(StrEnum):
    NEW = "new"
    IN_TRIAGE = "in_triage"
    CLOSED = "closed"


class DeadlineKind(StrEnum):
    TRIAGE = "triage"
    VISITATION = "visitation"


class ClockMode(StrEnum):
    CALENDAR = "calendar"
    BUSINESS_HOURS = "business_hours"


class ActorKind(StrEnum):
    SYSTEM = "system"
    STAFF = "staff"
    REPORTER = "reporter"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The staff queue is one keyset query over open cases in this order.
        Index(
            "ix_cases_queue",
            "queue_rank",
            "queue_due_at",
            "id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        # The same order within one hotline, within one assignee's cases (`assignee=mine` or a
        # colleague) and among the unassigned ones: a filter that matches few open cases must
        # not walk all of them, nor may the planner sort what it matched.
        Index(
            "ix_cases_queue_hotline",
            "hotline_id",
            "queue_rank",
            "queue_due_at",
            "id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        Index(
            "ix_cases_queue_assignee",
            "assignee_id",
            "queue_rank",
            "queue_due_at",
            "id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        Index(
            "ix_cases_queue_unassigned",
            "queue_rank",
            "queue_due_at",
            "id",
            postgresql_where=text("closed_at IS NULL AND assignee_id IS NULL"),
            sqlite_where=text("closed_at IS NULL AND assignee_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    hotline_id: Mapped[str] = mapped_column(ForeignKey("hotlines.id"))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, "case_status"))
    # Copied from the first contact so the queue reads one table.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    reporter_role: Mapped[ReporterRole] = mapped_column(enum_column(ReporterRole, "reporter_role"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_acute: Mapped[bool] = mapped_column(Boolean, default=False)
    # 0 = acute, 1 = normal: acute cases sort first in the queue.
    queue_rank: Mapped[int] = mapped_column(SmallInteger)
    # The nearest unmet deadline, kept here so the queue needs no join to sort.
    queue_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)


class CaseEvent(Base):
    """One entry on a case's timeline: who did what when. Details hold no personal data."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "actor_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Deadline(Base):
    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("case_id", "kind"),
        Index(
            "ix_deadlines_open_due",
            "due_at",
            postgresql_where=text("met_at IS NULL"),
            sqlite_where=text("met_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[DeadlineKind] = mapped_column(enum_column(DeadlineKind, "deadline_kind"))
    # Stored with the deadline so a later configuration change does not move it silently.
    clock_mode: Mapped[ClockMode] = mapped_column(enum_column(ClockMode, "clock_mode"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkReason(StrEnum):
    SAME_PHONE = "same_phone"
    SAME_EMAIL = "same_email"


class LinkStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class LinkProposal(Base):
    """A suggestion that a contact belongs to an existing open case: same reporter, matched
    exactly on the phone number's or e-mail's lookup hash. Staff confirm or reject it."""

    __tablename__ = "link_proposals"
    __table_args__ = (UniqueConstraint("contact_id", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    # The existing case the contact may belong to.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[LinkReason] = mapped_column(enum_column(LinkReason, "link_reason"))
    status: Mapped[LinkStatus] = mapped_column(enum_column(LinkStatus, "link_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
