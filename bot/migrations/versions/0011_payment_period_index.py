"""An index for "collected this week/month": the payments recorded in a period, read from the
index alone (recorded_at first, then whether it was undone, the invoice and the amount).

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-30
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_payment_recorded_at', 'payment', ['recorded_at', 'undone_at', 'invoice_id', 'amount'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_payment_recorded_at', table_name='payment')
