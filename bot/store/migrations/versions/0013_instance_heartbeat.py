"""Per-instance heartbeats: a claimed ladder step is taken over only when its claimant stopped
beating (one row per instance renewed each beat, instead of renewing every claimed step).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('instance_heartbeat',
    sa.Column('instance', sa.String(length=64), nullable=False),
    sa.Column('alive_until', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('instance'),
    )


def downgrade() -> None:
    op.drop_table('instance_heartbeat')
