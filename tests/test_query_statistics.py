"""SQLite plans its queries from sampled statistics, so the checks around every ping look steps up
by id however many steps are being sent at once."""
from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from bot.floor.clock import MovableClock
from scheduling import due_table
from scheduling.scheduler import Scheduler
from tests.support import ChatDriver, invoice_with_steps, on_sqlite_only
from tests.test_delivery_faults import until
from tests.test_firing import NOON

STEPS = due_table.STEPS


def statements_of(engine: Engine, work: Any) -> list[tuple[str, Any]]:
    """The SQL statements `work()` runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def note(_connection: object, _cursor: object, statement: str, parameters: Any, *_rest: object) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    return seen


def statistics_sampled(engine: Engine) -> bool:
    with engine.connect() as connection:
        tables = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'").all()
        return bool(tables) and bool(connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'ladder_step'").scalar())


@on_sqlite_only  # PostgreSQL samples its own statistics (autovacuum)
async def test_a_started_scheduler_confirms_a_ping_by_its_steps_ids_not_by_walking_every_step_being_sent(
    team: ChatDriver, engine: Engine, scheduler: Scheduler, clock: MovableClock,
) -> None:
    """Bob's ping of ten steps goes out while 300 other steps are being sent. Once the scheduler
    has started, confirming his ping finds its ten steps by id; before, SQLite guessed from no
    statistics and walked every step in state 'sending' for each ping, before and after sending it."""
    clock.set(NOON)
    mine = invoice_with_steps(team, "INV-1", *[NOON] * 10)
    with engine.begin() as connection:
        template = dict(connection.execute(sa.select(STEPS).where(STEPS.c.id == mine[0])).mappings().one())
        del template["id"]
        connection.execute(sa.insert(STEPS), [{**template, "state": "sending", "claimed_by": "another"}] * 300)
        connection.execute(sa.update(STEPS).where(STEPS.c.id.in_(mine)).values(state="sending", claimed_by=scheduler.instance))
    running = asyncio.create_task(scheduler.run())
    try:
        await until(lambda: statistics_sampled(engine), 10, "the scheduler samples SQLite's statistics as it starts")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    confirming = [(sql, parameters) for sql, parameters in statements_of(
        engine, lambda: due_table.mark_sent(engine, mine, NOON, scheduler.instance)) if sql.startswith("UPDATE ladder_step")]
    assert confirming, "confirming the ping updates its steps"
    with engine.connect() as connection:
        for sql, parameters in confirming:
            plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters))
            assert "INTEGER PRIMARY KEY" in plan, plan
