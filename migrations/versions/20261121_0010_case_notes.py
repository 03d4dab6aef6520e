"""Internal notes on cases; link proposals answered by a move or a merge ("superseded").

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21

Written by hand. Note bodies are TEXT holding Fernet tokens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

OLD_LINK_STATUSES = ("proposed", "confirmed", "rejected")
NEW_LINK_STATUSES = ("proposed", "confirmed", "rejected", "superseded")


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    op.create_table(
        "case_notes",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("case_id", BIG_ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index(op.f("ix_case_notes_case_id"), "case_notes", ["case_id"])
    with op.batch_alter_table("link_proposals") as batch:
        batch.alter_column(
            "status",
            existing_type=_choice("link_status", *OLD_LINK_STATUSES),
            type_=_choice("link_status", *NEW_LINK_STATUSES),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Nobody decided a superseded proposal, and its contact has moved: it is over either way.
    op.execute("UPDATE link_proposals SET status = 'rejected' WHERE status = 'superseded'")
    with op.batch_alter_table("link_proposals") as batch:
        batch.alter_column(
            "status",
            existing_type=_choice("link_status", *NEW_LINK_STATUSES),
            type_=_choice("link_status", *OLD_LINK_STATUSES),
            existing_nullable=False,
        )
    op.drop_table("case_notes")
