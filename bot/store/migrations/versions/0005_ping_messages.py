"""Ping messages: a ping sent in parts is rendered once and stored with how many parts arrived.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ping_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=128), nullable=False),
    sa.Column('step_ids', sa.JSON(), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('parts_sent', sa.Integer(), nullable=False),
    sa.Column('composed_by', sa.String(length=64), nullable=False),
    sa.Column('composed_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_ping_message_chat', 'ping_message', ['platform', 'chat_id', 'finished_at'])


def downgrade() -> None:
    op.drop_index('ix_ping_message_chat', table_name='ping_message')
    op.drop_table('ping_message')
