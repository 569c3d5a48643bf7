"""Receivable tallies kept by triggers, exchange rates, digests, and the indexes /overdue and /list read.

`receivable_day` and `receivable_month` hold the open (and disputed) balances of `invoice`, kept
by triggers in the same transaction as every insert, update and delete, on SQLite and PostgreSQL
alike, so bulk imports and any future handler keep them right without knowing about them.

Revision ID: 0009
Revises: 0010
Create Date: 2026-11-30
"""
import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "{row}.status IN ('open', 'disputed')"


@dataclass(frozen=True)
class Tally:
    """One tally table kept from `invoice`: its key (column → expression over the invoice row,
    written with `{row}` and the dialect's `{month}` / `{issue_month}`), what each invoice adds,
    and which invoices count. The triggers (SQLite and PostgreSQL alike) and the backfill are all
    generated from these descriptions."""

    table: str
    key: dict[str, str]
    adds: dict[str, str]
    counted: str | None = None
    """Only invoices meeting this condition count (None: every invoice)."""
    prune: bool = True
    """Delete a row when its count drops to zero."""


def _month_tally(dimension: str, subject: str) -> Tally:
    return Tally("receivable_month", {"team_id": "{row}.team_id", "dimension": f"'{dimension}'", "subject_id": subject,
                                      "currency": "{row}.currency", "due_month": "{month}"},
                 {"invoices": "1", "balance": "{row}.balance"}, OPEN)


RECEIVABLES = (
    Tally("receivable_day", {"team_id": "{row}.team_id", "currency": "{row}.currency", "due_date": "{row}.due_date"},
          {"invoices": "1", "balance": "{row}.balance"}, OPEN),
    # receivable_month keeps one tally per owner, per collector (0: none) and per customer
    _month_tally("owner", "{row}.owner_id"),
    _month_tally("collector", "coalesce({row}.collector_id, 0)"),
    _month_tally("customer", "{row}.customer_id"),
)
SALES = (Tally("sales_month", {"team_id": "{row}.team_id", "currency": "{row}.currency", "month": "{issue_month}"},
               {"invoices": "1", "amount": "{row}.amount"}, prune=False),)
DIALECT_WORDS = {
    "sqlite": {"month": "date({row}.due_date, 'start of month')",
               "issue_month": "date(coalesce({row}.issue_date, {row}.created_at), 'start of month')"},
    "postgresql": {"month": "date_trunc('month', {row}.due_date)::date",
                   "issue_month": "date_trunc('month', coalesce({row}.issue_date::timestamp, {row}.created_at))::date"},
}


def _expression(template: str, row: str, dialect: str) -> str:
    words = {name: text.format(row=row) for name, text in DIALECT_WORDS[dialect].items()}
    return template.format(row=row, **words)


def _tracked(tallies: Sequence[Tally]) -> str:
    """The invoice columns the tallies read: an update of any other column leaves them alone."""
    columns: list[str] = []
    for tally in tallies:
        for template in (*tally.key.values(), *tally.adds.values(), tally.counted or ""):
            for column in re.findall(r"\bROW\.(\w+)", _expression(template, "ROW", "sqlite")):
                if column not in columns:
                    columns.append(column)
    return ", ".join(columns)


def _add(tally: Tally, dialect: str) -> str:
    key = ", ".join(tally.key)
    columns = ", ".join((*tally.key, *tally.adds))
    values = ", ".join(_expression(t, "NEW", dialect) for t in (*tally.key.values(), *tally.adds.values()))
    updates = ", ".join(f"{c} = {tally.table}.{c} + excluded.{c}" for c in tally.adds)
    return (f"INSERT INTO {tally.table} ({columns}) VALUES ({values}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {updates};")


def _remove(tally: Tally, dialect: str) -> str:
    where = " AND ".join(f"{c} = {_expression(t, 'OLD', dialect)}" for c, t in tally.key.items())
    updates = ", ".join(f"{c} = {c} - {_expression(t, 'OLD', dialect)}" for c, t in tally.adds.items())
    statement = f"UPDATE {tally.table} SET {updates} WHERE {where};"
    if tally.prune:
        statement += f"\nDELETE FROM {tally.table} WHERE {where} AND {next(iter(tally.adds))} = 0;"
    return statement


