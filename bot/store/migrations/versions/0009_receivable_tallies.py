"""Receivable tallies kept by triggers, exchange rates, digests, and the indexes /overdue and /list read.

`receivable_day` and `receivable_month` hold the open (and disputed) balances of `invoice`, kept
by triggers in the same transaction as every insert, update and delete, on SQLite and PostgreSQL
alike, so bulk imports and any future handler keep them right without knowing about them.

Revision ID: 0009
Revises: 0010
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "('open', 'disputed')"
DIMENSIONS = {"owner": "{row}.owner_id", "collector": "coalesce({row}.collector_id, 0)", "customer": "{row}.customer_id"}
"""receivable_month keeps one tally per owner, per collector (0: none) and per customer."""


def _month_add(month: str, qualify: bool) -> str:
    target = "receivable_month." if qualify else ""
    return "".join(f"""
INSERT INTO receivable_month (team_id, dimension, subject_id, currency, due_month, invoices, balance)
VALUES (NEW.team_id, '{dimension}', {subject.format(row="NEW")}, NEW.currency, {month.format(row="NEW")}, 1, NEW.balance)
ON CONFLICT (team_id, dimension, subject_id, currency, due_month)
DO UPDATE SET invoices = {target}invoices + 1, balance = {target}balance + excluded.balance;""" for dimension, subject in DIMENSIONS.items())


def _month_remove(month: str) -> str:
    return "".join(f"""
UPDATE receivable_month SET invoices = invoices - 1, balance = balance - OLD.balance
 WHERE team_id = OLD.team_id AND dimension = '{dimension}' AND subject_id = {subject.format(row="OLD")}
   AND currency = OLD.currency AND due_month = {month.format(row="OLD")};
DELETE FROM receivable_month
 WHERE team_id = OLD.team_id AND dimension = '{dimension}' AND subject_id = {subject.format(row="OLD")}
   AND currency = OLD.currency AND due_month = {month.format(row="OLD")} AND invoices = 0;""" for dimension, subject in DIMENSIONS.items())


SQLITE_MONTH = "date({row}.due_date, 'start of month')"
POSTGRES_MONTH = "date_trunc('month', {row}.due_date)::date"

_SQLITE_DAY_ADD = """
INSERT INTO receivable_day (team_id, currency, due_date, invoices, balance)
VALUES (NEW.team_id, NEW.currency, NEW.due_date, 1, NEW.balance)
ON CONFLICT (team_id, currency, due_date) DO UPDATE SET invoices = invoices + 1, balance = balance + excluded.balance;
""" + _month_add(SQLITE_MONTH, False)

_SQLITE_DAY_REMOVE = """
UPDATE receivable_day SET invoices = invoices - 1, balance = balance - OLD.balance
 WHERE team_id = OLD.team_id AND currency = OLD.currency AND due_date = OLD.due_date;
DELETE FROM receivable_day
 WHERE team_id = OLD.team_id AND currency = OLD.currency AND due_date = OLD.due_date AND invoices = 0;
""" + _month_remove(SQLITE_MONTH)

_TRACKED = "team_id, currency, due_date, owner_id, collector_id, customer_id, balance, status"

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER receivable_after_insert AFTER INSERT ON invoice WHEN NEW.status IN {OPEN} "
    f"BEGIN {_SQLITE_DAY_ADD} END",
    f"CREATE TRIGGER receivable_after_delete AFTER DELETE ON invoice WHEN OLD.status IN {OPEN} "
    f"BEGIN {_SQLITE_DAY_REMOVE} END",
    f"CREATE TRIGGER receivable_after_update_remove AFTER UPDATE OF {_TRACKED} ON invoice WHEN OLD.status IN {OPEN} "
    f"BEGIN {_SQLITE_DAY_REMOVE} END",
    f"CREATE TRIGGER receivable_after_update_add AFTER UPDATE OF {_TRACKED} ON invoice WHEN NEW.status IN {OPEN} "
    f"BEGIN {_SQLITE_DAY_ADD} END",
)
_SQLITE_SALES_ADD = """
INSERT INTO sales_month (team_id, currency, month, invoices, amount)
VALUES (NEW.team_id, NEW.currency, date(coalesce(NEW.issue_date, NEW.created_at), 'start of month'), 1, NEW.amount)
ON CONFLICT (team_id, currency, month) DO UPDATE SET invoices = invoices + 1, amount = amount + excluded.amount;
"""
_SQLITE_SALES_REMOVE = """
UPDATE sales_month SET invoices = invoices - 1, amount = amount - OLD.amount
 WHERE team_id = OLD.team_id AND currency = OLD.currency
   AND month = date(coalesce(OLD.issue_date, OLD.created_at), 'start of month');
