"""Every step is pinged at its minute; nothing lost across restarts and crashes, nothing doubled."""
import asyncio
from datetime import datetime, timedelta
from threading import Barrier, Thread

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.store.models import Event, Invoice, Person
from handlers.core import Core
from handlers.pings import compose_ping
from scheduling import due_table
from scheduling.ladder_keeper import LadderKeeper
from bot.platforms.console.limits import CONSOLE_LIMITS
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier, add_steps, states  # noqa: F401 - re-exported for older tests


@pytest.fixture(autouse=True)
def hand_placed_steps_only(core: Core) -> None:
    """These stories place their steps by hand to test the firing machinery itself; the ladder
    planner (tested in test_ladder_course) is switched off so /add adds no steps of its own."""
    core.services.invoice_hooks[:] = [hook for hook in core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]


def scheduler_for(engine: Engine, clock: MovableClock, notifier: RecordingNotifier, **options: object) -> Scheduler:
    scheduler = Scheduler(engine, clock, compose=compose_ping, **options)  # type: ignore[arg-type]
    scheduler.attach(notifier, CONSOLE_LIMITS)
    return scheduler


NOON = datetime(2026, 12, 1, 12, 0, tzinfo=OSLO)


async def test_collector_is_pinged_at_noon_on_due_date(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    team.say("bob", "/add INV-1 1200.50 EUR 2026-12-01 Acme Trading Ltd")
    [step] = add_steps(engine, "INV-1", "bob", NOON)
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    clock.set(NOON - timedelta(seconds=1))
    assert await scheduler.fire_due() == 0
    clock.set(NOON)
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    [(chat_id, reply)] = notifier.sent
    assert chat_id == "bob"
    text = notifier.texts()[0]
    assert "INV-1" in text and "Acme Trading Ltd" in text and "€1,200.50" in text and "Call about INV-1" in text
    assert "Late by" not in text
    # Issue 12, finding 9: the Paid button asks how much (or "all") before anything is recorded.
    assert [button.action for button in reply.buttons][:2] == ["done INV-1", "paid INV-1 {input}"]
    assert states(engine, [step]) == ["sent"]
    assert scheduler.stats.lateness == [timedelta(0)]
    assert await scheduler.fire_due() == 0, "never twice"


async def test_payment_racing_the_firing_cancels_the_claimed_step(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    team.say("bob", "/add INV-2 100 EUR 2026-12-01 Acme")
    [step] = add_steps(engine, "INV-2", "bob", NOON)
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    clock.set(NOON)
    assert await scheduler.fire_due() == 1
    team.say("bob", "/paid INV-2")
    await scheduler.flush()
    assert notifier.sent == []
    assert states(engine, [step]) == ["cancelled"]


async def test_steps_due_while_the_bot_was_down_arrive_on_start_late_and_merged(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    team.say("bob", "/add INV-3 100 EUR 2026-12-01 Acme")
    team.say("bob", "/add INV-4 200 EUR 2026-12-01 Borealis")
    steps = add_steps(engine, "INV-3", "bob", NOON, NOON + timedelta(hours=2))
    steps += add_steps(engine, "INV-4", "bob", NOON + timedelta(hours=1))
    clock.set(NOON + timedelta(hours=4, minutes=30))  # back at 16:30, within bob's working hours
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    assert await scheduler.fire_due() == 3
    await scheduler.flush()
    assert len(notifier.sent) == 1, "one merged message, not a burst"
    text = notifier.texts()[0]
    assert "3 ladder steps to do" in text
    assert "Late by 4 hr 30 min" in text  # Babel's short units in the reader's locale (en_US)
    assert (text.index("INV-3 · Acme — 2 steps due") < text.index("step 1: step-1") < text.index("step 2: step-2")
            < text.index("INV-4 · Borealis — step 1")), "one section per invoice; invoices and steps in due order"
    assert states(engine, steps) == ["sent"] * 3


async def test_a_step_left_sending_by_a_crashed_instance_is_resent_once_marked_repeat(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    team.say("bob", "/add INV-5 100 EUR 2026-12-01 Acme")
    [step] = add_steps(engine, "INV-5", "bob", NOON)
    clock.set(NOON)
    crashed = due_table.claim_due(engine, clock.now(), "crashed-instance")
    assert [claim.id for claim in crashed] == [step]
    notifier = RecordingNotifier()
    survivor = scheduler_for(engine, clock, notifier, lease=timedelta(minutes=2))
    clock.advance(timedelta(minutes=1))
    assert await survivor.recover() == 0, "still within the crashed instance's lease"
    clock.advance(timedelta(minutes=2))
    assert await survivor.recover() == 1
    await survivor.flush()
    assert "Repeat: delivery of this reminder was not confirmed" in notifier.texts()[0]
    assert states(engine, [step]) == ["sent"]
    assert await survivor.recover() == 0


def test_a_slow_instance_never_confirms_a_step_another_instance_took_over(
    team: ChatDriver, engine: Engine, clock: MovableClock
) -> None:
    """The slow instance's confirmation would mark sent a step the new holder has not delivered yet,
    and the new holder would then drop it: a ping lost, not doubled."""
    team.say("bob", "/add INV-55 100 EUR 2026-12-01 Acme")
    [step] = add_steps(engine, "INV-55", "bob", NOON)
    clock.set(NOON)
    assert [claim.id for claim in due_table.claim_due(engine, clock.now(), "slow-instance")] == [step]
    clock.advance(timedelta(minutes=5))
    assert [claim.id for claim in due_table.take_over_stale(engine, clock.now(), "new-holder", timedelta(minutes=2))] == [step]
    due_table.mark_sent(engine, [step], clock.now(), "slow-instance")
    assert states(engine, [step]) == ["sending"], "still the new holder's to deliver"
    assert due_table.still_deliverable(engine, [step], "new-holder") == {step}
    due_table.mark_sent(engine, [step], clock.now(), "new-holder")
    assert states(engine, [step]) == ["sent"]


async def test_a_failed_send_is_kept_and_retried_until_it_arrives(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    team.say("bob", "/add INV-6 100 EUR 2026-12-01 Acme")
    [step] = add_steps(engine, "INV-6", "bob", NOON)
    notifier = RecordingNotifier(failures=1)
    scheduler = scheduler_for(engine, clock, notifier)
    clock.set(NOON)
    await scheduler.fire_due()
    await scheduler.flush()
    assert notifier.sent == [] and states(engine, [step]) == ["sending"]
    queue = scheduler.queues["console"]
    queue.waiting["bob"].not_before = 0.0
    await scheduler.flush()
    assert len(notifier.sent) == 1 and states(engine, [step]) == ["sent"]


async def test_a_person_with_no_linked_chat_gets_the_step_noted_in_history(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    team.say("alice", "/add INV-7 100 EUR 2026-12-01 Acme @dave")
    [step] = add_steps(engine, "INV-7", "dave", NOON)
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    clock.set(NOON)
    await scheduler.fire_due()
    await scheduler.flush()
    assert notifier.sent == []
    with Session(engine) as session:
        assert session.exec(select(Event).where(Event.kind == "ping_unreachable")).one()
    assert states(engine, [step]) == ["sent"]


def test_two_schedulers_claiming_at_once_never_take_the_same_step(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    team.say("bob", "/add INV-8 100 EUR 2026-12-01 Acme")
    with Session(engine) as session:
        invoice_id = session.exec(select(Invoice.id).where(Invoice.number == "INV-8")).one()
        bob = session.exec(select(Person.id).where(Person.handle == "bob")).one()
        rows = [
            dict(invoice_id=invoice_id, position=index, name="s", action="call", responsible_role="owner",
                 responsible_id=bob, stage="due_today", tone="neutral", instruction="", ack_within_seconds=60,
                 due_at=NOON + timedelta(milliseconds=index), state="pending", attempts=0)
            for index in range(600)
        ]
        due_table.insert_steps(session.connection(), rows)
        session.commit()
    clock.set(NOON + timedelta(seconds=5))
    claims: dict[str, list[int]] = {"a": [], "b": []}
    start = Barrier(2)

    def claim_all(instance: str) -> None:
        start.wait()
        while batch := due_table.claim_due(engine, clock.now(), instance, limit=7):
            claims[instance].extend(step.id for step in batch)

    threads = [Thread(target=claim_all, args=(name,)) for name in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claims["a"]) & set(claims["b"])
    assert len(claims["a"]) + len(claims["b"]) == 600
    if engine.dialect.name == "postgresql":
        assert claims["a"] and claims["b"], "both instances got work"
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(due_table.STEPS).where(due_table.STEPS.c.state == "sending")).scalar_one() == 600


async def test_the_loop_fires_steps_a_few_seconds_apart_in_real_time(team: ChatDriver, engine: Engine) -> None:
    from bot.floor.clock import SystemClock

    team.say("bob", "/add INV-9 100 EUR 2026-12-01 Acme")
    clock = SystemClock()
    start = clock.now()
    offsets = [timedelta(seconds=0.5), timedelta(seconds=1.5), timedelta(seconds=2.5)]
    add_steps(engine, "INV-9", "bob", *(start + offset for offset in offsets))
    arrivals: list[datetime] = []

    class TimingNotifier(RecordingNotifier):
        async def send(self, chat_id: str, reply) -> None:  # type: ignore[no-untyped-def]
            arrivals.append(clock.now())
            await super().send(chat_id, reply)

    notifier = TimingNotifier()
    scheduler = Scheduler(engine, clock, compose=compose_ping, max_sleep=timedelta(seconds=5))
    scheduler.attach(notifier, CONSOLE_LIMITS)
    task = asyncio.create_task(scheduler.run())
    try:
        for _ in range(100):
            if len(arrivals) == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(arrivals) == 3
    for offset, arrived in zip(offsets, arrivals, strict=True):
        assert timedelta(0) <= arrived - (start + offset) < timedelta(seconds=1)


async def test_a_taken_over_step_merged_with_a_first_time_step_marks_only_itself_as_a_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock,
) -> None:
    """A crashed instance may have sent INV-8's step; INV-9's step falls due now for the first
    time. Bob gets one message: the taken-over step says it may have reached him before, the new
    one does not, and the message as a whole is not called a repeat."""
    team.say("bob", "/add INV-8 100 EUR 2026-12-01 Acme")
    team.say("bob", "/add INV-9 100 EUR 2026-12-01 Borealis")
    [taken_over] = add_steps(engine, "INV-8", "bob", NOON)
    [first_time] = add_steps(engine, "INV-9", "bob", NOON + timedelta(minutes=3))
    clock.set(NOON)
    due_table.claim_due(engine, clock.now(), "crashed-instance")
    notifier = RecordingNotifier()
    survivor = scheduler_for(engine, clock, notifier, lease=timedelta(minutes=2))
    clock.advance(timedelta(minutes=3))
    assert await survivor.recover() == 1
    assert await survivor.fire_due() == 1
    await survivor.flush()
    [text] = notifier.texts()
    assert "2 ladder steps to do" in text
    assert "Repeat: delivery of this reminder was not confirmed" not in text
    assert "INV-8 · Acme — step 1 (repeat: may have reached you before): step-1" in text
    assert "INV-9 · Borealis — step 1: step-1" in text
    [(_chat, ping)] = notifier.sent
    assert (ping.repeat, ping.repeated_step_ids) == (False, (taken_over,)), "the platforms and the fail-over bench read which"
    assert states(engine, [taken_over, first_time]) == ["sent", "sent"]


async def test_steps_claimed_together_are_each_handed_off_at_their_own_moment(team: ChatDriver, engine: Engine) -> None:
    """Forty steps 20 ms apart: each claim pass takes several ahead of their moment, and each step
    still leaves at its own moment, none early."""
    from bot.floor.clock import SystemClock

    team.say("bob", "/add INV-9 100 EUR 2026-12-01 Acme")
    clock = SystemClock()
    start = clock.now() + timedelta(seconds=0.3)
    add_steps(engine, "INV-9", "bob", *(start + timedelta(milliseconds=20 * n) for n in range(40)))
    scheduler = Scheduler(engine, clock, compose=compose_ping, max_sleep=timedelta(seconds=5))
    scheduler.attach(RecordingNotifier(), CONSOLE_LIMITS)
    task = asyncio.create_task(scheduler.run())
    try:
        for _ in range(100):
            if scheduler.stats.handed_off == 40:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert scheduler.stats.handed_off == 40
    assert all(timedelta(0) <= late < timedelta(seconds=1) for late in scheduler.stats.lateness)
