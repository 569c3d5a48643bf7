"""Several instances share the due table: a claimed step stays its instance's while that instance's
heartbeat beats — however long the step takes to go out — so nothing is sent twice under load; a
killed instance's steps are taken over once its heartbeat runs out, and go out marked as a repeat.
Bulk confirmations lock their steps in id order, so two instances never deadlock."""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from bot.floor.clock import MovableClock, SystemClock
from bot.floor.reply import Reply
from bot.store.models import StepKind
from handlers.core import Core
from scheduling import due_table
from scheduling.ladder_keeper import LadderKeeper
from scheduling.scheduler import HEARTBEAT
from tests.support import ChatDriver, RecordingNotifier, add_steps, backend_pid, on_postgresql_only, states, waiting_behind
from tests.test_delivery_faults import until
from tests.test_firing import NOON, scheduler_for

LEASE = timedelta(minutes=2)
REPEAT = "Repeat: delivery of this reminder was not confirmed"


@pytest.fixture(autouse=True)
def hand_placed_steps_only(core: Core) -> None:
    core.services.invoice_hooks[:] = [hook for hook in core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]


async def test_an_instance_whose_claim_outlasts_the_lease_keeps_it_while_it_beats_and_nothing_is_resent(
    team: ChatDriver, engine: Engine, clock: MovableClock,
) -> None:
    """Under load the busy instance's sends (and on main: its renewal of every claimed row) lag
    behind; its one-row heartbeat, late by less than a lease, still keeps the claim its own."""
    team.say("bob", "/add INV-70 100 EUR 2026-12-01 Acme")
    [step] = add_steps(engine, "INV-70", "bob", NOON)
    busy, other = RecordingNotifier(), RecordingNotifier()
    a = scheduler_for(engine, clock, busy, instance="instance-a", lease=LEASE)
    b = scheduler_for(engine, clock, other, instance="instance-b", lease=LEASE)
    clock.set(NOON)
    await a.beat()
    assert await a.fire_due() == 1, "claimed by A, not yet sent (A is busy)"
    clock.advance(timedelta(seconds=90))
    await a.beat()  # a beat stalled by 90 s, shorter than the lease
    clock.advance(timedelta(seconds=90))  # A claimed the step three minutes ago: longer than a lease
    assert await b.recover() == 0, "A is alive: its claim is not taken over"
    await a.flush()
    await b.flush()
    assert len(busy.texts()) == 1 and REPEAT not in busy.texts()[0]
    assert other.sent == [], "nothing re-sent by B"
    assert states(engine, [step]) == ["sent"]


async def test_a_killed_instances_claims_are_taken_over_once_its_heartbeat_runs_out_and_go_out_marked_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock,
) -> None:
    team.say("bob", "/add INV-71 100 EUR 2026-12-01 Acme")
    steps = add_steps(engine, "INV-71", "bob", NOON, NOON + timedelta(seconds=1))
    killed, survivor_platform = RecordingNotifier(), RecordingNotifier()
    dead = scheduler_for(engine, clock, killed, instance="killed", lease=LEASE)
    survivor = scheduler_for(engine, clock, survivor_platform, instance="survivor", lease=LEASE)
    clock.set(NOON + timedelta(seconds=1))
    await dead.beat()
    assert await dead.fire_due() == 2  # ... and then it is SIGKILLed: no more beats, nothing sent
    clock.advance(LEASE - timedelta(seconds=1))
    await survivor.beat()
    assert await survivor.recover() == 0, "the killed instance's heartbeat has not run out yet"
    clock.advance(timedelta(seconds=2))
    await survivor.beat()
    assert await survivor.recover() == 2
    await survivor.flush()
    assert survivor_platform.texts() and all(REPEAT in text for text in survivor_platform.texts()), "re-sent, marked"
    assert states(engine, steps) == ["sent", "sent"]
    due_table.mark_sent(engine, steps, clock.now(), "killed")  # a late confirmation from the dead instance changes nothing
    assert await survivor.recover() == 0, "the survivor's own claims are not taken over again"


