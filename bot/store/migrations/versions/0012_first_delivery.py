"""A ladder step remembers its first delivery (`first_sent_at`), which re-arming (snooze, retry,
hand-over) never clears: the course counts a broken promise by it, so a re-armed follow-up still
counts while a later one goes out.

Revision ID: 0012
Revises: 0011 (re-chained after 0011 landed on main)
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ladder_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_sent_at', sa.DateTime(), nullable=True))
    # What is known of earlier deliveries: the current mark, or an answer only a delivered ping gets.
    op.execute("UPDATE ladder_step SET first_sent_at = COALESCE(sent_at, acknowledged_at) "
               "WHERE sent_at IS NOT NULL OR state = 'acknowledged'")


def downgrade() -> None:
    with op.batch_alter_table('ladder_step', schema=None) as batch_op:
        batch_op.drop_column('first_sent_at')
