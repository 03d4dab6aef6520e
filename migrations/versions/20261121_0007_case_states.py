"""The case state machine: statuses justified, routed, acknowledged and visited; close reasons;
the municipalities recorded at triage.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21

Written by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_STATUSES = ("new", "in_triage", "closed")
NEW_STATUSES = ("new", "in_triage", "justified", "routed", "acknowledged", "visited", "closed")
CLOSE_REASONS = (
    "not_justified",
    "advice_only",
    "police",
    "merged",
    "no_concern",
    "handed_over",
)


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.alter_column(
            "status",
            existing_type=_choice("case_status", *OLD_STATUSES),
            type_=_choice("case_status", *NEW_STATUSES),
            existing_nullable=False,
        )
        batch.add_column(
            sa.Column("closed_reason", _choice("close_reason", *CLOSE_REASONS), nullable=True)
        )
        batch.add_column(sa.Column("subject_municipality", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("reporter_municipality", sa.SmallInteger(), nullable=True))
    # Cases closed before close reasons existed were merges or closed by hand after triage.
    op.execute(
        "UPDATE cases SET closed_reason = 'merged' WHERE status = 'closed' AND id IN "
        "(SELECT case_id FROM case_events WHERE kind = 'case_closed')"
    )
    op.execute(
        "UPDATE cases SET closed_reason = 'not_justified' "
        "WHERE status = 'closed' AND closed_reason IS NULL"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE cases SET status = 'in_triage' "
        "WHERE status IN ('justified', 'routed', 'acknowledged', 'visited')"
    )
    with op.batch_alter_table("cases") as batch:
        # SQLite rebuilds the table: the column's CHECK must go before the column does.
        batch.drop_constraint("close_reason", type_="check")
        batch.drop_column("reporter_municipality")
        batch.drop_column("subject_municipality")
        batch.drop_column("closed_reason")
        batch.alter_column(
            "status",
            existing_type=_choice("case_status", *NEW_STATUSES),
            type_=_choice("case_status", *OLD_STATUSES),
            existing_nullable=False,
        )
