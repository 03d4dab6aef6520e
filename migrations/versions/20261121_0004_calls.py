"""Voice intake: calls, voicemail recordings, and each hotline's on-duty phones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

Written by hand. No phone number is stored in `calls` or `recordings`; `hotlines.duty_numbers`
holds the hotline's own on-duty phones (E.164), not reporters' numbers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table("hotlines") as batch:
        batch.add_column(
            sa.Column("duty_numbers", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )

    op.create_table(
        "calls",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("contact_id", BIG_ID, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("outside_hours", sa.Boolean(), nullable=False),
        sa.Column("answered_by", sa.String(32), nullable=True),
        sa.Column("accepted_leg_id", sa.String(64), nullable=True),
        sa.Column(
            "outcome",
            _choice("call_outcome", "answered", "missed", "voicemail", "outside_hours"),
            nullable=True,
        ),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("chose_anonymous", sa.Boolean(), nullable=True),
        sa.Column("chosen_role", _choice("caller_role", "professional", "citizen"), nullable=True),
        sa.UniqueConstraint("provider_id", name=op.f("uq_calls_provider_id")),
    )
    op.create_index(op.f("ix_calls_contact_id"), "calls", ["contact_id"])

    op.create_table(
        "recordings",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("contact_id", BIG_ID, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("call_id", BIG_ID, sa.ForeignKey("calls.id"), nullable=True),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("file_path", sa.String(500), nullable=True),
        sa.Column("content_type", sa.String(64), nullable=True),
        sa.Column("fetched_at", TIMESTAMP, nullable=True),
        sa.Column("deleted_at_provider", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.UniqueConstraint("provider_id", name=op.f("uq_recordings_provider_id")),
    )
    op.create_index(op.f("ix_recordings_contact_id"), "recordings", ["contact_id"])
    op.create_index(op.f("ix_recordings_call_id"), "recordings", ["call_id"])
    op.create_index(
        "ix_recordings_unfinished",
        "recordings",
        ["next_attempt_at", "received_at"],
        postgresql_where=sa.text("deleted_at_provider IS NULL"),
        sqlite_where=sa.text("deleted_at_provider IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("recordings")
    op.drop_table("calls")
    with op.batch_alter_table("hotlines") as batch:
        batch.drop_column("duty_numbers")
