"""How fast /overdue, its chart and /list's first page answer with a big book, through the command core.

    .venv/bin/python -m bench.overdue_bench --invoices 100000 --database sqlite
    .venv/bin/python -m bench.overdue_bench --invoices 1000000 --database postgresql

The data set: 200 people (150 salespeople, 40 collectors, 10 managers), 5 currencies, one customer
per 50 invoices (each customer with one currency and one account owner), a quarter of the open invoices overdue (1 to 180 days), 2% with a payment this
month, 1% with a promise, 0.5% disputed, 10,000 sent and unanswered ladder steps. It lives in its
own SQLite file (a temporary directory) or PostgreSQL schema, dropped at the end. Up to 200,000
invoices are inserted with the tally triggers on, so the load time shows their cost; bigger books
are loaded with the triggers off and the tallies filled by the migration's own backfill
statements (the figures the commands read are the same either way).

Memory is the growth of the process's peak resident set during the command (Linux
/proc/self/clear_refs resets the peak first).
"""
from __future__ import annotations

import argparse
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
from bot.store.models import Customer, Event, Invoice, LadderStep, Person, Role, Team
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
            for name in tally_migration().SQLITE_TRIGGER_NAMES:
                connection.execute(sa.text(f"DROP TRIGGER {name}"))
        else:
            connection.execute(sa.text("ALTER TABLE invoice DISABLE TRIGGER USER"))


def backfill_and_triggers_on(engine: sa.Engine) -> None:
    migration = tally_migration()
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        for table in ("receivable_day", "receivable_month", "sales_month"):
            connection.execute(sa.text(f"DELETE FROM {table}"))
        connection.execute(sa.text(migration.BACKFILL_DAY))
        month = "date(due_date, 'start of month')" if sqlite else "date_trunc('month', due_date)::date"
        for statement in migration.backfill_month(month).split(";\n"):
            connection.execute(sa.text(statement))
        connection.execute(sa.text(migration.backfill_sales(
            "date(coalesce(issue_date, created_at), 'start of month')" if sqlite
            else "date_trunc('month', coalesce(issue_date::timestamp, created_at))::date")))
        if sqlite:
            for statement in migration.SQLITE_TRIGGERS:
                connection.execute(sa.text(statement))
        else:
            connection.execute(sa.text("ALTER TABLE invoice ENABLE TRIGGER USER"))


def build_book(engine: sa.Engine, invoices: int, seed: int = 7, bulk: bool | None = None) -> dict[str, float]:
    rng = random.Random(seed)
    team_id, salespeople, collectors, _ = build_people(engine)
    created = NOW.astimezone(timezone.utc)
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
    for start in range(0, invoices, CHUNK):
        rows = []
        for n in range(start, min(invoices, start + CHUNK)):
            overdue = rng.random() < 0.25
            due = TODAY - timedelta(days=rng.randint(1, 180)) if overdue else TODAY + timedelta(days=rng.randint(0, 90))
            amount = Decimal(rng.randint(5_000, 5_000_000)) / 100
            customer = rng.randrange(customers)
            owner = salespeople[customer % len(salespeople)]
            roll = rng.random()
            rows.append(dict(
                team_id=team_id, number=f"B-{n:07d}", customer_id=first_customer + customer,
                amount=amount, balance=amount, currency=CURRENCIES[customer % len(CURRENCIES)],
                issue_date=due - timedelta(days=30),
                due_date=due, owner_id=owner, collector_id=collector_of[owner], ladder="standard",
                status="disputed" if roll < 0.005 else "open", created_at=created - timedelta(days=rng.randint(30, 200)),
                promised_date=TODAY + timedelta(days=rng.randint(-10, 10)) if 0.005 <= roll < 0.015 else None,
                broken_promises=0, dispute_reason="goods damaged" if roll < 0.005 else None,
            ))
        with engine.begin() as connection:
            connection.execute(sa.insert(Invoice), rows)
    if bulk:
        backfill_and_triggers_on(engine)
    loaded = time.perf_counter() - started
    with engine.begin() as connection:
        paid = connection.execute(sa.select(Invoice.id, Invoice.balance).where(  # type: ignore[call-overload]
            Invoice.team_id == team_id, Invoice.id % 50 == 0)).all()
        events, steps = [], []
        for invoice_id, balance in paid:
            part = (balance / 4).quantize(Decimal("0.01"))
            connection.execute(sa.update(Invoice).where(Invoice.id == invoice_id).values(balance=balance - part))  # type: ignore[arg-type]
            events.append(dict(team_id=team_id, invoice_id=invoice_id, kind="partial_payment", summary="partial payment",
                               details={"amount": str(part)}, at=created - timedelta(days=rng.randint(0, 25))))
        connection.execute(sa.insert(Event.__table__), events)  # type: ignore[attr-defined]
        for n in range(10_000):
            steps.append(dict(invoice_id=paid[n % len(paid)][0], position=2, name="Due date call", action="call",
                              responsible_role="collector", responsible_id=rng.choice(collectors), stage="due_today",
                              tone="neutral", instruction="", ack_within_seconds=14400,
                              due_at=created - timedelta(days=rng.randint(1, 20)), state="sent", attempts=1, kind="ladder",
                              nudges=0, retries=0, sent_at=created - timedelta(days=1)))
        connection.execute(sa.insert(LadderStep.__table__), steps)  # type: ignore[attr-defined]
    return {"load_s": loaded, "per_invoice_us": loaded / invoices * 1e6, "bulk": bulk}


def measure(core: Core, who: str, text: str, rounds: int) -> tuple[list[float], float, str]:
    sender = console_sender(who)
    core.handle_text(sender, text)  # warm caches and imports
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        reply = core.handle_text(sender, text)
        timings.append((time.perf_counter() - started) * 1000)
    before = rss_kb()
    reset_peak()
    core.handle_text(sender, text)
    extra_mb = (rss_peak_kb() - before) / 1024
    return timings, extra_mb, reply.title or ""


def report(label: str, timings: list[float], extra_mb: float, title: str) -> None:
    print(f"  {label:<28} p50 {statistics.median(timings):8.1f} ms   max {max(timings):8.1f} ms   "
          f"extra memory {extra_mb:6.1f} MB   ({title[:60]})")


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
        print(f"{args.database}, {args.invoices:,} open invoices ({args.invoices // 4:,} overdue), 200 people, 5 currencies")
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
            report(label, *measure(core, who, text, rounds))
    finally:
        engine.dispose()
        if schema:
            with admin.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        workdir.cleanup()


if __name__ == "__main__":
    main()
