"""Deadlines per hotline (durations, clock mode, business calendar, escalation policies); the
kind of each case's running deadline; visitation deadlines for cases justified before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21

Written by hand. The defaults are the action plan's: 24 hours to triage, 48 to visitation, in
calendar time; the business-hours calendar (used only when a hotline switches to it) is open
Monday to Friday 08:00-16:00, closed on Christmas Eve and New Year's Eve as well as on the
public holidays. Cases already justified, routed, acknowledged or visited get the visitation
deadline they would have had (48 calendar hours from receipt; met when the visitation was
recorded), so the queue and the alerts see every case alike.
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
BUSINESS_HOURS = {day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
VISITATION = timedelta(hours=48)
NEEDS_VISITATION = ("justified", "routed", "acknowledged", "visited")


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table("hotlines") as batch:
        batch.add_column(
            sa.Column(
                "triage_minutes", sa.Integer(), nullable=False, server_default=sa.text("1440")
            )
        )
        batch.add_column(
            sa.Column(
                "visitation_minutes", sa.Integer(), nullable=False, server_default=sa.text("2880")
            )
        )
        batch.add_column(
            sa.Column(
                "deadline_clock_mode",
                _choice("clock_mode", "calendar", "business_hours"),
                nullable=False,
                server_default="calendar",
            )
        )
        batch.add_column(
            sa.Column(
                "business_hours",
                sa.JSON(),
                nullable=False,
                server_default=sa.text(f"'{json.dumps(BUSINESS_HOURS)}'"),
            )
        )
        batch.add_column(
            sa.Column(
                "closed_on_constitution_day",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch.add_column(
            sa.Column(
                "closed_on_christmas_eve", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
        batch.add_column(
            sa.Column(
                "closed_on_new_years_eve", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
        batch.add_column(sa.Column("triage_policy", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("visitation_policy", sa.JSON(), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column(
                "queue_deadline_kind",
                _choice("deadline_kind", "triage", "visitation"),
                nullable=True,
            )
        )
    _add_visitation_deadlines()
    # The kind and due time of each open case's nearest unmet deadline.
    op.execute(
        "UPDATE cases SET "
        "queue_deadline_kind = (SELECT kind FROM deadlines WHERE deadlines.case_id = cases.id "
        "AND deadlines.met_at IS NULL ORDER BY deadlines.due_at, deadlines.id LIMIT 1), "
        "queue_due_at = (SELECT due_at FROM deadlines WHERE deadlines.case_id = cases.id "
        "AND deadlines.met_at IS NULL ORDER BY deadlines.due_at, deadlines.id LIMIT 1) "
        "WHERE closed_at IS NULL AND EXISTS (SELECT 1 FROM deadlines "
        "WHERE deadlines.case_id = cases.id AND deadlines.met_at IS NULL)"
    )
    # A closed case keeps its last deadline's kind (None marks only open cases with nothing
    # running: see triage/deadlines.py).
    op.execute(
        "UPDATE cases SET queue_deadline_kind = (SELECT kind FROM deadlines "
        "WHERE deadlines.case_id = cases.id ORDER BY deadlines.due_at DESC, deadlines.id DESC "
        "LIMIT 1) WHERE closed_at IS NOT NULL"
    )


def _add_visitation_deadlines() -> None:
    cases = sa.table(
        "cases",
        sa.column("id", BIG_ID),
        sa.column("status", sa.String()),
        sa.column("received_at", TIMESTAMP),
    )
    deadlines = sa.table(
        "deadlines",
        sa.column("case_id", BIG_ID),
        sa.column("kind", sa.String()),
        sa.column("clock_mode", sa.String()),
        sa.column("started_at", TIMESTAMP),
        sa.column("due_at", TIMESTAMP),
        sa.column("met_at", TIMESTAMP),
    )
    routings = sa.table(
        "routings", sa.column("case_id", BIG_ID), sa.column("visited_at", TIMESTAMP)
    )
    connection = op.get_bind()
    visited = (
        sa.select(sa.func.max(routings.c.visited_at))
        .where(routings.c.case_id == cases.c.id)
        .scalar_subquery()
    )
    has_one = sa.exists().where(deadlines.c.case_id == cases.c.id, deadlines.c.kind == "visitation")
    rows = connection.execute(
        sa.select(cases.c.id, cases.c.status, cases.c.received_at, visited).where(
            cases.c.status.in_(NEEDS_VISITATION), ~has_one
        )
    ).all()
    if rows:
        op.bulk_insert(
            deadlines,
            [
                {
                    "case_id": case_id,
                    "kind": "visitation",
                    "clock_mode": "calendar",
                    "started_at": received_at,
                    "due_at": received_at + VISITATION,
                    # A visited case met it when the visitation was recorded.
                    "met_at": (visited_at or received_at + VISITATION)
                    if status == "visited"
                    else None,
                }
                for case_id, status, received_at, visited_at in rows
            ],
        )


def downgrade() -> None:
    # The CHECK constraints first: SQLite's batch mode would copy them onto the new table.
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint(op.f("ck_cases_deadline_kind"), type_="check")
        batch.drop_column("queue_deadline_kind")
    # Visitation deadlines stay: the table had the kind from the start.
    with op.batch_alter_table("hotlines") as batch:
        batch.drop_constraint(op.f("ck_hotlines_clock_mode"), type_="check")
        for column in (
            "visitation_policy",
            "triage_policy",
            "closed_on_new_years_eve",
            "closed_on_christmas_eve",
            "closed_on_constitution_day",
            "business_hours",
            "deadline_clock_mode",
            "visitation_minutes",
            "triage_minutes",
        ):
            batch.drop_column(column)
