"""The course model: gate steps and the steps that wait behind them, follow-ups linked to the step
they are about, and itemised payments (so the last one can be undone).

Revision ID: 0007
Revises: 0010
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ladder_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gate', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('follows_step_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_ladder_step_follows_step_id', 'ladder_step', ['follows_step_id'], ['id'])
    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['undone_by'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_invoice_id'), ['invoice_id'], unique=False)
    # Payments recorded before they were itemised: one row each for what was paid so far.
    op.execute(
        "INSERT INTO payment (invoice_id, amount, recorded_by, recorded_at) "
        "SELECT id, amount - balance, NULL, COALESCE(paid_at, created_at) FROM invoice WHERE amount > balance"
    )


def downgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_invoice_id'))
    op.drop_table('payment')
    op.execute("UPDATE ladder_step SET state = 'pending' WHERE state = 'waiting'")
    with op.batch_alter_table('ladder_step', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ladder_step_follows_step_id', type_='foreignkey')
        batch_op.drop_column('follows_step_id')
        batch_op.drop_column('gate')
