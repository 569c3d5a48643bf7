"""/overdue's last scans: money collected is tallied, promises are counted from an index.

`collected_slot` holds the payments that stand (not undone) per team, currency and quarter hour
of `recorded_at` (UTC), kept by triggers on `payment` (and on `invoice`, should an invoice move
to another currency or team) in the same transaction, on SQLite and PostgreSQL alike. Every
time zone's midnight falls on a quarter hour, so "collected this week/month" in any zone is a sum
over a few hundred rows. An index on payment.recorded_at serves the narrowed summaries
(@person, customer text), and one on (team, status, promise date) counts promises.

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOT = {
    # stored as SQLAlchemy's text 'YYYY-MM-DD HH:MM:SS.ffffff': the minutes rounded down to 0, 15, 30
    # or 45 (char(58) is the colon: a literal one would read as a bind parameter in sa.text)
    "sqlite": "(substr({t}, 1, 14) || printf('%02d', CAST(substr({t}, 15, 2) AS INTEGER) / 15 * 15) || char(58) "
              "|| '00.000000')",
    "postgresql": "(date_trunc('hour', {t}) + floor(extract(minute FROM {t}) / 15)::integer * interval '15 minutes')",
}
STANDS = "{row}.undone_at IS NULL"
TRACKED = "invoice_id, amount, recorded_at, undone_at"


def _add(dialect: str, row: str) -> str:
    """The payment `row` (NEW, or a table alias) counted in its invoice's team and currency."""
    return (f"INSERT INTO collected_slot (team_id, currency, slot, payments, amount) "
            f"SELECT invoice.team_id, invoice.currency, {SLOT[dialect].format(t=row + '.recorded_at')}, 1, {row}.amount "
            f"FROM invoice WHERE invoice.id = {row}.invoice_id "
            f"ON CONFLICT (team_id, currency, slot) DO UPDATE SET payments = collected_slot.payments + excluded.payments, "
            f"amount = collected_slot.amount + excluded.amount;")


def _remove(dialect: str, team: str, currency: str, row: str) -> str:
    where = f"team_id = {team} AND currency = {currency} AND slot = {SLOT[dialect].format(t=row + '.recorded_at')}"
    return (f"UPDATE collected_slot SET payments = payments - 1, amount = amount - {row}.amount WHERE {where};\n"
            f"DELETE FROM collected_slot WHERE {where} AND payments = 0;")


def _remove_old(dialect: str) -> str:
    return _remove(dialect, "(SELECT team_id FROM invoice WHERE id = OLD.invoice_id)",
                   "(SELECT currency FROM invoice WHERE id = OLD.invoice_id)", "OLD")


def _moved_invoice(dialect: str) -> tuple[str, str]:
    """An invoice that changes team or currency takes its standing payments along: (remove, add)."""
    slot = SLOT[dialect].format(t="payment.recorded_at")
    remove = (f"UPDATE collected_slot SET "
              f"payments = payments - (SELECT count(*) FROM payment WHERE payment.invoice_id = OLD.id "
              f"AND payment.undone_at IS NULL AND {slot} = collected_slot.slot), "
              f"amount = amount - (SELECT coalesce(sum(payment.amount), 0) FROM payment WHERE payment.invoice_id = OLD.id "
              f"AND payment.undone_at IS NULL AND {slot} = collected_slot.slot) "
              f"WHERE team_id = OLD.team_id AND currency = OLD.currency;\n"
              f"DELETE FROM collected_slot WHERE team_id = OLD.team_id AND currency = OLD.currency AND payments = 0;")
    add = (f"INSERT INTO collected_slot (team_id, currency, slot, payments, amount) "
           f"SELECT NEW.team_id, NEW.currency, {slot}, count(*), sum(payment.amount) FROM payment "
           f"WHERE payment.invoice_id = NEW.id AND payment.undone_at IS NULL GROUP BY {slot} "
           f"ON CONFLICT (team_id, currency, slot) DO UPDATE SET payments = collected_slot.payments + excluded.payments, "
           f"amount = collected_slot.amount + excluded.amount;")
    return remove, add


