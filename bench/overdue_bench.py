"""How fast /overdue, its chart and /list's first page answer with a big book, through the command core.

    .venv/bin/python -m bench.overdue_bench --invoices 100000 --database sqlite
    .venv/bin/python -m bench.overdue_bench --invoices 1000000 --database postgresql

The data set: 200 people (150 salespeople, 40 collectors, 10 managers), 5 currencies, one customer
per 50 invoices (each customer with one currency and one account owner), a quarter of the open
invoices overdue (1 to 180 days), 2% partly paid this month (rows in `payment`), 1% with a
promise, 0.5% disputed, 10,000 sent and unanswered ladder steps. It lives in its own SQLite file
(a temporary directory) or PostgreSQL schema, dropped at the end. Rows go straight to the driver
(SQLite's executemany, PostgreSQL's COPY). Up to 200,000 invoices are inserted with the tally
triggers on, so the load time shows their cost; bigger books are loaded with the triggers off and
the tallies filled by the migration's own backfill statements (the figures the commands read are
the same either way).

Each line prints the p50 next to its target, the extra memory, and the load average (1, 5 and
15 minutes) when it was taken: on a shared machine the figures are only as good as that load.

Memory is the growth of the process's peak resident set during the command (Linux
/proc/self/clear_refs resets the peak first).
"""
from __future__ import annotations

import argparse
import os
import importlib.util
import random
import statistics
import tempfile
import time
import uuid
from datetime import date, datetime, time as clock_time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.app.bootstrap import build_core, build_services
from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.platforms.console.chat import console_sender
from bot.store.database import create_database_engine
from bot.store.models import Customer, LadderStep, Person, Role, Team
from handlers.core import Core

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CURRENCIES = ("EUR", "NOK", "USD", "GBP", "SEK")
TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
CHUNK = 20_000


def rss_peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def build_people(engine: sa.Engine) -> tuple[int, list[int], list[int], int]:
    created = NOW.astimezone(timezone.utc)
    with engine.begin() as connection:
        team_id = connection.execute(sa.insert(Team.__table__).returning(Team.__table__.c.id), [dict(  # type: ignore[attr-defined]
            name="Bench AS", default_currency="NOK", default_timezone="Europe/Oslo", default_country="NO",
            default_language="en", default_ladder="standard", created_at=created)]).scalar_one()
        roles = [Role.SALESPERSON] * 150 + [Role.COLLECTOR] * 40 + [Role.MANAGER] * 10
        rows = [dict(team_id=team_id, handle=f"p{n:03d}", display_name=f"Person {n}", role=role.value,
                     is_admin=n == 199, timezone="Europe/Oslo", language="en", work_start=clock_time(9),
                     work_end=clock_time(17), workdays="0,1,2,3,4", active=True, created_at=created)
                for n, role in enumerate(roles)]
        connection.execute(sa.insert(Person.__table__), rows)  # type: ignore[attr-defined]
        ids = dict(connection.execute(sa.select(Person.__table__.c.handle, Person.__table__.c.id)).all())  # type: ignore[attr-defined]
    salespeople = [ids[f"p{n:03d}"] for n in range(150)]
    collectors = [ids[f"p{n:03d}"] for n in range(150, 190)]
    return team_id, salespeople, collectors, ids["p199"]