async def test_a_step_claimed_just_now_is_not_taken_over_even_if_its_instance_missed_beats(
    team: ChatDriver, engine: Engine, clock: MovableClock,
) -> None:
    """A live instance whose heartbeat lapsed (its beats failed for a while) and that claims a step
    keeps it for a lease from the claim, as before heartbeats."""
    team.say("bob", "/add INV-72 100 EUR 2026-12-01 Acme")
    [step] = add_steps(engine, "INV-72", "bob", NOON)
    lagging = scheduler_for(engine, clock, RecordingNotifier(), instance="lagging", lease=LEASE)
    other = scheduler_for(engine, clock, RecordingNotifier(), instance="other", lease=LEASE)
    clock.set(NOON - timedelta(minutes=10))
    await lagging.beat()
    clock.set(NOON)
    assert await lagging.fire_due() == 1
    clock.advance(timedelta(seconds=30))
    assert await other.recover() == 0
    assert states(engine, [step]) == ["sending"]
    with engine.connect() as connection:
        assert due_table.alive_until(connection, "lagging") == NOON - timedelta(minutes=10) + LEASE


class SlowPlatform(RecordingNotifier):
    """Sends take several leases (Telegram is very slow today)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def send(self, chat_id: str, reply: Reply) -> None:
        await asyncio.sleep(self.delay)
        await super().send(chat_id, reply)


async def test_two_running_instances_never_resend_a_step_that_takes_several_leases_to_send(
    team: ChatDriver, engine: Engine,
) -> None:
    """The real loops: the heartbeat runs beside the firing loop and keeps the slow instance's claim."""
    team.say("bob", "/add INV-73 100 EUR 2026-12-01 Acme")
    due = datetime.now(timezone.utc) + timedelta(seconds=0.5)
    [step] = add_steps(engine, "INV-73", "bob", due)
    lease = timedelta(seconds=1.5)
    slow, quick = SlowPlatform(delay=4 * lease.total_seconds()), RecordingNotifier()
    a = scheduler_for(engine, SystemClock(), slow, instance="slow", lease=lease, max_sleep=timedelta(seconds=0.2))  # type: ignore[arg-type]
    running_a = asyncio.create_task(a.run())
    await until(lambda: states(engine, [step]) == ["sending"], 10, "A claimed the step")
    b = scheduler_for(engine, SystemClock(), quick, instance="quick", lease=lease, max_sleep=timedelta(seconds=0.2))  # type: ignore[arg-type]
    running_b = asyncio.create_task(b.run())
    try:
        await until(lambda: states(engine, [step]) == ["sent"], 20, "A delivered the step")
        await asyncio.sleep(lease.total_seconds())
        assert a.health.snapshot()[HEARTBEAT].running and a.health.snapshot()[HEARTBEAT].total_failures == 0
    finally:
        for task in (running_a, running_b):
            task.cancel()
        await asyncio.gather(running_a, running_b, return_exceptions=True)
    assert len(slow.texts()) == 1 and REPEAT not in slow.texts()[0]
    assert quick.sent == [], "B never took over a claim of the live instance A"


@on_postgresql_only  # SQLite has one writer at a time: no row locks to order
def test_a_bulk_confirmation_locks_its_steps_in_id_order_so_two_instances_cannot_deadlock(
    team: ChatDriver, engine: Engine, clock: MovableClock,
) -> None:
    """Instance A confirms steps 1 and 2 while instance B holds step 1: A waits at step 1 and has
    not locked step 2, whatever order the rows lie in. (An UPDATE that locked 2 first and then
    waited for 1, beside one that holds 1 and wants 2, is a deadlock.)"""
    team.say("bob", "/add INV-74 100 EUR 2026-12-01 Acme")
    first, second = add_steps(engine, "INV-74", "bob", NOON, NOON)
    clock.set(NOON)
    assert {claim.id for claim in due_table.claim_due(engine, clock.now(), "a")} == {first, second}
    with engine.begin() as connection:  # the first step's row now lies after the second's (a change of an indexed column)
        connection.execute(sa.update(due_table.STEPS).where(due_table.STEPS.c.id == first).values(due_at=NOON + timedelta(seconds=1)))
    with engine.connect() as b, b.begin():
        holder = backend_pid(b)
        b.execute(sa.select(due_table.STEPS.c.id).where(due_table.STEPS.c.id == first).with_for_update())

        def confirm() -> None:
            with engine.begin() as connection:
                # the plan PostgreSQL picks for a long list of steps: rows visited as they lie in the table
                connection.execute(sa.text("SET LOCAL enable_indexscan = off"))
                due_table.mark_sent_in(connection, [second, first], clock.now(), "a")

        thread = threading.Thread(target=confirm)
        thread.start()
        assert waiting_behind(engine, holder), "A waits for the step B holds"
        with engine.begin() as probe:
            free = probe.execute(sa.text("SELECT id FROM ladder_step WHERE id = :id FOR UPDATE SKIP LOCKED"), {"id": second}).all()
        assert free, "A locked the second step before the first: out of order"
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert states(engine, [first, second]) == ["sent", "sent"]


