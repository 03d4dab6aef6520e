"""Initial schema: hotlines, contacts, cases, case events, deadlines, staff, sessions, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Reviewed by hand from an autogenerate draft. Column types are spelled out here (not imported from
the application) so this file keeps meaning the same thing when the models change. Encrypted
columns are TEXT holding Fernet tokens; timestamps are UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# BIGINT ids on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


CHANNEL = _choice("channel", "web_form", "phone", "sms", "whatsapp", "web_chat")
REPORTER_ROLE = _choice("reporter_role", "professional", "relative", "friend", "other", "unknown")


def _hours(opening: str, closing: str) -> dict[str, list[list[str]]]:
    return {day: [[opening, closing]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def upgrade() -> None:
    hotlines = op.create_table(
        "hotlines",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name_da", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("case_prefix", sa.String(8), nullable=False),
        sa.Column("phone_numbers", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.UniqueConstraint("case_prefix", name=op.f("uq_hotlines_case_prefix")),
    )
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", _choice("role", "hotline", "coordinator", "admin"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject_kind", sa.String(24), nullable=True),
        sa.Column("subject_id", sa.String(40), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index(op.f("ix_audit_entries_at"), "audit_entries", ["at"])
    op.create_table(
        "staff_sessions",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index(op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"])

    op.create_table(
        "cases",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("reference", sa.String(24), nullable=False),
        sa.Column("hotline_id", sa.String(32), sa.ForeignKey("hotlines.id"), nullable=False),
        sa.Column("status", _choice("case_status", "new", "in_triage", "closed"), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("reporter_role", REPORTER_ROLE, nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("is_acute", sa.Boolean(), nullable=False),
        sa.Column("queue_rank", sa.SmallInteger(), nullable=False),
        sa.Column("queue_due_at", TIMESTAMP, nullable=False),
        sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
    )
    op.create_index(op.f("ix_cases_assignee_id"), "cases", ["assignee_id"])
    # The staff queue: one keyset scan over open cases, acute first, then nearest deadline.
    op.create_index(
        "ix_cases_queue",
        "cases",
        ["queue_rank", "queue_due_at", "id"],
        postgresql_where=sa.text("closed_at IS NULL"),
        sqlite_where=sa.text("closed_at IS NULL"),
    )

    op.create_table(
        "contacts",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("hotline_id", sa.String(32), sa.ForeignKey("hotlines.id"), nullable=False),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("reporter_role", REPORTER_ROLE, nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("is_acute", sa.Boolean(), nullable=False),
        sa.Column("reporter_name", sa.Text(), nullable=True),
        sa.Column("reporter_organisation", sa.Text(), nullable=True),
        sa.Column("reporter_phone_raw", sa.Text(), nullable=True),
        sa.Column("reporter_phone_e164", sa.Text(), nullable=True),
        sa.Column(
            "reporter_phone_status",
            _choice("phone_status", "none", "pending", "valid", "invalid", "withheld"),
            nullable=False,
        ),
        sa.Column("reporter_phone_lookup", sa.String(64), nullable=True),
        sa.Column("reporter_email", sa.Text(), nullable=True),
        sa.Column("reporter_email_lookup", sa.String(64), nullable=True),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("receipt_hash", sa.String(64), nullable=True),
        sa.Column("case_id", BIG_ID, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("processed_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_contacts_receipt_hash")),
    )
    op.create_index(op.f("ix_contacts_case_id"), "contacts", ["case_id"])
    op.create_index(
        op.f("ix_contacts_reporter_phone_lookup"), "contacts", ["reporter_phone_lookup"]
    )
    op.create_index(
        op.f("ix_contacts_reporter_email_lookup"), "contacts", ["reporter_email_lookup"]
    )
    # The sweeper: contacts whose follow-up job never ran.
    op.create_index(
        "ix_contacts_unprocessed",
        "contacts",
        ["received_at"],
        postgresql_where=sa.text("processed_at IS NULL"),
        sqlite_where=sa.text("processed_at IS NULL"),
    )

    op.create_table(
        "case_events",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("case_id", BIG_ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column(
            "actor_kind", _choice("actor_kind", "system", "staff", "reporter"), nullable=False
        ),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("contact_id", BIG_ID, sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"])

    op.create_table(
        "deadlines",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("case_id", BIG_ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", _choice("deadline_kind", "triage", "visitation"), nullable=False),
        sa.Column(
            "clock_mode", _choice("clock_mode", "calendar", "business_hours"), nullable=False
        ),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("met_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("case_id", "kind", name=op.f("uq_deadlines_case_id_kind")),
    )
    op.create_index(
        "ix_deadlines_open_due",
        "deadlines",
        ["due_at"],
        postgresql_where=sa.text("met_at IS NULL"),
        sqlite_where=sa.text("met_at IS NULL"),
    )

    # The two hotlines VINK staffs. Numbers and hours are the published ones; operators edit them.
    op.bulk_insert(
        hotlines,
        [
            {
                "id": "copenhagen",
                "name_da": "VINKs hotline (Københavns Kommune)",
                "name_en": "VINK hotline (City of Copenhagen)",
                "case_prefix": "KBH",
                "phone_numbers": ["+4533172929"],
                "timezone": "Europe/Copenhagen",
                "opening_hours": {
                    day: [["09:00", "15:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
                },
            },
            {
                "id": "national",
                "name_da": "Hotline mod radikalisering (national)",
                "name_en": "National hotline against radicalisation",
                "case_prefix": "NAT",
                "phone_numbers": ["+4541749090"],
                "timezone": "Europe/Copenhagen",
                "opening_hours": _hours("08:00", "22:00"),
            },
        ],
    )


def downgrade() -> None:
    for table in (
        "deadlines",
        "case_events",
        "contacts",
        "cases",
        "staff_sessions",
        "audit_entries",
        "staff_users",
        "hotlines",
    ):
        op.drop_table(table)
