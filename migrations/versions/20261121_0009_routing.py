"""Routing justified concerns: partner units (coordination unit / Infohus), the routings sent
to them with their notice e-mail, and the unit a coordinator belongs to.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21

Written by hand. No unit is seeded: units and their mailboxes are configuration, added by an
administrator under /admin/partner-units.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    op.create_table(
        "partner_units",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", _choice("unit_kind", "coordination_unit", "infohus"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("municipalities", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("name", name=op.f("uq_partner_units_name")),
    )
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("partner_unit_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_staff_users_partner_unit_id_partner_units"),
            "partner_units",
            ["partner_unit_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_staff_users_partner_unit_id"), ["partner_unit_id"])

    op.create_table(
        "routings",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("case_id", BIG_ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("partner_units.id"), nullable=False),
        sa.Column("municipality", sa.SmallInteger(), nullable=False),
        sa.Column("by_reporter_residence", sa.Boolean(), nullable=False),
        sa.Column("legal_basis", sa.String(200), nullable=False),
        sa.Column("sent_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.Column(
            "notice_status",
            _choice("notice_status", "pending", "sent", "not_sent", "failed"),
            nullable=False,
        ),
        sa.Column("notice_attempts", sa.Integer(), nullable=False),
        sa.Column("notice_next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("notice_sent_at", TIMESTAMP, nullable=True),
        sa.Column("notice_error_code", sa.String(32), nullable=True),
        sa.Column("notice_error_message", sa.String(255), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("acknowledged_at", TIMESTAMP, nullable=True),
        sa.Column("visited_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("visited_at", TIMESTAMP, nullable=True),
        sa.Column("responsible_agency", sa.String(200), nullable=True),
        # Encrypted (db.EncryptedText): free text from the recipient.
        sa.Column("next_step", sa.Text(), nullable=True),
        sa.Column("returned_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("returned_at", TIMESTAMP, nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
    )
    op.create_index(op.f("ix_routings_case_id"), "routings", ["case_id"])
    op.create_index(op.f("ix_routings_unit_id"), "routings", ["unit_id"])
    op.create_index(
        "ix_routings_notice_pending",
        "routings",
        ["notice_next_attempt_at", "sent_at"],
        postgresql_where=sa.text("notice_status = 'pending'"),
        sqlite_where=sa.text("notice_status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("routings")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_index(op.f("ix_staff_users_partner_unit_id"))
        batch.drop_constraint(
            op.f("fk_staff_users_partner_unit_id_partner_units"), type_="foreignkey"
        )
        batch.drop_column("partner_unit_id")
    op.drop_table("partner_units")
