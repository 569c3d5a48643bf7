"""Rows locked in one global order, so two transactions updating overlapping rows wait for each
other instead of deadlocking.

The order, everywhere (commands, the scheduler, every instance):

1. invoice rows first, in id order (`lock_invoices`, `invoices_held`, `lock_invoices_of_steps`);
2. then steps of those invoices, in id order (`locked_in_id_order`).

So a transaction holds a step only while it holds the step's invoice, and two transactions that
want the same steps meet at the invoice first, where one simply waits. (Claims are the exception:
they take steps with `SKIP LOCKED`, never wait, and so can close no circle.) Who takes them: a
command, the invoice it names, before it reads anything about it (`handlers.core`); the
scheduler's bulk changes of steps (`scheduling.due_table`), a promise holding a step back
(`course.held_by_promise`) and a ping refused for good (`scheduling.scheduler`); the follow-up
pass, invoice by invoice in id order (`scheduling.follow_ups`); a hand-over, all the leaving
person's invoices at once (`course.hand_over`).

Invoice rows are taken `FOR NO KEY UPDATE`, the lock an UPDATE of the row takes itself: inserting
a step, a payment or a history entry of the invoice (a foreign key's `KEY SHARE`) never waits for it.
On SQLite there are no row locks: one writer at a time (bot.store.sqlite_writer). There the lock
is the writer lock, taken at once by a write that changes nothing, so what the transaction reads
next is already what no other writer can change before it commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection

from bot.store.models import Invoice, LadderStep

INVOICES = Invoice.__table__  # type: ignore[attr-defined]
STEPS = LadderStep.__table__  # type: ignore[attr-defined]
Query = TypeVar("Query", bound=sa.Select[Any])


def locked_in_id_order(connection: Connection, table: sa.Table, *conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """`id IN (the rows of table matching conditions)`, those rows locked in id order first (on
    PostgreSQL `WITH locked AS (SELECT id … ORDER BY id FOR UPDATE)`). SQLite has one writer at a
    time anyway, and a statement that starts with WITH gets no row count from its driver: the
    conditions alone.

    An UPDATE locks rows in whatever order its plan visits them; two transactions updating
    overlapping rows in different orders would each wait for the other (a deadlock). In one global
    order, one of them simply waits."""
    if connection.dialect.name != "postgresql":
        return sa.and_(*conditions)
    locked = (
        sa.select(table.c.id).where(*conditions).order_by(table.c.id).with_for_update(of=table)
        .cte(f"locked_{table.name}")
    )
    return sa.and_(table.c.id.in_(sa.select(locked.c.id)), *conditions)


def lock_invoices(connection: Connection, ids: Iterable[int] | sa.Select[Any]) -> None:
    """Hold these invoice rows (ids, or a SELECT of ids) until the transaction ends, taken in id order."""
    chosen = ids if isinstance(ids, sa.Select) else sorted(set(ids))
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.select(INVOICES.c.id).where(INVOICES.c.id.in_(chosen)).order_by(INVOICES.c.id)
            .with_for_update(key_share=True, of=INVOICES)
        )
    else:
        _take_the_writers_turn(connection, INVOICES.c.id.in_(chosen))


def invoices_held(connection: Connection, query: Query, *conditions: sa.ColumnElement[bool]) -> Query:
    """`query`, a SELECT of the invoices matching conditions, made to hold the rows it finds until
    the transaction ends and to read them as they are once held: on PostgreSQL it reads them `FOR NO
    KEY UPDATE`; on SQLite the writer's turn is taken first, by a write of them that changes nothing."""
    if connection.dialect.name != "postgresql":
        _take_the_writers_turn(connection, *conditions)
        return query.execution_options(populate_existing=True)
    return query.with_for_update(key_share=True, of=INVOICES).execution_options(populate_existing=True)


def _take_the_writers_turn(connection: Connection, *conditions: sa.ColumnElement[bool]) -> None:
    """SQLite: a write of these invoices that changes nothing (their number: no foreign key or tally
    trigger reads it) takes the one writer's turn for the rest of the transaction."""
    connection.execute(sa.update(INVOICES).where(*conditions).values(number=INVOICES.c.number))


def lock_invoices_of_steps(connection: Connection, *conditions: sa.ColumnElement[bool]) -> None:
    """Hold the invoices of the steps matching conditions, before the steps are locked. On SQLite
    the writer lock the step change takes next is the same lock: nothing to do."""
    if connection.dialect.name == "postgresql":
        lock_invoices(connection, sa.select(STEPS.c.invoice_id).where(*conditions))