def tally_migration() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bot" / "store" / "migrations" / "versions" / "0009_receivable_tallies.py"
    spec = importlib.util.spec_from_file_location("tally_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def triggers_off(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for statement in tally_migration().drop_triggers("sqlite"):
                connection.execute(sa.text(statement))
        else:
            connection.execute(sa.text("ALTER TABLE invoice DISABLE TRIGGER USER"))


def backfill_and_triggers_on(engine: sa.Engine) -> None:
    """The tallies filled by the migration's own backfill, then its triggers back on."""
    migration = tally_migration()
    dialect = engine.dialect.name
    with engine.begin() as connection:
        for table in ("receivable_day", "receivable_month", "sales_month"):
            connection.execute(sa.text(f"DELETE FROM {table}"))
        for statement in migration.backfill_statements(dialect):
            connection.execute(sa.text(statement))
        if dialect == "sqlite":
            for statement in migration.create_triggers(dialect):
                connection.execute(sa.text(statement))
        else:
            connection.execute(sa.text("ALTER TABLE invoice ENABLE TRIGGER USER"))


INVOICE_COLUMNS = ("id", "team_id", "number", "customer_id", "amount", "balance", "currency", "issue_date", "due_date",
                   "owner_id", "collector_id", "ladder", "status", "created_at", "promised_date", "broken_promises",
                   "dispute_reason")
PAYMENT_COLUMNS = ("invoice_id", "amount", "recorded_at")


def bulk_insert(engine: sa.Engine, table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    """Rows of plain values (amounts already in ten-thousandths, times naive UTC) straight to the
    driver: SQLite's executemany, PostgreSQL's COPY. Row triggers fire either way."""
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        if engine.dialect.name == "sqlite":
            def plain(value: object) -> object:
                if isinstance(value, datetime):
                    return value.strftime("%Y-%m-%d %H:%M:%S.%f")
                return value.isoformat() if isinstance(value, date) else value
            raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            [tuple(plain(v) for v in row) for row in rows])
        else:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def cents(amount: Decimal) -> int:
    return int(amount * 10000)


def build_book(engine: sa.Engine, invoices: int, seed: int = 7, bulk: bool | None = None) -> dict[str, float]:
    rng = random.Random(seed)
    team_id, salespeople, collectors, _ = build_people(engine)
    created = NOW.astimezone(timezone.utc)
    naive = created.replace(tzinfo=None)
    customers = max(invoices // 50, 10)
    started = time.perf_counter()
    with engine.begin() as connection:
        for start in range(0, customers, CHUNK):
            connection.execute(sa.insert(Customer.__table__), [dict(  # type: ignore[attr-defined]
                team_id=team_id, name=f"Customer {n} AS", name_key=f"customer {n} as", country="NO", created_at=created)
                for n in range(start, min(customers, start + CHUNK))])
        first_customer = connection.execute(sa.select(sa.func.min(Customer.__table__.c.id))).scalar_one()  # type: ignore[attr-defined]
    collector_of = {owner: rng.choice(collectors) if rng.random() < 0.7 else None for owner in salespeople}
    bulk = invoices > 200_000 if bulk is None else bulk
    if bulk:
        triggers_off(engine)
    payments: list[tuple[object, ...]] = []
    for start in range(0, invoices, CHUNK * 5):
        rows: list[tuple[object, ...]] = []
        for n in range(start, min(invoices, start + CHUNK * 5)):
            overdue = rng.random() < 0.25
            due = TODAY - timedelta(days=rng.randint(1, 180)) if overdue else TODAY + timedelta(days=rng.randint(0, 90))
            amount = Decimal(rng.randint(5_000, 5_000_000)) / 100
            balance = amount
            if n % 50 == 0:  # 2% partly paid this month
                part = (amount / 4).quantize(Decimal("0.01"))
                balance -= part
                payments.append((n + 1, cents(part), naive - timedelta(days=rng.randint(0, 25), minutes=rng.randint(0, 600))))
            customer = rng.randrange(customers)
            owner = salespeople[customer % len(salespeople)]
            roll = rng.random()
            rows.append((
                n + 1, team_id, f"B-{n:07d}", first_customer + customer, cents(amount), cents(balance),
                CURRENCIES[customer % len(CURRENCIES)], due - timedelta(days=30), due, owner, collector_of[owner],
                "standard", "disputed" if roll < 0.005 else "open", naive - timedelta(days=rng.randint(30, 200)),
                TODAY + timedelta(days=rng.randint(-10, 10)) if 0.005 <= roll < 0.015 else None, 0,
                "goods damaged" if roll < 0.005 else None,
            ))
        bulk_insert(engine, "invoice", INVOICE_COLUMNS, rows)
    if bulk:
        backfill_and_triggers_on(engine)
    loaded = time.perf_counter() - started
    bulk_insert(engine, "payment", PAYMENT_COLUMNS, payments)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('invoice', 'id'), max(id)) FROM invoice"))
        steps = [dict(invoice_id=payments[n % len(payments)][0], position=2, name="Due date call", action="call",
                      responsible_role="collector", responsible_id=rng.choice(collectors), stage="due_today",
                      tone="neutral", instruction="", ack_within_seconds=14400,
                      due_at=created - timedelta(days=rng.randint(1, 20)), state="sent", attempts=1, kind="ladder",
                      nudges=0, retries=0, sent_at=created - timedelta(days=1)) for n in range(10_000)]
        connection.execute(sa.insert(LadderStep.__table__), steps)  # type: ignore[attr-defined]
    return {"load_s": loaded, "per_invoice_us": loaded / invoices * 1e6, "bulk": bulk}


def measure(core: Core, who: str, text: str, rounds: int) -> tuple[list[float], list[float], float, str]:
    """Wall times, this process's CPU times (ms), extra memory (MB) and the reply's title. On
    SQLite the CPU time is the command's whole cost, whatever else the machine is doing; on
    PostgreSQL the server's share is not in it."""
    sender = console_sender(who)
    started = time.perf_counter()
    core.handle_text(sender, text)  # warm caches and imports
    if "chart" in text:
        print(f"  {'first chart (imports matplotlib)':<28} {(time.perf_counter() - started) * 1000:8.1f} ms")
    timings, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        reply = core.handle_text(sender, text)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    before = rss_kb()
    reset_peak()
    core.handle_text(sender, text)
    extra_mb = (rss_peak_kb() - before) / 1024
    return timings, cpu, extra_mb, reply.title or ""


TARGETS = {"/overdue": (300.0, 50.0), "chart": (1500.0, None), "/list": (50.0, None)}
"""Issue 15's targets: milliseconds (p50) and extra megabytes."""


def target_of(text: str) -> tuple[float, float | None]:
    if "chart" in text:
        return TARGETS["chart"]
    return TARGETS["/list"] if text.startswith("/list") else TARGETS["/overdue"]


def report(label: str, text: str, timings: list[float], cpu: list[float], extra_mb: float, title: str) -> None:
    target_ms, target_mb = target_of(text)
    p50 = statistics.median(timings)
    verdict = "ok" if p50 <= target_ms and (target_mb is None or extra_mb <= target_mb) else "MISSED"
    memory = f"≤ {target_mb:.0f} MB" if target_mb is not None else "—"
    print(f"  {label:<28} p50 {p50:8.1f} ms  max {max(timings):8.1f} ms  CPU p50 {statistics.median(cpu):7.1f} ms  "
          f"(target ≤ {target_ms:.0f} ms)   extra memory {extra_mb:6.1f} MB (target {memory})   {verdict:<6}  "
          f"load {load_text()}   ({title[:50]})")


def load_text() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    workdir = tempfile.TemporaryDirectory(prefix="overdue-bench-")
    schema = None
    if args.database == "sqlite":
        url = f"sqlite:///{Path(workdir.name) / 'bench.db'}"
    else:
        url, schema = POSTGRES_URL, f"bench_overdue_{uuid.uuid4().hex[:8]}"
        admin = create_database_engine(url)
        with admin.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = create_database_engine(url, schema=schema)
    try:
        settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
        core = build_core(build_services(settings, clock=MovableClock(NOW), engine=engine))
        print(f"{args.database}, {args.invoices:,} open invoices (about {args.invoices // 4:,} overdue), 200 people, "
              f"5 currencies; {os.cpu_count()} cores, load average (1/5/15 min) {load_text()} at the start")
        load = build_book(engine, args.invoices)
        how = "bulk, tallies backfilled" if load["bulk"] else "with tally triggers"
        print(f"  load ({how})  {load['load_s']:.1f} s ({load['per_invoice_us']:.0f} µs per invoice)")
        # what autovacuum does in a live database: statistics, and PostgreSQL's visibility map
        # (index-only scans need it)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE" if args.database == "postgresql" else "ANALYZE"))
        for label, who, text, rounds in [
            ("/overdue (manager)", "p199", "/overdue", args.rounds),
            ("/overdue (salesperson)", "p000", "/overdue", args.rounds),
            ("/overdue bucket=61-90", "p199", "/overdue bucket=61-90", args.rounds),
            ("/overdue chart", "p199", "/overdue chart", 3),
            ("/list first page (manager)", "p199", "/list", args.rounds),
            ("/list first page (sales)", "p000", "/list", args.rounds),
        ]:
            report(label, text, *measure(core, who, text, rounds))
    finally:
        engine.dispose()
        if schema:
            with admin.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        workdir.cleanup()


if __name__ == "__main__":
    main()