def _body(tallies: Sequence[Tally], change: str, dialect: str) -> str:
    step = _add if change == "add" else _remove
    return "\n".join(step(tally, dialect) for tally in tallies)


def _condition(tallies: Sequence[Tally], row: str) -> str | None:
    counted = {tally.counted for tally in tallies}
    assert len(counted) == 1, "one trigger set covers tallies that count the same invoices"
    condition = counted.pop()
    return None if condition is None else condition.format(row=row)


TRIGGER_SETS = {"receivable": RECEIVABLES, "sales": SALES}


def sqlite_triggers() -> list[tuple[str, str]]:
    """(name, CREATE TRIGGER statement): insert adds, delete removes, an update of a tracked
    column removes the old row's share then adds the new one's."""
    triggers: list[tuple[str, str]] = []

    def trigger(name: str, event: str, when: str | None, *bodies: str) -> None:
        condition = f" WHEN {when}" if when else ""
        triggers.append((name, f"CREATE TRIGGER {name} AFTER {event} ON invoice{condition} BEGIN\n" + "\n".join(bodies) + "\nEND"))

    for name, tallies in TRIGGER_SETS.items():
        old, new = _condition(tallies, "OLD"), _condition(tallies, "NEW")
        add, remove = _body(tallies, "add", "sqlite"), _body(tallies, "remove", "sqlite")
        update = f"UPDATE OF {_tracked(tallies)}"
        trigger(f"{name}_after_insert", "INSERT", new, add)
        trigger(f"{name}_after_delete", "DELETE", old, remove)
        if old is None and new is None:
            trigger(f"{name}_after_update", update, None, remove, add)
        else:
            trigger(f"{name}_after_update_remove", update, old, remove)
            trigger(f"{name}_after_update_add", update, new, add)
    return triggers


def postgres_statements() -> list[str]:
    """Per trigger set one plpgsql function (remove the old row's share, add the new one's) and
    two triggers: after insert or delete, after an update of a tracked column."""
    statements = []
    for name, tallies in TRIGGER_SETS.items():
        old, new = _condition(tallies, "OLD"), _condition(tallies, "NEW")
        statements.append(f"""
CREATE FUNCTION {name}_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE'){f' AND {old}' if old else ''} THEN
{_body(tallies, "remove", "postgresql")}
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT'){f' AND {new}' if new else ''} THEN
{_body(tallies, "add", "postgresql")}
  END IF;
  RETURN NULL;
END $$
""")
        statements += [
            f"CREATE TRIGGER {name}_after_insert_delete AFTER INSERT OR DELETE ON invoice "
            f"FOR EACH ROW EXECUTE FUNCTION {name}_tally()",
            f"CREATE TRIGGER {name}_after_update AFTER UPDATE OF {_tracked(tallies)} ON invoice "
            f"FOR EACH ROW EXECUTE FUNCTION {name}_tally()",
        ]
    return statements


def backfill_statements(dialect: str) -> list[str]:
    """Each tally filled from the invoices already there."""
    statements = []
    for tally in (*RECEIVABLES, *SALES):
        key = [_expression(t, "invoice", dialect) for t in tally.key.values()]
        sums = [("count(*)" if t == "1" else f"sum({_expression(t, 'invoice', dialect)})") for t in tally.adds.values()]
        where = f" WHERE {tally.counted.format(row='invoice')}" if tally.counted else ""
        statements.append(f"INSERT INTO {tally.table} ({', '.join((*tally.key, *tally.adds))}) "
                          f"SELECT {', '.join(key + sums)} FROM invoice{where} "
                          f"GROUP BY {', '.join(k for k in key if not k.startswith(chr(39)))}")  # not the 'constant' ones
    return statements


def create_triggers(dialect: str) -> list[str]:
    return [statement for _, statement in sqlite_triggers()] if dialect == "sqlite" else postgres_statements()


def drop_triggers(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in sqlite_triggers()]
    return [f"DROP TRIGGER IF EXISTS {name}_after_{event} ON invoice" for name in TRIGGER_SETS
            for event in ("insert_delete", "update")] + [f"DROP FUNCTION IF EXISTS {name}_tally()" for name in TRIGGER_SETS]


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

    dialect = op.get_bind().dialect.name
    for statement in backfill_statements(dialect) + create_triggers(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_triggers(op.get_bind().dialect.name):
        op.execute(statement)
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
