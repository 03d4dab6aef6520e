"""Escalation state: the steps of each deadline, the alerts they raise, every attempt to reach
someone; and on deadlines, the due time their steps were planned for.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21

Written by hand. The sweeper's queries each have a partial index: due pending steps, open
alerts by their next round, attempts waiting for (or stuck in) a try, open deadlines not
planned for their due time. No personal data: ids, codes, provider ids and statuses.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
UNPLANNED = (
    "met_at IS NULL AND (escalation_plan_due_at IS NULL OR escalation_plan_due_at <> due_at)"
)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def _step_kind() -> sa.Enum:
    return _enum("step_kind", "reminder", "warning", "approaching", "overdue")


def _stop_reason() -> sa.Enum:
    return _enum("stop_reason", "met", "replanned", "superseded")


def _fk(name: str, target: str, *, nullable: bool = False, big: bool = True) -> sa.Column[int]:
    column_type = BIG_ID if big else sa.Integer()
    return sa.Column(name, column_type, sa.ForeignKey(target), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("escalation_plan_due_at", TIMESTAMP, nullable=True))
    op.create_index(
        "ix_deadlines_unplanned",
        "deadlines",
        ["id"],
        postgresql_where=sa.text(UNPLANNED),
        sqlite_where=sa.text(UNPLANNED),
    )

    op.create_table(
        "escalations",
        sa.Column("id", BIG_ID, primary_key=True),
        _fk("case_id", "cases.id"),
        _fk("deadline_id", "deadlines.id"),
        sa.Column("plan_started_at", TIMESTAMP, nullable=False),
        sa.Column("step_name", sa.String(40), nullable=False),
        sa.Column("step_kind", _step_kind(), nullable=False),
        sa.Column(
            "audience",
            _enum("alert_audience", "assignee", "team_lead", "on_call", "on_call_and_team_lead"),
            nullable=False,
        ),
        sa.Column("repeats", sa.Boolean(), nullable=False),
        sa.Column("repeat_every_seconds", sa.Integer(), nullable=False),
        sa.Column("escalate_after_seconds", sa.Integer(), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column(
            "status", _enum("escalation_status", "pending", "fired", "stopped"), nullable=False
        ),
        sa.Column("fired_at", TIMESTAMP, nullable=True),
        sa.Column("stopped_at", TIMESTAMP, nullable=True),
        sa.Column("stop_reason", _stop_reason(), nullable=True),
        sa.UniqueConstraint(
            "deadline_id",
            "plan_started_at",
            "step_name",
            name=op.f("uq_escalations_deadline_id_plan_started_at_step_name"),
        ),
    )
    op.create_index("ix_escalations_case_id", "escalations", ["case_id"])
    op.create_index("ix_escalations_deadline_id", "escalations", ["deadline_id"])
    op.create_index(
        "ix_escalations_pending_due",
        "escalations",
        ["due_at"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "alerts",
        sa.Column("id", BIG_ID, primary_key=True),
        _fk("escalation_id", "escalations.id"),
        _fk("case_id", "cases.id"),
        _fk("deadline_id", "deadlines.id"),
        sa.Column("deadline_kind", _enum("deadline_kind", "triage", "visitation"), nullable=False),
        sa.Column("step_kind", _step_kind(), nullable=False),
        sa.Column("repeats", sa.Boolean(), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column(
            "status", _enum("alert_status", "open", "acknowledged", "stopped"), nullable=False
        ),
        sa.Column("fired_at", TIMESTAMP, nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("chain_position", sa.SmallInteger(), nullable=False),
        sa.Column("next_round_at", TIMESTAMP, nullable=True),
        sa.Column("acknowledged_at", TIMESTAMP, nullable=True),
        _fk("acknowledged_by", "staff_users.id", nullable=True, big=False),
        sa.Column("acknowledged_how", _enum("ack_method", "sms", "voice", "app"), nullable=True),
        sa.Column("acknowledged_attempt_id", BIG_ID, nullable=True),
        sa.Column("acknowledged_reference", sa.String(64), nullable=True),
        sa.Column("stopped_at", TIMESTAMP, nullable=True),
        sa.Column("stop_reason", _stop_reason(), nullable=True),
        sa.UniqueConstraint("escalation_id", name=op.f("uq_alerts_escalation_id")),
    )
    op.create_index("ix_alerts_case_id", "alerts", ["case_id"])
    op.create_index("ix_alerts_deadline_id", "alerts", ["deadline_id"])
    op.create_index(
        "uq_alerts_open_code",
        "alerts",
        ["code"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_alerts_open_next_round",
        "alerts",
        ["next_round_at"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "alert_attempts",
        sa.Column("id", BIG_ID, primary_key=True),
        _fk("alert_id", "alerts.id"),
        sa.Column("round", sa.Integer(), nullable=False),
        _fk("recipient_id", "staff_users.id", big=False),
        sa.Column(
            "channel", _enum("alert_channel", "voice", "sms", "email", "app"), nullable=False
        ),
        sa.Column(
            "status",
            _enum(
                "attempt_status",
                "pending",
                "sending",
                "sent",
                "shown",
                "not_sent",
                "failed",
                "unknown",
                "cancelled",
            ),
            nullable=False,
        ),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("attempted_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("token", sa.String(64), nullable=True),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("provider_status", sa.String(24), nullable=True),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("error_message", sa.String(255), nullable=True),
        sa.Column("fallback_of", BIG_ID, nullable=True),
        sa.UniqueConstraint(
            "alert_id",
            "round",
            "recipient_id",
            "channel",
            name=op.f("uq_alert_attempts_alert_id_round_recipient_id_channel"),
        ),
        sa.UniqueConstraint("token", name=op.f("uq_alert_attempts_token")),
    )
    op.create_index("ix_alert_attempts_alert_id", "alert_attempts", ["alert_id"])
    op.create_index(
        "ix_alert_attempts_due",
        "alert_attempts",
        ["next_try_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
        sqlite_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index(
        "ix_alert_attempts_failed",
        "alert_attempts",
        ["channel"],
        postgresql_where=sa.text("status IN ('failed', 'unknown')"),
        sqlite_where=sa.text("status IN ('failed', 'unknown')"),
    )


def downgrade() -> None:
    op.drop_table("alert_attempts")
    op.drop_table("alerts")
    op.drop_table("escalations")
    op.drop_index("ix_deadlines_unplanned", table_name="deadlines")
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("escalation_plan_due_at")
