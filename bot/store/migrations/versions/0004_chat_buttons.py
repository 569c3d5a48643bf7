"""Chat buttons: actions and questions too long for a platform's button data, kept by key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chatbutton',
    sa.Column('key', sa.String(length=24), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('asks', sa.String(), nullable=True),
    sa.Column('input', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('chatbutton')
