"""Link proposals: a new contact may belong to an open case of the same reporter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Written by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    op.create_table(
        "link_proposals",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("contact_id", BIG_ID, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("case_id", BIG_ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("reason", _choice("link_reason", "same_phone", "same_email"), nullable=False),
        sa.Column(
            "status", _choice("link_status", "proposed", "confirmed", "rejected"), nullable=False
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.UniqueConstraint(
            "contact_id", "case_id", name=op.f("uq_link_proposals_contact_id_case_id")
        ),
    )
    op.create_index(op.f("ix_link_proposals_contact_id"), "link_proposals", ["contact_id"])
    op.create_index(op.f("ix_link_proposals_case_id"), "link_proposals", ["case_id"])


def downgrade() -> None:
    op.drop_table("link_proposals")
