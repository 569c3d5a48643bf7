"""Rows locked in one global order, so two transactions updating overlapping rows wait for each
other instead of deadlocking."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection


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
