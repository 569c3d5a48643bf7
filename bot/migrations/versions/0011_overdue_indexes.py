"""Indexes for /overdue: "collected this week/month" reads the payments recorded in a period from
the index alone (recorded_at first, then whether it was undone, the invoice and the amount);
"promises due this week" and "broken promises" count open invoices by promise date from the index
alone.

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
    op.create_index('ix_invoice_team_status_promised', 'invoice', ['team_id', 'status', 'promised_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_invoice_team_status_promised', table_name='invoice')
    op.drop_index('ix_payment_recorded_at', table_name='payment')
