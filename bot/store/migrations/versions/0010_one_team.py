"""One team per name: two first messages at the same moment cannot create two teams.

Revision ID: 0010
Revises: 0004
Create Date: 2026-11-30
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('team') as batch:
        batch.create_unique_constraint('uq_team_name', ['name'])


def downgrade() -> None:
    with op.batch_alter_table('team') as batch:
        batch.drop_constraint('uq_team_name', type_='unique')
