"""Message threads: messages of a contact's conversation, opted-out numbers, the address contacted.

Outbound messages carry their send attempts and next attempt time (the sweeper's partial index);
`provider_status_events` holds delivery reports that arrived before their message's provider id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Written by hand. Message bodies are TEXT holding Fernet tokens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("hotline_address", sa.String(64), nullable=True))

    op.create_table(
        "messages",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("contact_id", BIG_ID, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                name="message_direction",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_at", TIMESTAMP, nullable=False),
        sa.Column("error_code", sa.String(16), nullable=True),
        sa.Column("error_message", sa.String(255), nullable=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("provider_id", name=op.f("uq_messages_provider_id")),
    )
    op.create_index(op.f("ix_messages_contact_id"), "messages", ["contact_id"])
    op.create_index(
        "ix_messages_pending",
        "messages",
        ["next_attempt_at", "created_at"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "provider_status_events",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error_code", sa.String(16), nullable=True),
        sa.Column("error_message", sa.String(255), nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
    )
    op.create_index(
        op.f("ix_provider_status_events_provider_id"), "provider_status_events", ["provider_id"]
    )

    op.create_table(
        "phone_opt_outs",
        sa.Column("phone_lookup", sa.String(64), primary_key=True),
        sa.Column("opted_out_at", TIMESTAMP, nullable=False),
        sa.Column("keyword", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("phone_opt_outs")
    op.drop_table("provider_status_events")
    op.drop_table("messages")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("hotline_address")