def create_triggers(dialect: str) -> list[str]:
    old, new = STANDS.format(row="OLD"), STANDS.format(row="NEW")
    moved_remove, moved_add = _moved_invoice(dialect)
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER collected_after_insert AFTER INSERT ON payment WHEN {new} BEGIN\n{_add(dialect, 'NEW')}\nEND",
            f"CREATE TRIGGER collected_after_delete AFTER DELETE ON payment WHEN {old} BEGIN\n{_remove_old(dialect)}\nEND",
            f"CREATE TRIGGER collected_after_update_remove AFTER UPDATE OF {TRACKED} ON payment WHEN {old} BEGIN\n"
            f"{_remove_old(dialect)}\nEND",
            f"CREATE TRIGGER collected_after_update_add AFTER UPDATE OF {TRACKED} ON payment WHEN {new} BEGIN\n"
            f"{_add(dialect, 'NEW')}\nEND",
            "CREATE TRIGGER collected_after_invoice_moved AFTER UPDATE OF team_id, currency ON invoice "
            f"WHEN OLD.team_id IS NOT NEW.team_id OR OLD.currency IS NOT NEW.currency BEGIN\n{moved_remove}\n{moved_add}\nEND",
        ]
    return [
        f"""CREATE FUNCTION collected_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND {old} THEN
{_remove_old(dialect)}
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND {new} THEN
{_add(dialect, 'NEW')}
  END IF;
  RETURN NULL;
END $$""",
        f"""CREATE FUNCTION collected_invoice_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.currency IS DISTINCT FROM NEW.currency THEN
{moved_remove}
{moved_add}
  END IF;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER collected_after_insert_delete AFTER INSERT OR DELETE ON payment "
        "FOR EACH ROW EXECUTE FUNCTION collected_tally()",
        f"CREATE TRIGGER collected_after_update AFTER UPDATE OF {TRACKED} ON payment FOR EACH ROW EXECUTE FUNCTION collected_tally()",
        "CREATE TRIGGER collected_after_invoice_moved AFTER UPDATE OF team_id, currency ON invoice "
        "FOR EACH ROW EXECUTE FUNCTION collected_invoice_moved()",
    ]


def drop_triggers(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS collected_after_{name}"
                for name in ("insert", "delete", "update_remove", "update_add", "invoice_moved")]
    return ["DROP TRIGGER IF EXISTS collected_after_insert_delete ON payment",
            "DROP TRIGGER IF EXISTS collected_after_update ON payment",
            "DROP TRIGGER IF EXISTS collected_after_invoice_moved ON invoice",
            "DROP FUNCTION IF EXISTS collected_tally()", "DROP FUNCTION IF EXISTS collected_invoice_moved()"]


def backfill_statements(dialect: str) -> list[str]:
    slot = SLOT[dialect].format(t="payment.recorded_at")
    return [f"INSERT INTO collected_slot (team_id, currency, slot, payments, amount) "
            f"SELECT invoice.team_id, invoice.currency, {slot}, count(*), sum(payment.amount) "
            f"FROM payment JOIN invoice ON invoice.id = payment.invoice_id WHERE payment.undone_at IS NULL "
            f"GROUP BY invoice.team_id, invoice.currency, {slot}"]


def upgrade() -> None:
    op.create_table('collected_slot',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('slot', sa.DateTime(), nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'currency', 'slot'),
    sqlite_with_rowid=False,
    )
    op.create_index('ix_payment_recorded_at', 'payment', ['recorded_at', 'undone_at', 'invoice_id', 'amount'], unique=False)
    op.create_index('ix_invoice_team_status_promised', 'invoice', ['team_id', 'status', 'promised_date'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in backfill_statements(dialect) + create_triggers(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index('ix_invoice_team_status_promised', table_name='invoice')
    op.drop_index('ix_payment_recorded_at', table_name='payment')
    op.drop_table('collected_slot')
