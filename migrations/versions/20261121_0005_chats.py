"""Web chat: one row per chat, its transcript on the contact's messages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

Written by hand. The visitor's chat token is stored only as its SHA-256.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("contact_id", BIG_ID, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("hotline_id", sa.String(32), sa.ForeignKey("hotlines.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("accepted_at", TIMESTAMP, nullable=True),
        sa.Column("accepted_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_chats_token_hash")),
    )
    op.create_index(op.f("ix_chats_contact_id"), "chats", ["contact_id"])
    op.create_index(op.f("ix_chats_status"), "chats", ["status"])


def downgrade() -> None:
    op.drop_table("chats")
