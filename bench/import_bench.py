"""Bulk import benchmark (issue 7): 50,000 CSV rows on SQLite, dry run and commit (ladders
planned), through the same code as /import and `collectbot import`.

    .venv/bin/python -m bench.import_bench [rows]
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from bot.app.bootstrap import build_core, build_services
from bot.floor.config import Settings
from bot.platforms.console.chat import console_sender
from bot.store.models import Invoice, LadderStep
from handlers.grammar import IncomingFile
from handlers.importing import check_file, store

OWNERS = [f"sales{n}" for n in range(10)]


def make_csv(rows: int) -> bytes:
    rng = random.Random(7)
    lines = ["number;customer;amount;currency;issue date;due date;owner;collector;customer country;ladder"]
    start = date(2026, 11, 1)
    for n in range(rows):
        due = start + timedelta(days=rng.randint(0, 120))
        lines.append(";".join([
            f"B-{n:06d}", f"Customer {rng.randint(1, 2000)} AS", f"{rng.randint(100, 99999)}.{rng.randint(0, 99):02d}", "NOK",
            (due - timedelta(days=30)).isoformat(), due.isoformat(), rng.choice(OWNERS), "", "NO", "standard",
        ]))
    return ("\n".join(lines) + "\n").encode()


def main(rows: int = 50_000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{Path(folder) / 'bench.db'}")  # type: ignore[call-arg]
        core = build_core(build_services(settings))
        admin = console_sender("admin")
        core.handle_text(admin, "/start")
        for owner in OWNERS:
            core.handle_text(admin, f"/team add @{owner} salesperson")
        upload = IncomingFile("invoices.csv", make_csv(rows), "text/csv")

        started = time.perf_counter()
        checked = core.within(admin, lambda ctx: check_file(ctx, upload))
        dry = time.perf_counter() - started
        started = time.perf_counter()
        stored = core.within(admin, lambda ctx: store(ctx, check_file(ctx, upload)))
        commit = time.perf_counter() - started
        started = time.perf_counter()
        again = core.within(admin, lambda ctx: check_file(ctx, upload))
        rerun = time.perf_counter() - started
        with Session(core.services.engine) as session:
            invoices = session.scalar(select(func.count()).select_from(Invoice))
            steps = session.scalar(select(func.count()).select_from(LadderStep))
    print(f"import: {rows:,} CSV rows on SQLite")
    print(f"  dry run: {dry:.1f} s ({rows / dry:,.0f} rows/s), {len(checked.new):,} ready, {len(checked.errors)} with problems")
    print(f"  commit (check again + store + plan ladders): {commit:.1f} s ({rows / commit:,.0f} rows/s); "
          f"{stored:,} invoices, {steps:,} ladder steps stored (invoices in database: {invoices:,})")
    print(f"  re-import of the same file: {rerun:.1f} s, {len(again.new)} new, {again.unchanged:,} unchanged")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
