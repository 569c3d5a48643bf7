"""People answering on the same invoice at the same moment, on two instances of one PostgreSQL
database (or two threads on SQLite): each command that changes the invoice's course holds the
invoice's row from its start, so the second one decides from what the first stored (two partial
payments that together cover the invoice close it), and the scheduler confirming a delivery locks
the invoice before its steps, as commands do, so the two wait for each other instead of
deadlocking (bot.store.row_locks)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.app.bootstrap import build_core, build_services
from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.store.database import create_database_engine
from bot.store.models import Invoice, InvoiceStatus, LadderStep, StepKind, StepState
from scheduling import due_table
from scheduling.ladder_keeper import LadderKeeper
from scheduling.step_machine import OPEN_STATES
from tests.support import ChatDriver, add_steps, backend_pid, on_postgresql_only, on_sqlite_only, states, waiting_behind
from tests.test_firing import NOON


@pytest.fixture
def other_instance(database_url: tuple[str, str | None], settings: Settings, clock: MovableClock) -> Iterator[ChatDriver]:
    """A second bot process on the same database: its own engine and connection pool."""
    url, schema = database_url
    engine = create_database_engine(url, schema=schema)
    yield ChatDriver(build_core(build_services(settings, clock=clock, engine=engine)))
    engine.dispose()


@pytest.fixture
def conflicts(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """What the core logged about conflicting writes it ran again (a deadlock would be one)."""
    caplog.set_level(logging.INFO, logger="handlers.core")
    return lambda: [record.getMessage() for record in caplog.records if "conflicting write" in record.getMessage()]


def invoice_id(engine: Engine, number: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(Invoice.id).where(Invoice.number == number)).one()
        assert found is not None
        return found


def in_background(work: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except Exception as error:  # noqa: BLE001 — the test reads it
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@on_postgresql_only  # SQLite has one writer at a time: a command takes it before it reads
def test_two_partial_payments_recorded_at_the_same_moment_on_two_instances_together_pay_the_invoice(
    team: ChatDriver, other_instance: ChatDriver, engine: Engine, conflicts: Callable[[], list[str]],
) -> None:
    """Bob records 600 on one instance while Alice records 400 on another, both while the invoice
    is busy (someone else's command holds it). Each sees the balance the other left: one reply is a
    partial payment, the other closes the invoice, and its ladder ends."""
    assert "Added invoice INV-80" in team.say("bob", "/add INV-80 1000 EUR 2026-12-01 Acme")
    assert open_steps(engine, "INV-80"), "its ladder is planned"
    with engine.connect() as busy, busy.begin():
        holder = backend_pid(busy)
        busy.execute(sa.select(due_table.INVOICES.c.id).where(due_table.INVOICES.c.id == invoice_id(engine, "INV-80"))
                     .with_for_update())
        bob, bob_says = in_background(lambda: team.say("bob", "/paid INV-80 600"))
        alice, alice_says = in_background(lambda: other_instance.say("alice", "/paid INV-80 400"))
        assert waiting_behind(engine, holder, 2), "both payments wait for the invoice before reading its balance"
    bob.join(timeout=20)
    alice.join(timeout=20)
    replies = [str(bob_says.get("result", bob_says)), str(alice_says.get("result", alice_says))]
    assert sum("Partial payment recorded on INV-80" in reply for reply in replies) == 1, replies
    assert sum("Invoice INV-80 is paid in full" in reply for reply in replies) == 1, replies
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == "INV-80")).one()
        assert (invoice.status, invoice.balance) == (InvoiceStatus.PAID, Decimal("0"))
    assert open_steps(engine, "INV-80") == [], "the ladder is cancelled"
    assert conflicts() == [], "neither command met a conflict (nor a deadlock) and ran again"


@on_sqlite_only
def test_on_sqlite_two_partial_payments_at_the_same_moment_are_taken_one_after_the_other_and_pay_the_invoice(
    team: ChatDriver, engine: Engine, conflicts: Callable[[], list[str]],
) -> None:
    """SQLite has no row locks: a command takes the one writer's turn before it reads the invoice,
    so the second payment, waiting behind the first, reads the balance the first left."""
    assert "Added invoice INV-82" in team.say("bob", "/add INV-82 1000 EUR 2026-12-01 Acme")
    with engine.begin() as busy:  # another command is writing
        busy.execute(sa.update(due_table.INVOICES).where(due_table.INVOICES.c.number == "INV-82").values(number="INV-82"))
        bob, bob_says = in_background(lambda: team.say("bob", "/paid INV-82 600"))
        alice, alice_says = in_background(lambda: team.say("alice", "/paid INV-82 400"))
        time.sleep(0.5)  # both have reached the writer's queue (were they to read first, they would read 1000 both)
    bob.join(timeout=20)
    alice.join(timeout=20)
    replies = [str(bob_says.get("result", bob_says)), str(alice_says.get("result", alice_says))]
    assert sum("Invoice INV-82 is paid in full" in reply for reply in replies) == 1, replies
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == "INV-82")).one()
        assert (invoice.status, invoice.balance) == (InvoiceStatus.PAID, Decimal("0"))
    assert open_steps(engine, "INV-82") == []
    assert conflicts() == []


@on_postgresql_only  # SQLite has one writer at a time: no row locks to order
def test_a_delivery_confirmed_while_the_invoice_is_paid_waits_for_the_payment_or_goes_first_never_deadlocks(
    team: ChatDriver, engine: Engine, clock: MovableClock, conflicts: Callable[[], list[str]],
) -> None:
    """The scheduler confirms a promise follow-up it delivered (a broken promise counted on the
    invoice) just as Bob records the payment. The confirmation locks the invoice before the step,
    as the command does: while it waits for the invoice it holds no step, so nothing waits in a
    circle; both finish, the follow-up counted once and answered by the payment."""
    team.core.services.invoice_hooks[:] = [hook for hook in team.core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]
    assert "Added invoice INV-81" in team.say("bob", "/add INV-81 100 EUR 2026-12-01 Acme")
    [step] = add_steps(engine, "INV-81", "bob", NOON)
    with engine.begin() as connection:
        connection.execute(sa.update(due_table.STEPS).where(due_table.STEPS.c.id == step).values(kind=StepKind.BROKEN_PROMISE.value))
    clock.set(NOON)
    assert [claim.id for claim in due_table.claim_due(engine, clock.now(), "instance-a")] == [step]

    def confirm() -> None:
        with engine.begin() as connection:
            due_table.mark_sent_in(connection, [step], clock.now(), "instance-a")

    with engine.connect() as busy, busy.begin():
        holder = backend_pid(busy)
        busy.execute(sa.select(due_table.INVOICES.c.id).where(due_table.INVOICES.c.id == invoice_id(engine, "INV-81"))
                     .with_for_update())
        confirmer, confirmed = in_background(confirm)
        assert waiting_behind(engine, holder, 1), "the confirmation waits for the invoice"
        with engine.begin() as probe:
            free = probe.execute(sa.select(due_table.STEPS.c.id).where(due_table.STEPS.c.id == step)
                                 .with_for_update(skip_locked=True)).all()
        assert free, "the confirmation holds the step while it waits for the invoice: a deadlock with a command"
        payer, paid = in_background(lambda: team.say("bob", "/paid INV-81"))
        assert waiting_behind(engine, holder, 2), f"the payment waits too (payer alive: {payer.is_alive()}, {paid})"
    confirmer.join(timeout=20)
    payer.join(timeout=20)
    assert "error" not in confirmed, confirmed
    assert "Invoice INV-81 is paid in full" in str(paid.get("result", paid))
    assert states(engine, [step]) == [StepState.ACKNOWLEDGED.value], "delivered first, then answered by the payment"
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == "INV-81")).one()
        assert (invoice.status, invoice.broken_promises) == (InvoiceStatus.PAID, 1)
    assert conflicts() == []


def open_steps(engine: Engine, number: str) -> list[LadderStep]:
    with Session(engine) as session:
        return list(session.exec(select(LadderStep).join(Invoice, col(Invoice.id) == LadderStep.invoice_id).where(
            Invoice.number == number, col(LadderStep.state).in_(OPEN_STATES))))
