"""On-call: staff phone numbers and e-mail addresses, schedules (one per hotline) and overrides.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21

Written by hand. Staff phone numbers are stored in E.164 only (normalised at entry); they and the
e-mail addresses are staff work contacts, kept in plain text (see access/models.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
REASONS = ("holiday", "absence", "swap", "other")


def _staff(name: str, *, nullable: bool) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("phone_e164", sa.String(16), nullable=True))
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
    op.create_table(
        "oncall_schedules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hotline_id", sa.String(32), sa.ForeignKey("hotlines.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("handoff_weekday", sa.SmallInteger(), nullable=False),
        sa.Column("handoff_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("shift_days", sa.SmallInteger(), nullable=False),
        _staff("team_lead_id", nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _staff("updated_by", nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("hotline_id", name=op.f("uq_oncall_schedules_hotline_id")),
    )
    op.create_table(
        "oncall_overrides",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column(
            "schedule_id",
            sa.Integer(),
            sa.ForeignKey("oncall_schedules.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("starts_at", TIMESTAMP, nullable=False),
        sa.Column("ends_at", TIMESTAMP, nullable=False),
        _staff("staff_id", nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                *REASONS,
                name="override_reason",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        _staff("created_by", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_oncall_overrides_ends_after_start")
        ),
    )
    op.create_index(
        "ix_oncall_overrides_schedule_id_ends_at", "oncall_overrides", ["schedule_id", "ends_at"]
    )


def downgrade() -> None:
    op.drop_table("oncall_overrides")
    op.drop_table("oncall_schedules")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("email")
        batch.drop_column("phone_e164")
