"""Where delivery meets the ladder's course: a step that was claimed when a promise came in, the
catch-up after a night of downtime, buttons of merged pings, and the follow-up pass that one bad
row must not stop."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.store.models import LadderStep, StepKind, StepState
from handlers.core import Core
from scheduling.follow_ups import follow_up_unanswered
from scheduling.ladder_keeper import LadderKeeper
from scheduling.notifier import CONSOLE_LIMITS
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier, add_steps, fire_at, invoice_with_steps, states
from tests.test_firing import NOON


@pytest.fixture(autouse=True)
def hand_placed_steps_only(core: Core) -> None:
    core.services.invoice_hooks[:] = [hook for hook in core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]


def scheduler_for(engine: Engine, clock: MovableClock, notifier: RecordingNotifier, **options: object) -> Scheduler:
    scheduler = Scheduler(engine, clock, **options)  # type: ignore[arg-type]
    scheduler.attach(notifier, CONSOLE_LIMITS)
    return scheduler


def step_row(engine: Engine, step_id: int) -> LadderStep:
    with Session(engine) as session:
        step = session.get(LadderStep, step_id)
        assert step is not None
        return step


async def test_a_step_claimed_just_before_a_promise_is_recorded_does_not_go_out_after_the_reply_says_paused(
    team: ChatDriver, engine: Engine, clock: MovableClock
) -> None:
    team.say("bob", "/add PRM-1 100 EUR 2026-11-20 Acme")
    [step] = add_steps(engine, "PRM-1", "bob", NOON)
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    clock.set(NOON)
    assert await scheduler.fire_due() == 1, "claimed and waiting in the send queue"
    reply = team.say("bob", "/promise PRM-1 2026-12-10")
    assert "paused until" in reply
    await scheduler.flush()
    assert notifier.sent == [], "the promise came first: the claim's ping does not go out"
    held = step_row(engine, step)
    assert held.state == StepState.PENDING and held.due_at > datetime(2026, 12, 10, tzinfo=OSLO), "it waits behind the promise"
    assert held.attempts == 0, "holding it back was not a delivery attempt"


async def test_a_step_whose_invoice_was_paid_before_its_minute_is_cancelled_in_the_claim_itself(
    team: ChatDriver, engine: Engine, clock: MovableClock
) -> None:
    team.say("bob", "/add PAY-1 100 EUR 2026-11-20 Acme")
    [step] = add_steps(engine, "PAY-1", "bob", NOON)
    with Session(engine) as session:  # paid by an instance whose ladder hooks had not run yet
        from bot.store.models import Invoice, InvoiceStatus

        invoice = session.exec(select(Invoice).where(Invoice.number == "PAY-1")).one()
        invoice.status = InvoiceStatus.PAID
        session.add(invoice)
        session.commit()
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    clock.set(NOON)
    assert await scheduler.fire_due() == 0, "never handed to a queue"
    assert states(engine, [step]) == ["cancelled"] and notifier.sent == []


async def test_catch_up_after_a_night_of_downtime_waits_for_the_persons_morning_one_section_per_invoice(
    team: ChatDriver, engine: Engine, clock: MovableClock
) -> None:
    team.say("bob", "/add CUP-1 100 EUR 2026-12-01 Acme")
    team.say("bob", "/add CUP-2 200 EUR 2026-12-01 Borealis")
    steps = add_steps(engine, "CUP-1", "bob", NOON, NOON + timedelta(hours=2))
    steps += add_steps(engine, "CUP-2", "bob", NOON + timedelta(hours=1), NOON + timedelta(hours=3))
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    assert await fire_at(scheduler, clock, datetime(2026, 12, 2, 3, 0, tzinfo=OSLO)) == 0  # restarted at 03:00
    assert notifier.sent == [], "nobody is pinged at 03:00"
    morning = datetime(2026, 12, 2, 9, 0, tzinfo=OSLO)
    assert {step_row(engine, step).due_at for step in steps} == {morning}, "due at bob's next working slot"
    assert await fire_at(scheduler, clock, morning) == 4
    [text] = notifier.texts()
    assert text.count("CUP-1 · Acme") == 1 and text.count("CUP-2 · Borealis") == 1, "one section per invoice"
    assert "Repeat" not in text
    assert states(engine, steps) == ["sent"] * 4


async def test_catch_up_on_a_ladder_that_ignores_working_hours_goes_out_at_once(
    team: ChatDriver, engine: Engine, clock: MovableClock
) -> None:
    [step] = invoice_with_steps(team, "RTC-1", NOON)
    notifier = RecordingNotifier()
    with Session(engine) as session:
        from bot.store.models import Invoice

        ladder = session.exec(select(Invoice.ladder).where(Invoice.number == "RTC-1")).one()
    scheduler = scheduler_for(engine, clock, notifier, round_the_clock=frozenset({ladder}))
    assert await fire_at(scheduler, clock, datetime(2026, 12, 2, 3, 0, tzinfo=OSLO)) == 1
    assert len(notifier.sent) == 1 and states(engine, [step]) == ["sent"]


async def test_every_button_of_a_merged_ping_names_its_invoice_and_answers_that_invoice_only(
    team: ChatDriver, engine: Engine, clock: MovableClock
) -> None:
    team.say("bob", "/add BTN-1 100 EUR 2026-12-01 Acme")
    team.say("bob", "/add BTN-2 200 EUR 2026-12-01 Borealis")
    [first] = add_steps(engine, "BTN-1", "bob", NOON)
    [second] = add_steps(engine, "BTN-2", "bob", NOON)
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    await fire_at(scheduler, clock, NOON)
    [(_, reply)] = notifier.sent
    assert len(reply.buttons) <= 8, "a few answers per invoice, not sixteen"
    for button in reply.buttons:
        number = "BTN-1" if "BTN-1" in button.label else "BTN-2"
        assert number in button.label and number in button.action, button
    done_first = next(button for button in reply.buttons if button.action == "done BTN-1")
    assert "Marked done on BTN-1" in team.press("bob", done_first.action)
    assert states(engine, [first, second]) == ["acknowledged", "sent"], "the other invoice's step is still open"


async def test_one_bad_row_never_stops_the_follow_up_pass(
    team: ChatDriver, engine: Engine, clock: MovableClock
) -> None:
    [broken] = invoice_with_steps(team, "FUP-1", NOON)
    [healthy] = invoice_with_steps(team, "FUP-2", NOON, customer="Borealis", owner="alice")
    notifier = RecordingNotifier()
    scheduler = scheduler_for(engine, clock, notifier)
    await fire_at(scheduler, clock, NOON)
    with Session(engine) as session:  # a row no pass can work with: an answer window of 63 years
        step = session.get(LadderStep, broken)
        assert step is not None
        step.ack_within_seconds = 2_000_000_000
        session.add(step)
        session.commit()
    assert follow_up_unanswered(engine, NOON + timedelta(days=2)) == 1, "alice's unanswered ping is followed up"
    with Session(engine) as session:
        nudges = session.exec(select(LadderStep).where(LadderStep.kind == StepKind.NUDGE)).all()
        assert [nudge.name for nudge in nudges] == ["No answer yet: step-1"]
        assert step_row(engine, broken).nudges == 0 and step_row(engine, healthy).nudges == 1


async def test_a_ping_waiting_for_a_retry_is_dropped_when_the_invoice_is_paid_meanwhile(
    team: ChatDriver, engine: Engine, clock: MovableClock
) -> None:
    [step] = invoice_with_steps(team, "RTY-1", NOON)
    notifier = RecordingNotifier(failures=1)
    scheduler = scheduler_for(engine, clock, notifier, retry_pauses=(0.2,))
    await fire_at(scheduler, clock, NOON)
    assert notifier.sent == [] and states(engine, [step]) == ["sending"], "the platform failed once"
    team.say("bob", "/paid RTY-1")
    await asyncio.sleep(0.3)
    await scheduler.flush()
    assert notifier.sent == [] and states(engine, [step]) == ["cancelled"], "the retry checks the invoice again"
