"""Escalation as stored: each step of each deadline, each alert a fired step raised, each attempt
to reach someone about it. The database is the truth; Redis only carries jobs about these rows.

- `escalations`: one row per deadline × step of its plan, due at a time computed in the
  deadline's own clock mode. pending → fired (once: under the deadline's row lock, in the same
  transaction as its alert and the alert's first attempts) or → stopped (the deadline was met,
  the case closed, or the deadline moved and was planned anew).
- `alerts`: one per fired step. Open until acknowledged (who, how, when) or stopped (met,
  superseded by a later step that repeats); a repeating alert starts a new round every
  `repeat_every` and moves along the chain every `escalate_after`. `code` is the short code an
  SMS reply ("OK 123456") acknowledges it with: unique among open alerts.
- `alert_attempts`: one per recipient × channel × round, the row written **before** the
  provider is called. pending → sending (claimed, committed, then the provider is called) →
  sent / not_sent / failed; a try interrupted by a crash becomes `unknown` and is never retried
  on its channel (at most once per try): the next channel takes over.

No personal data about the person of concern anywhere: ids, a case reference in texts only,
staff ids as recipients. Provider error messages are about staff numbers at most.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
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

from db import Base, BigId, UTCDateTime, enum_column
from notifications.escalation import Audience, StepKind
from triage.deadline_clock import DeadlineKind


class EscalationStatus(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    STOPPED = "stopped"


class StopReason(StrEnum):
    # The deadline was met (or the case closed, which ends its deadlines).
    MET = "met"
    # The deadline moved (a reopened case, a merge) and its steps were planned anew.
    REPLANNED = "replanned"
    # A later step fired: a repeating alert hands over to it.
    SUPERSEDED = "superseded"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    STOPPED = "stopped"


class AckMethod(StrEnum):
    SMS = "sms"
    VOICE = "voice"
    APP = "app"


class AlertChannel(StrEnum):
    VOICE = "voice"
    SMS = "sms"
    EMAIL = "email"
    APP = "app"


class AttemptStatus(StrEnum):
    # Waiting for a try (the first, or a retry at next_try_at).
    PENDING = "pending"
    # A try is in flight: claimed and committed before the provider was called.
    SENDING = "sending"
    # The provider accepted it (later statuses are in provider_status).
    SENT = "sent"
    # In the app's alert list.
    SHOWN = "shown"
    # Console mode: logged, not sent.
    NOT_SENT = "not_sent"
    # Given up on: refused, retries used up, or the provider reported a failure.
    FAILED = "failed"
    # A try was interrupted (the worker died during it): whether it went out is unknown.
    UNKNOWN = "unknown"
    # Not tried: the alert was acknowledged or stopped first.
    CANCELLED = "cancelled"


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        # One row per step of one plan: a second planner, or a planner run twice, adds nothing.
        UniqueConstraint("deadline_id", "plan_started_at", "step_name"),
        # The sweeper's query: steps that are due.
        Index(
            "ix_escalations_pending_due",
            "due_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), index=True)
    # The deadline's start this plan was made for: a reopened deadline gets a new plan.
    plan_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The step as planned (copied, so a later change of the policy does not move it).
    step_name: Mapped[str] = mapped_column(String(40))
    step_kind: Mapped[StepKind] = mapped_column(enum_column(StepKind, "step_kind"))
    audience: Mapped[Audience] = mapped_column(enum_column(Audience, "alert_audience"))
    repeats: Mapped[bool] = mapped_column(Boolean)
    repeat_every_seconds: Mapped[int] = mapped_column(Integer)
    escalate_after_seconds: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[EscalationStatus] = mapped_column(
        enum_column(EscalationStatus, "escalation_status")
    )
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[StopReason | None] = mapped_column(enum_column(StopReason, "stop_reason"))


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # An SMS reply names the alert by its code: no two open alerts share one.
        Index(
            "uq_alerts_open_code",
            "code",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # The sweeper's query: open alerts whose next round is due.
        Index(
            "ix_alerts_open_next_round",
            "next_round_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # One alert per fired step, whoever fires it.
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), index=True)
    deadline_kind: Mapped[DeadlineKind] = mapped_column(enum_column(DeadlineKind, "deadline_kind"))
    step_kind: Mapped[StepKind] = mapped_column(enum_column(StepKind, "step_kind"))
    repeats: Mapped[bool] = mapped_column(Boolean)
    code: Mapped[str] = mapped_column(String(8))
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus, "alert_status"))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Rounds started so far (round n starts at fired_at + n·repeat_every); the chain position
    # of the last one.
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    chain_position: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_round_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    acknowledged_how: Mapped[AckMethod | None] = mapped_column(enum_column(AckMethod, "ack_method"))
    # The attempt a keypress acknowledged through, and the provider's id of the call or SMS.
    acknowledged_attempt_id: Mapped[int | None] = mapped_column(BigId)
    acknowledged_reference: Mapped[str | None] = mapped_column(String(64))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[StopReason | None] = mapped_column(enum_column(StopReason, "stop_reason"))


class AlertAttempt(Base):
    __tablename__ = "alert_attempts"
    __table_args__ = (
        # One row per recipient, channel and round: a round or a fallback made twice adds nothing.
        UniqueConstraint("alert_id", "round", "recipient_id", "channel"),
        # The sweeper's query: tries due (a retry, a first try whose job was lost) and tries
        # that outlived their time in flight.
        Index(
            "ix_alert_attempts_due",
            "next_try_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
            sqlite_where=text("status IN ('pending', 'sending')"),
        ),
        # Delivery failures by channel (metrics).
        Index(
            "ix_alert_attempts_failed",
            "channel",
            postgresql_where=text("status IN ('failed', 'unknown')"),
            sqlite_where=text("status IN ('failed', 'unknown')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    channel: Mapped[AlertChannel] = mapped_column(enum_column(AlertChannel, "alert_channel"))
    status: Mapped[AttemptStatus] = mapped_column(enum_column(AttemptStatus, "attempt_status"))
    # Provider requests made for this attempt (a retryable failure tries again, with backoff).
    tries: Mapped[int] = mapped_column(Integer, default=0)
    # pending: when the sweeper takes it up; sending: when the try counts as interrupted.
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The random token in a voice call's or an SMS's callback URLs (never a row id).
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    # The provider's last word on it, in our words (AlertCallStatus for calls; delivered, …).
    provider_status: Mapped[str | None] = mapped_column(String(24))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(String(255))
    # The attempt on another channel this one stands in for.
    fallback_of: Mapped[int | None] = mapped_column(BigId)