"""
_SALES_TRACKED = "team_id, currency, amount, issue_date, created_at"
SQLITE_TRIGGERS += (
    f"CREATE TRIGGER sales_after_insert AFTER INSERT ON invoice BEGIN {_SQLITE_SALES_ADD} END",
    f"CREATE TRIGGER sales_after_delete AFTER DELETE ON invoice BEGIN {_SQLITE_SALES_REMOVE} END",
    f"CREATE TRIGGER sales_after_update AFTER UPDATE OF {_SALES_TRACKED} ON invoice "
    f"BEGIN {_SQLITE_SALES_REMOVE} {_SQLITE_SALES_ADD} END",
)
SQLITE_TRIGGER_NAMES = ("receivable_after_insert", "receivable_after_delete", "receivable_after_update_remove",
                        "receivable_after_update_add", "sales_after_insert", "sales_after_delete", "sales_after_update")

POSTGRES_FUNCTION = f"""
CREATE FUNCTION receivable_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN {OPEN} THEN
    UPDATE receivable_day SET invoices = invoices - 1, balance = balance - OLD.balance
     WHERE team_id = OLD.team_id AND currency = OLD.currency AND due_date = OLD.due_date;
    DELETE FROM receivable_day
     WHERE team_id = OLD.team_id AND currency = OLD.currency AND due_date = OLD.due_date AND invoices = 0;
{_month_remove(POSTGRES_MONTH)}
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status IN {OPEN} THEN
    INSERT INTO receivable_day (team_id, currency, due_date, invoices, balance)
    VALUES (NEW.team_id, NEW.currency, NEW.due_date, 1, NEW.balance)
    ON CONFLICT (team_id, currency, due_date)
    DO UPDATE SET invoices = receivable_day.invoices + 1, balance = receivable_day.balance + excluded.balance;
{_month_add(POSTGRES_MONTH, True)}
  END IF;
  RETURN NULL;
END $$
"""
POSTGRES_SALES_FUNCTION = """
CREATE FUNCTION sales_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE sales_month SET invoices = invoices - 1, amount = amount - OLD.amount
     WHERE team_id = OLD.team_id AND currency = OLD.currency
       AND month = date_trunc('month', coalesce(OLD.issue_date::timestamp, OLD.created_at))::date;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO sales_month (team_id, currency, month, invoices, amount)
    VALUES (NEW.team_id, NEW.currency, date_trunc('month', coalesce(NEW.issue_date::timestamp, NEW.created_at))::date,
            1, NEW.amount)
    ON CONFLICT (team_id, currency, month)
    DO UPDATE SET invoices = sales_month.invoices + 1, amount = sales_month.amount + excluded.amount;
  END IF;
  RETURN NULL;
END $$
"""
POSTGRES_TRIGGERS = (
    "CREATE TRIGGER receivable_after_insert_delete AFTER INSERT OR DELETE ON invoice "
    "FOR EACH ROW EXECUTE FUNCTION receivable_tally()",
    f"CREATE TRIGGER receivable_after_update AFTER UPDATE OF {_TRACKED} ON invoice "
    "FOR EACH ROW EXECUTE FUNCTION receivable_tally()",
    "CREATE TRIGGER sales_after_insert_delete AFTER INSERT OR DELETE ON invoice "
    "FOR EACH ROW EXECUTE FUNCTION sales_tally()",
    "CREATE TRIGGER sales_after_update AFTER UPDATE OF team_id, currency, amount, issue_date, created_at ON invoice "
    "FOR EACH ROW EXECUTE FUNCTION sales_tally()",
)

BACKFILL_DAY = f"""
INSERT INTO receivable_day (team_id, currency, due_date, invoices, balance)
SELECT team_id, currency, due_date, count(*), sum(balance) FROM invoice WHERE status IN {OPEN}
GROUP BY team_id, currency, due_date
"""


def backfill_month(month: str) -> str:
    return ";\n".join(f"""
