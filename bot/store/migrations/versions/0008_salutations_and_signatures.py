"""Salutations, signatures and locales for drafts: the customer's contact by parts (given, family,
patronymic, form of address, gender), locale and contract; a person's signature; the team's locale.

Revision ID: 0008
Revises: 0010
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUSTOMER_COLUMNS = (
    ('locale', sa.String(length=8)),
    ('contact_given', sa.String()),
    ('contact_family', sa.String()),
    ('contact_patronymic', sa.String()),
    ('contact_title', sa.String(length=16)),
    ('contact_gender', sa.String(length=8)),
    ('contract', sa.String()),
)
PERSON_COLUMNS = (
    ('signature_name', sa.String()),
    ('job_title', sa.String()),
    ('company_name', sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        for name, kind in CUSTOMER_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table('person') as batch:
        for name, kind in PERSON_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table('team') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('team') as batch:
        batch.drop_column('locale')
    with op.batch_alter_table('person') as batch:
        for name, _ in reversed(PERSON_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table('customer') as batch:
        for name, _ in reversed(CUSTOMER_COLUMNS):
            batch.drop_column(name)
