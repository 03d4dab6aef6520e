"""Structured triage: triage records (drafts and submitted history) and child welfare
notifications (underretning).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21

Written by hand. The answers and the "how it was sent" text are encrypted by the application.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
OUTCOMES = ("justified", "not_justified", "advice_only", "police")


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def _staff(name: str, *, nullable: bool) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "triage_records",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("case_id", BIG_ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("form_version", sa.SmallInteger(), nullable=False),
        sa.Column("status", _choice("triage_status", "draft", "submitted"), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("outcome", _choice("triage_outcome", *OUTCOMES), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        _staff("created_by", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        _staff("updated_by", nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _staff("submitted_by", nullable=True),
        sa.Column("submitted_at", TIMESTAMP, nullable=True),
    )
    op.create_index(op.f("ix_triage_records_case_id"), "triage_records", ["case_id"])
    # At most one draft per case.
    op.create_index(
        "uq_triage_records_one_draft",
        "triage_records",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("status = 'draft'"),
        sqlite_where=sa.text("status = 'draft'"),
    )
    op.create_table(
        "child_welfare_notifications",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("case_id", BIG_ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("triage_record_id", BIG_ID, sa.ForeignKey("triage_records.id"), nullable=True),
        sa.Column("municipality", sa.SmallInteger(), nullable=False),
        sa.Column("status", _choice("notification_status", "open", "sent"), nullable=False),
        _staff("created_by", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        _staff("sent_by", nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("sent_how", sa.Text(), nullable=True),
    )
    op.create_index(
        op.f("ix_child_welfare_notifications_case_id"), "child_welfare_notifications", ["case_id"]
    )


def downgrade() -> None:
    op.drop_table("child_welfare_notifications")
    op.drop_table("triage_records")
