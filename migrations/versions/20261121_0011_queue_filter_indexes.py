"""Indexes for the staff queue's filters: by hotline, by assignee and unassigned, in queue order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21

Written by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN = "closed_at IS NULL"
OPEN_UNASSIGNED = "closed_at IS NULL AND assignee_id IS NULL"


def upgrade() -> None:
    # Partial, like ix_cases_queue: closed cases (most of the table, in time) are not in them.
    op.create_index(
        "ix_cases_queue_hotline",
        "cases",
        ["hotline_id", "queue_rank", "queue_due_at", "id"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_cases_queue_assignee",
        "cases",
        ["assignee_id", "queue_rank", "queue_due_at", "id"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    # `assignee_id IS NULL` cannot stand in for an equality on the index above (the planner
    # would sort every unassigned case), so the unassigned ones have their own.
    op.create_index(
        "ix_cases_queue_unassigned",
        "cases",
        ["queue_rank", "queue_due_at", "id"],
        postgresql_where=sa.text(OPEN_UNASSIGNED),
        sqlite_where=sa.text(OPEN_UNASSIGNED),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_queue_unassigned", table_name="cases")
    op.drop_index("ix_cases_queue_assignee", table_name="cases")
    op.drop_index("ix_cases_queue_hotline", table_name="cases")
