"""The ladder's course: step kinds, nudges, retries and outcomes; promises, disputes and payment plans.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


UNIQUE_POSITION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
"""0001 left the (invoice, position) constraint unnamed; SQLite's batch mode needs a name to drop it."""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('ladder_step', schema=None, naming_convention=UNIQUE_POSITION) as batch_op:
        batch_op.drop_constraint('uq_ladder_step_invoice_id' if sqlite else 'ladder_step_invoice_id_position_key', type_='unique')
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='ladder'))
        batch_op.add_column(sa.Column('nudges', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('retries', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('outcome', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('deadline', sa.Date(), nullable=True))
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promised_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('broken_promises', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('dispute_reason', sa.String(), nullable=True))
    op.create_table('instalment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice_id', 'sequence')
    )
    with op.batch_alter_table('instalment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instalment_invoice_id'), ['invoice_id'], unique=False)


def downgrade() -> None:
    # Before 0002 a step's position was unique per invoice and only the policy's own steps
    # existed: the course's added steps go, and of re-planned steps the newest stays.
    op.execute("DELETE FROM ladder_step WHERE kind <> 'ladder'")
    op.execute("DELETE FROM ladder_step WHERE id NOT IN (SELECT keep FROM (SELECT max(id) AS keep FROM ladder_step "
               "GROUP BY invoice_id, position) AS newest)")
    with op.batch_alter_table('instalment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instalment_invoice_id'))
    op.drop_table('instalment')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('dispute_reason')
        batch_op.drop_column('broken_promises')
        batch_op.drop_column('promised_date')
    with op.batch_alter_table('ladder_step', schema=None) as batch_op:
        batch_op.drop_column('deadline')
        batch_op.drop_column('outcome')
        batch_op.drop_column('retries')
        batch_op.drop_column('nudges')
        batch_op.drop_column('kind')
        batch_op.create_unique_constraint('uq_ladder_step_invoice_id', ['invoice_id', 'position'])