INSERT INTO receivable_month (team_id, dimension, subject_id, currency, due_month, invoices, balance)
SELECT team_id, '{dimension}', {subject.format(row="invoice")}, currency, {month}, count(*), sum(balance)
  FROM invoice WHERE status IN {OPEN}
 GROUP BY team_id, {subject.format(row="invoice")}, currency, {month}""" for dimension, subject in DIMENSIONS.items())


def backfill_sales(month: str) -> str:
    return f"""
INSERT INTO sales_month (team_id, currency, month, invoices, amount)
SELECT team_id, currency, {month}, count(*), sum(amount) FROM invoice GROUP BY team_id, currency, {month}
"""


def upgrade() -> None:
    op.create_table('receivable_day',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'currency', 'due_date'),
    sqlite_with_rowid=False,
    )
    op.create_table('receivable_month',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=10), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('due_month', sa.Date(), nullable=False),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'dimension', 'subject_id', 'currency', 'due_month'),
    sqlite_with_rowid=False,
    )
    op.create_table('sales_month',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'currency', 'month'),
    sqlite_with_rowid=False,
    )
    op.create_table('exchange_rate',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('quote_currency', sa.String(length=3), nullable=False),
    sa.Column('rate', sa.String(length=32), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['set_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('team_id', 'currency')
    )
    op.create_table('digest_subscription',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('cadence', sa.String(length=8), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('at', sa.Time(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('digest_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'kind', 'period')
    )
    op.create_index(op.f('ix_digest_run_person_id'), 'digest_run', ['person_id'], unique=False)
    op.create_index('ix_invoice_team_due_covering', 'invoice',
                    ['team_id', 'due_date', 'status', 'currency', 'owner_id', 'collector_id', 'customer_id', 'balance'],
                    unique=False)
    op.create_index('ix_invoice_team_promised', 'invoice', ['team_id', 'promised_date'], unique=False)
    op.create_index('ix_invoice_team_status_currency', 'invoice', ['team_id', 'status', 'currency', 'due_date', 'balance'],
                    unique=False)
    unanswered = sa.text("state = 'sent' AND acknowledged_at IS NULL")
    op.create_index('ix_ladder_step_unanswered', 'ladder_step', ['due_at', 'responsible_id', 'invoice_id'], unique=False,
                    sqlite_where=unanswered, postgresql_where=unanswered)
    op.create_index('ix_event_team_kind_at', 'event', ['team_id', 'kind', 'at'], unique=False)

    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(BACKFILL_DAY)
    for statement in backfill_month("date(due_date, 'start of month')" if sqlite else "date_trunc('month', due_date)::date").split(";\n"):
        op.execute(statement)
    op.execute(backfill_sales("date(coalesce(issue_date, created_at), 'start of month')" if sqlite
                              else "date_trunc('month', coalesce(issue_date::timestamp, created_at))::date"))
    if sqlite:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_SALES_FUNCTION)
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS receivable_after_insert_delete ON invoice")
        op.execute("DROP TRIGGER IF EXISTS receivable_after_update ON invoice")
        op.execute("DROP TRIGGER IF EXISTS sales_after_insert_delete ON invoice")
        op.execute("DROP TRIGGER IF EXISTS sales_after_update ON invoice")
        op.execute("DROP FUNCTION IF EXISTS receivable_tally()")
        op.execute("DROP FUNCTION IF EXISTS sales_tally()")
    op.drop_index('ix_event_team_kind_at', table_name='event')
    op.drop_index('ix_ladder_step_unanswered', table_name='ladder_step')
    op.drop_index('ix_invoice_team_status_currency', table_name='invoice')
    op.drop_index('ix_invoice_team_promised', table_name='invoice')
    op.drop_index('ix_invoice_team_due_covering', table_name='invoice')
    op.drop_index(op.f('ix_digest_run_person_id'), table_name='digest_run')
    op.drop_table('digest_run')
    op.drop_table('digest_subscription')
    op.drop_table('exchange_rate')
    op.drop_table('receivable_month')
    op.drop_table('sales_month')
    op.drop_table('receivable_day')
