"""The due table: ladder steps as rows, claimed in transactions so a step is sent once.

States: pending → sending (claimed_by, claimed_at) → sent → acknowledged, or cancelled / skipped.
On PostgreSQL, claims take rows with `FOR UPDATE SKIP LOCKED`, so several instances share the
table without waiting for or doubling each other; SQLite serialises writers by itself. Every other
bulk UPDATE locks the steps' invoices and then the steps, each in id order (`_locked_in_id_order`,
the order bot.store.row_locks sets), so two instances, or an instance and a command on one of the
invoices, wait for each other instead of deadlocking.

A claim stays its holder's while the holder's heartbeat (one `instance_heartbeat` row, renewed by
one small UPDATE per beat) is alive, however long the step takes to send; only a step whose
claimant stopped beating is taken over, once it was claimed more than a lease ago. An instance
that stops cleanly does not leave the others waiting: it deletes its heartbeat and hands its
unconfirmed claims back (`release`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.row_locks import lock_invoices_of_steps, locked_in_id_order
from bot.store.models import InstanceHeartbeat, Invoice, InvoiceStatus, LadderStep, StepKind, StepState
from scheduling import course
from scheduling.step_machine import CANCEL_CLAIMED, CANCEL_DUE, CLAIM, CONFIRM_SENT, HAND_BACK

STEPS = LadderStep.__table__  # type: ignore[attr-defined]
INVOICES = Invoice.__table__  # type: ignore[attr-defined]
HEARTBEATS = InstanceHeartbeat.__table__  # type: ignore[attr-defined]
FORGET_HEARTBEATS_AFTER = timedelta(days=1)
"""Heartbeats of instances gone this long are deleted when an instance starts beating."""
NOTIFY_CHANNEL = "collectbot_steps"


@dataclass(frozen=True)
class ClaimedStep:
    id: int
    invoice_id: int
    responsible_id: int | None
    due_at: datetime
    attempts: int

    @property
    def is_repeat(self) -> bool:
        """Claimed before by an instance that never confirmed delivery."""
        return self.attempts > 1


_CLAIMED_COLUMNS = (STEPS.c.id, STEPS.c.invoice_id, STEPS.c.responsible_id, STEPS.c.due_at, STEPS.c.attempts)


def _claimed(rows: Iterable[sa.Row[Any]]) -> list[ClaimedStep]:
    steps = [ClaimedStep(row.id, row.invoice_id, row.responsible_id, row.due_at, row.attempts) for row in rows]
    return sorted(steps, key=lambda step: (step.due_at, step.id))


def _locked_in_id_order(connection: Connection, *conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """The steps matching conditions, locked after their invoices, each in id order (bot.store.row_locks)."""
    lock_invoices_of_steps(connection, *conditions)
    return locked_in_id_order(connection, STEPS, *conditions)


def earliest_pending(connection: Connection) -> datetime | None:
    return connection.execute(
        sa.select(STEPS.c.due_at)
        .where(STEPS.c.state == StepState.PENDING.value)
        .order_by(STEPS.c.due_at)
        .limit(1)
    ).scalar_one_or_none()


def claim_due(engine: Engine, now: datetime, instance: str, limit: int = 1000) -> list[ClaimedStep]:
    """Move up to `limit` pending steps due by `now` to `sending`, owned by `instance`.

    The invoice is checked in the same transaction: only steps whose invoice is still open are
    claimed (while a dispute is open, only the step that brings the manager in), and due steps of
    invoices paid, cancelled or disputed meanwhile are cancelled instead of handed to a queue."""
    due = (
        sa.select(STEPS.c.id)
        .join(INVOICES, INVOICES.c.id == STEPS.c.invoice_id)
        .where(STEPS.c.state.in_(CLAIM.sources), STEPS.c.due_at <= now, _deliverable_now())
        .order_by(STEPS.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=STEPS)
    )
    claim = (
        sa.update(STEPS)
        .where(STEPS.c.id.in_(due.scalar_subquery()))
        .values(state=CLAIM.target, claimed_by=instance, claimed_at=now, attempts=STEPS.c.attempts + 1)
        .returning(*_CLAIMED_COLUMNS)
    )
    with engine.begin() as connection:
        claimed = _claimed(connection.execute(claim))
    if len(claimed) < limit:  # everything due is claimed: what is left belongs to closed invoices
        closed = sa.select(INVOICES.c.id).where(INVOICES.c.id == STEPS.c.invoice_id, sa.not_(_deliverable_now()))
        with engine.begin() as connection:  # apart from the claims: it waits for invoices, which nobody holding steps may
            connection.execute(
                sa.update(STEPS)
                .where(_locked_in_id_order(connection, STEPS.c.state.in_(CANCEL_DUE.sources), STEPS.c.due_at <= now, closed.exists()))
                .values(state=CANCEL_DUE.target)
            )
    return claimed


def _deliverable_now() -> sa.ColumnElement[bool]:
    """`deliverable` (below) as SQL, for a step joined with its invoice."""
    return sa.or_(
        INVOICES.c.status == InvoiceStatus.OPEN.value,
        sa.and_(INVOICES.c.status == InvoiceStatus.DISPUTED.value, STEPS.c.kind == StepKind.DISPUTE.value),
    )


def hand_back(engine: Engine, instance: str, due: dict[int, datetime]) -> None:
    """Claimed steps that are to wait after all: pending again, due at the given moments (the
    claim does not count as an attempt)."""
    by_moment: dict[datetime, list[int]] = {}
    for step_id, at in due.items():
        by_moment.setdefault(at, []).append(step_id)
    with engine.begin() as connection:
        lock_invoices_of_steps(connection, STEPS.c.id.in_(list(due)))
        for at, ids in by_moment.items():
            connection.execute(
                sa.update(STEPS)
                .where(_locked_in_id_order(connection, STEPS.c.id.in_(ids), STEPS.c.state.in_(HAND_BACK.sources),
                                           STEPS.c.claimed_by == instance))
                .values(state=HAND_BACK.target, due_at=at, claimed_by=None, claimed_at=None,
                        attempts=STEPS.c.attempts - 1)
            )


def beat(engine: Engine, instance: str, alive_until: datetime) -> None:
    """This instance is alive until `alive_until`: one small UPDATE of its own row (the first beat
    inserts the row, and forgets the heartbeats of instances long gone)."""
    with engine.begin() as connection:
        renewed = connection.execute(
            sa.update(HEARTBEATS).where(HEARTBEATS.c.instance == instance).values(alive_until=alive_until)
        ).rowcount
        if renewed:
            return
        connection.execute(sa.delete(HEARTBEATS).where(HEARTBEATS.c.alive_until < alive_until - FORGET_HEARTBEATS_AFTER))
        connection.execute(_upsert_heartbeat(connection, instance, alive_until))


def _upsert_heartbeat(connection: Connection, instance: str, alive_until: datetime) -> sa.Executable:
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(HEARTBEATS).values(instance=instance, alive_until=alive_until)
    return statement.on_conflict_do_update(index_elements=[HEARTBEATS.c.instance], set_={"alive_until": alive_until})


def alive_until(connection: Connection, instance: str) -> datetime | None:
    return connection.execute(
        sa.select(HEARTBEATS.c.alive_until).where(HEARTBEATS.c.instance == instance)
    ).scalar_one_or_none()


def release(engine: Engine, instance: str) -> int:
    """A clean stop: the instance's heartbeat row goes, and its claims still unconfirmed are
    pending again at once (the claim still counts as an attempt, so they go out marked as a
    repeat), for any other instance to send now instead of a lease later. Returns how many."""
    with engine.begin() as connection:
        released = connection.execute(
            sa.update(STEPS)
            .where(_locked_in_id_order(connection, STEPS.c.state.in_(HAND_BACK.sources), STEPS.c.claimed_by == instance))
            .values(state=HAND_BACK.target, claimed_by=None, claimed_at=None)
        ).rowcount
        connection.execute(sa.delete(HEARTBEATS).where(HEARTBEATS.c.instance == instance))
        if released and connection.dialect.name == "postgresql":
            connection.execute(sa.text(f"NOTIFY {NOTIFY_CHANNEL}"))
        return released


def _claimant_alive(now: datetime) -> sa.ColumnElement[bool]:
    return (
        sa.select(HEARTBEATS.c.instance)
        .where(HEARTBEATS.c.instance == STEPS.c.claimed_by, HEARTBEATS.c.alive_until >= now)
        .exists()
    )


def take_over_stale(engine: Engine, now: datetime, instance: str, lease: timedelta) -> list[ClaimedStep]:
    """Steps left in `sending` by an instance that stopped beating (it crashed): claimed more than a
    lease ago by an instance whose heartbeat has run out (or that never beat). A live instance
    keeps its claims however long they take to send, so they are never sent twice."""
    stale = (
        sa.select(STEPS.c.id)
        .where(STEPS.c.state == StepState.SENDING.value, STEPS.c.claimed_at < now - lease, sa.not_(_claimant_alive(now)))
        .order_by(STEPS.c.id)
        .with_for_update(skip_locked=True, of=STEPS)
    )
    claim = (
        sa.update(STEPS)
        .where(STEPS.c.id.in_(stale.scalar_subquery()))
        .values(claimed_by=instance, claimed_at=now, attempts=STEPS.c.attempts + 1)
        .returning(*_CLAIMED_COLUMNS)
    )
    with engine.begin() as connection:
        return _claimed(connection.execute(claim))


def still_deliverable(engine: Engine, step_ids: Sequence[int], instance: str) -> set[int]:
    """The re-check just before sending: the step is still ours and its invoice still open.

    Steps whose invoice was paid or cancelled meanwhile are cancelled here; while a dispute is open
    only the step that brings the manager in goes out.
    """
    with engine.begin() as connection:
        rows = connection.execute(
            sa.select(STEPS.c.id, STEPS.c.kind, INVOICES.c.status)
            .join(INVOICES, INVOICES.c.id == STEPS.c.invoice_id)
            .where(STEPS.c.id.in_(step_ids), STEPS.c.state == StepState.SENDING.value, STEPS.c.claimed_by == instance)
        ).all()
        closed = [row.id for row in rows if not deliverable(row.status, row.kind)]
        if closed:
            connection.execute(
                sa.update(STEPS).where(_locked_in_id_order(connection, STEPS.c.id.in_(closed), STEPS.c.state.in_(CANCEL_CLAIMED.sources)))
                .values(state=CANCEL_CLAIMED.target)
            )
    return {row.id for row in rows} - set(closed)


def deliverable(status: str, kind: str) -> bool:
    if status == InvoiceStatus.DISPUTED.value:
        return kind == StepKind.DISPUTE.value
    return status == InvoiceStatus.OPEN.value


def mark_sent(engine: Engine, step_ids: Sequence[int], at: datetime, instance: str | None = None) -> None:
    with engine.begin() as connection:
        mark_sent_in(connection, step_ids, at, instance)


def mark_sent_in(connection: Connection, step_ids: Sequence[int], at: datetime, instance: str | None = None) -> None:
    """Delivered; what that means for the invoices (a broken promise counted) is the course's rule.

    With `instance`, only steps that instance still holds are confirmed: a step another instance
    took over meanwhile is that one's to deliver and confirm, so it is never marked sent unseen."""
    mine = [STEPS.c.claimed_by == instance] if instance is not None else []
    connection.execute(
        sa.update(STEPS)
        .where(_locked_in_id_order(connection, STEPS.c.id.in_(step_ids), STEPS.c.state.in_(CONFIRM_SENT.sources), *mine))
        .values(state=CONFIRM_SENT.target, sent_at=at, first_sent_at=sa.func.coalesce(STEPS.c.first_sent_at, at))
    )
    course.steps_delivered(connection, step_ids)


def insert_steps(connection: Connection, rows: Sequence[dict[str, object]]) -> None:
    """Bulk insert (one statement for many rows); wakes other PostgreSQL instances on commit."""
    if not rows:
        return
    connection.execute(sa.insert(STEPS), list(rows))
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(f"NOTIFY {NOTIFY_CHANNEL}"))
