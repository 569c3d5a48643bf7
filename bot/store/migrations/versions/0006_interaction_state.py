"""Interaction state in the database (dry runs, questions, dialogues, seen requests) and leases,
so that several instances can share the work.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('interaction_state',
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'key')
    )
    with op.batch_alter_table('interaction_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interaction_state_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_interaction_state_holder'), ['holder'], unique=False)
    op.create_table('lease',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('lease')
    with op.batch_alter_table('interaction_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interaction_state_holder'))
        batch_op.drop_index(batch_op.f('ix_interaction_state_expires_at'))
    op.drop_table('interaction_state')
