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
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

import access.models  # noqa: F401  (defines staff_users, which cases and case_events reference)
from db import Base, BigId, EncryptedJSON, EncryptedText, UTCDateTime, enum_column
from intake.models import Channel, ReporterRole
from triage.deadline_clock import ClockMode, DeadlineKind
from triage.states import CaseStatus, CloseReason
from triage.triage_form import TriageOutcome

# Re-exported: callers import statuses, outcomes and deadline enums with the models; the pure
# modules that own them import no SQLAlchemy.
__all__ = ["CaseStatus", "ClockMode", "CloseReason", "DeadlineKind", "TriageOutcome"]


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
    closed_reason: Mapped[CloseReason | None] = mapped_column(
        enum_column(CloseReason, "close_reason")
    )
    # Municipality codes (denmark/municipalities.csv) recorded at triage: where the person of
    # concern lives and where the reporter lives; routing reads them. None = unknown.
    subject_municipality: Mapped[int | None] = mapped_column(SmallInteger)
    reporter_municipality: Mapped[int | None] = mapped_column(SmallInteger)
    is_acute: Mapped[bool] = mapped_column(Boolean, default=False)
    # 0 = acute, 1 = normal: acute cases sort first in the queue.
    queue_rank: Mapped[int] = mapped_column(SmallInteger)
    # The nearest unmet deadline, kept here so the queue needs no join to sort; once every
    # deadline is met, the last one's due time (triage.deadlines.refresh_queue_deadline keeps
    # both). queue_deadline_kind: that deadline's kind; None on an open case with no deadline
    # running (a closed case keeps the last kind, so None stays rare).
    queue_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queue_deadline_kind: Mapped[DeadlineKind | None] = mapped_column(
        enum_column(DeadlineKind, "deadline_kind")
    )
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


# Open deadlines whose escalation plan is missing or was made for another due time.
UNPLANNED = (
    "met_at IS NULL AND (escalation_plan_due_at IS NULL OR escalation_plan_due_at <> due_at)"
)


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
        # The escalation sweeper's query: open deadlines whose steps are not planned (yet, or
        # for their present due time: a reopened or merged case moved it).
        Index(
            "ix_deadlines_unplanned",
            "id",
            postgresql_where=text(UNPLANNED),
            sqlite_where=text(UNPLANNED),
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
    # The due time the escalation steps were planned for (notifications/alert_engine.py); NULL
    # or another time than due_at: to be planned.
    escalation_plan_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseNote(Base):
    """An internal note by staff on a case; never shown to the reporter. The text is encrypted."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(EncryptedText)


class LinkReason(StrEnum):
    SAME_PHONE = "same_phone"
    SAME_EMAIL = "same_email"


class LinkStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    # Nobody decided: the contact was moved by hand or its case merged, which answered it.
    SUPERSEDED = "superseded"


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


class TriageStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class TriageRecord(Base):
    """One structured triage of a case (triage/triage_form.py): a draft, or a submitted record.

    A case has at most one draft; submitted records stay as its triage history. The answers are
    the person's and the reporter's details, so they are encrypted as a whole.
    """

    __tablename__ = "triage_records"
    __table_args__ = (
        Index(
            "uq_triage_records_one_draft",
            "case_id",
            unique=True,
            postgresql_where=text("status = 'draft'"),
            sqlite_where=text("status = 'draft'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The form version the answers were given in (triage_form.FORMS).
    form_version: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[TriageStatus] = mapped_column(enum_column(TriageStatus, "triage_status"))
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    outcome: Mapped[TriageOutcome | None] = mapped_column(
        enum_column(TriageOutcome, "triage_outcome")
    )
    # Optimistic concurrency: a save names the revision it was based on. It grows per case, across
    # records, so a save based on an older record can never match a newer one.
    revision: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationStatus(StrEnum):
    OPEN = "open"
    SENT = "sent"


class ChildWelfareNotification(Base):
    """A notification (underretning) to a child's municipality, required by a triage of a minor
    whose welfare is at risk; tracked on the case, apart from the Infohus route."""

    __tablename__ = "child_welfare_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    triage_record_id: Mapped[int | None] = mapped_column(ForeignKey("triage_records.id"))
    # The child's municipality (denmark/municipalities.csv).
    municipality: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, "notification_status")
    )
    created_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How it was sent (e.g. "digital post to the municipality's children's unit"): free text.
    sent_how: Mapped[str | None] = mapped_column(EncryptedText)


class NoticeStatus(StrEnum):
    """The routing notice e-mail: waiting for (another) attempt, handed to the mail server,
    logged only (console mode), or given up on with the reason."""

    PENDING = "pending"
    SENT = "sent"
    NOT_SENT = "not_sent"
    FAILED = "failed"


class Routing(Base):
    """A justified concern passed on to a partner unit: who sent it where, when and on what
    legal basis, and what the recipient did with it (acknowledged, visited, returned, closed).

    The legal basis is the label as chosen, so a later change of the configured list does not
    rewrite history. Free text from the recipient is encrypted.
    """

    __tablename__ = "routings"
    __table_args__ = (
        # The sweeper's query: notices still waiting to be sent (or sent again).
        Index(
            "ix_routings_notice_pending",
            "notice_next_attempt_at",
            "sent_at",
            postgresql_where=text("notice_status = 'pending'"),
            sqlite_where=text("notice_status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("partner_units.id"), index=True)
    # The municipality code the unit was chosen by, and whether it is the reporter's (the
    # person's residence was unknown): staff check such routings.
    municipality: Mapped[int] = mapped_column(SmallInteger)
    by_reporter_residence: Mapped[bool] = mapped_column(Boolean)
    legal_basis: Mapped[str] = mapped_column(String(200))
    sent_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The e-mail telling the unit's mailbox (a link, no personal data); retried by the sweeper.
    notice_status: Mapped[NoticeStatus] = mapped_column(enum_column(NoticeStatus, "notice_status"))
    notice_attempts: Mapped[int] = mapped_column(Integer, default=0)
    notice_next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_error_code: Mapped[str | None] = mapped_column(String(32))
    notice_error_message: Mapped[str | None] = mapped_column(String(255))
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The visitation: who takes the case on, and the next step agreed.
    visited_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responsible_agency: Mapped[str | None] = mapped_column(String(200))
    next_step: Mapped[str | None] = mapped_column(EncryptedText)
    # Sent back as the wrong unit: the case is justified again, for the hotline to route anew.
    returned_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str | None] = mapped_column(EncryptedText)
    # Closed as handed over to the responsible agency (the case closes with it).
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.returned_at is None and self.closed_at is None