@on_postgresql_only  # SQLite has one writer at a time: no row locks to order
def test_delivered_promise_follow_ups_lock_their_invoices_in_id_order_so_two_instances_cannot_deadlock(
    team: ChatDriver, engine: Engine, clock: MovableClock,
) -> None:
    """A delivered promise follow-up counts a broken promise on its invoice. Instance A confirms
    follow-ups of INV-75 and INV-76 while instance B holds INV-75's row (confirming its own, in the
    opposite order): A waits at INV-75 and has not locked INV-76, so B can go on and both finish."""
    team.say("bob", "/add INV-75 100 EUR 2026-12-01 Acme")
    team.say("bob", "/add INV-76 100 EUR 2026-12-01 Acme")
    [first] = add_steps(engine, "INV-75", "bob", NOON)
    [second] = add_steps(engine, "INV-76", "bob", NOON)
    invoices = due_table.INVOICES
    with engine.begin() as connection:
        connection.execute(sa.update(due_table.STEPS).where(due_table.STEPS.c.id.in_([first, second]))
                           .values(kind=StepKind.BROKEN_PROMISE.value))
        ids = dict(connection.execute(sa.select(invoices.c.number, invoices.c.id)
                                      .where(invoices.c.number.in_(["INV-75", "INV-76"]))).all())
        # INV-75's row now lies after INV-76's in the table
        connection.execute(sa.update(invoices).where(invoices.c.id == ids["INV-75"]).values(broken_promises=0))
    clock.set(NOON)
    assert {claim.id for claim in due_table.claim_due(engine, clock.now(), "a")} == {first, second}
    with engine.connect() as b, b.begin():
        holder = backend_pid(b)
        b.execute(sa.select(invoices.c.id).where(invoices.c.id == ids["INV-75"]).with_for_update())

        def confirm() -> None:
            with engine.begin() as connection:
                connection.execute(sa.text("SET LOCAL enable_indexscan = off"))
                connection.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
                due_table.mark_sent_in(connection, [second, first], clock.now(), "a")

        thread = threading.Thread(target=confirm)
        thread.start()
        assert waiting_behind(engine, holder), "A waits for the invoice B holds"
        with engine.begin() as probe:
            free = probe.execute(sa.select(invoices.c.id).where(invoices.c.id == ids["INV-76"])
                                 .with_for_update(skip_locked=True)).all()
        assert free, "A locked INV-76 before INV-75: out of order, a deadlock with B"
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert states(engine, [first, second]) == ["sent", "sent"]
    with engine.connect() as connection:
        assert connection.execute(sa.select(invoices.c.broken_promises).where(invoices.c.id.in_(ids.values()))).scalars().all() == [1, 1]


def test_a_stopping_instance_says_how_many_claims_it_handed_back(team: ChatDriver, engine: Engine) -> None:
    """The ordered locking must not cost the count: on SQLite a statement starting with WITH has none."""
    team.say("bob", "/add INV-75 100 EUR 2026-12-01 Acme")
    add_steps(engine, "INV-75", "bob", NOON, NOON, NOON)
    claimed = due_table.claim_due(engine, NOON, "instance-a")
    assert len(claimed) >= 3
    assert due_table.release(engine, "instance-a") == len(claimed)


async def test_a_cleanly_stopped_instances_claims_are_sent_by_another_instance_at_once_marked_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock,
) -> None:
    """A rolling restart: instance A claimed a step but its platform was down; A is stopped
    cleanly. Instance B sends the step right away, not a lease later, and A's heartbeat is gone."""
    team.say("bob", "/add INV-73 100 EUR 2026-12-01 Acme")
    [step] = add_steps(engine, "INV-73", "bob", NOON)
    down, up = RecordingNotifier(failures=100), RecordingNotifier()
    a = scheduler_for(engine, clock, down, instance="instance-a", lease=LEASE)
    b = scheduler_for(engine, clock, up, instance="instance-b", lease=LEASE)
    clock.set(NOON)
    await a.beat()
    await b.beat()
    assert await a.fire_due() == 1
    await a.stop()
    assert await b.recover() + await b.fire_due() == 1, "taken at once, no lease to wait for"
    await b.flush()
    assert len(up.texts()) == 1 and REPEAT in up.texts()[0], "A may have sent it: marked as a repeat"
    assert states(engine, [step]) == ["sent"]
    with engine.connect() as connection:
        assert due_table.alive_until(connection, "instance-a") is None
        assert due_table.alive_until(connection, "instance-b") is not None
