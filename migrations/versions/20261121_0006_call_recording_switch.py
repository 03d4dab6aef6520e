"""Call recording per hotline: off unless the hotline switches it on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21

Written by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hotlines") as batch:
        batch.add_column(
            sa.Column("record_calls", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("hotlines") as batch:
        batch.drop_column("record_calls")
