"""Issue 12's findings, each as the story a new team lived through over a simulated month, now
told the way it should go: the course owns every step, outcomes combine without undoing each other."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.store.models import Event, Invoice, InvoiceStatus, LadderStep, Payment, StepKind, StepState
from scheduling.business_calendar import add_business_days
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier, refused
from tests.test_ladder_course import add_acme, deliver_at, events, invoice, steps

DUE_NOON = datetime(2026, 12, 10, 12, 0, tzinfo=OSLO)


def by_name(engine: Engine, number: str, name: str) -> LadderStep:
    return next(s for s in steps(engine, number) if s.name == name)


def local(moment: datetime) -> datetime:
    return moment.astimezone(OSLO).replace(tzinfo=None)


async def test_a_backlog_invoice_starts_with_a_first_contact_not_the_lawyer(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    team.say("carol", "/today")
    reply = team.say("bob", "/add INV-8 100 EUR 2026-11-01 Old Corp collector=@carol")
    assert "First step: Written demand (@carol)" in reply, reply
    planned = steps(engine, "INV-8")
    assert [s.state for s in planned] == [StepState.SKIPPED] * 2 + [StepState.PENDING] * 4 + [StepState.WAITING]
    assert await deliver_at(scheduler, clock, clock.now()) == 1
    assert "Written demand" in notifier.texts("carol")[0]
    pending = [s for s in planned if s.state == StepState.PENDING]
    assert all(later.due_at - earlier.due_at >= timedelta(hours=1) for earlier, later in zip(pending, pending[1:])), \
        "it climbs at the ladder's spacing, not in a burst"
    claim = by_name(engine, "INV-8", "Formal claim")
    assert local(claim.due_at).date() >= date(2026, 11, 30), "the claim comes days later, after the calls"


async def test_the_lawyer_waits_until_the_claim_is_confirmed_sent_and_its_deadline_passed(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    assert "joined the team" in team.say("alice", "/team add @larry lawyer")
    team.say("alice", "/today")
    team.say("larry", "/today")
    add_acme(team)
    claim = by_name(engine, "INV-7", "Formal claim")
    await deliver_at(scheduler, clock, claim.due_at)
    assert by_name(engine, "INV-7", "Formal claim").state == StepState.SENT
    await deliver_at(scheduler, clock, datetime(2027, 2, 15, 10, 0, tzinfo=OSLO))
    assert by_name(engine, "INV-7", "Legal handover").state == StepState.WAITING, "an unconfirmed claim holds the lawyer back"
    assert not notifier.texts("larry")
    confirmed = team.say("alice", "/done INV-7 claim sent by registered mail")
    assert "Formal claim" in confirmed and "Due date call" not in confirmed
    claim = by_name(engine, "INV-7", "Formal claim")
    assert add_business_days(date(2027, 2, 15), 10, "NO") == date(2027, 3, 1), "10 business days: exactly 14 days"
    assert claim.deadline == date(2027, 3, 3), "the deadline counts from the confirmation: 14 full days and a margin (Norway)"
    legal = by_name(engine, "INV-7", "Legal handover")
    assert legal.state == StepState.PENDING and local(legal.due_at).date() > claim.deadline
    assert await deliver_at(scheduler, clock, datetime.combine(claim.deadline, datetime.min.time(), OSLO) + timedelta(hours=16)) == 0
    assert await deliver_at(scheduler, clock, legal.due_at) == 1
    assert "Legal handover" in notifier.texts("larry")[-1]


async def test_promise_dispute_and_resolve_keep_the_promise_and_the_claims_deadline(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler
) -> None:
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    team.say("carol", "/promise INV-7 +5d")
    team.say("carol", "/dispute INV-7 wrong delivery address")
    resolved = team.say("alice", "/resolve INV-7")
    follow_up = next(s for s in steps(engine, "INV-7") if s.kind == StepKind.BROKEN_PROMISE)
    promised = date(2026, 12, 15)
    assert follow_up.state == StepState.PENDING
    assert local(follow_up.due_at).date() == add_business_days(promised, 1, "NO"), "still promised date plus grace"
    assert "Promise follow-up · Wed 16 Dec 2026, 10:00" in resolved.replace("  ", " "), resolved
    later = [s for s in steps(engine, "INV-7") if s.kind == StepKind.LADDER and s.state == StepState.PENDING]
    assert all(s.due_at > follow_up.due_at for s in later), "the ladder stays behind the standing promise"
    assert not events(engine, "broken_promise")
    assert by_name(engine, "INV-7", "Legal handover").state == StepState.WAITING, "no lawyer before a confirmed claim"


async def test_a_promise_never_squeezes_the_ladder_and_a_broken_promise_counts_once(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    team.say("carol", "/promise INV-7 2026-12-15")
    pending = [s for s in steps(engine, "INV-7") if s.kind == StepKind.LADDER and s.state == StepState.PENDING]
    assert len(pending) >= 2
    assert all(later.due_at - earlier.due_at >= timedelta(hours=1) for earlier, later in zip(pending, pending[1:])), \
        [local(s.due_at) for s in pending]
    follow_up = next(s for s in steps(engine, "INV-7") if s.kind == StepKind.BROKEN_PROMISE)
    assert await deliver_at(scheduler, clock, follow_up.due_at) >= 1
    team.say("carol", "/snooze INV-7 2h")
    await deliver_at(scheduler, clock, follow_up.due_at + timedelta(hours=2))
    assert sum("Promise follow-up" in text for text in notifier.texts("carol")) == 2, "sent, snoozed, sent again"
    assert invoice(engine, "INV-7").broken_promises == 1, "the re-sent follow-up is the same broken promise"
    again = team.say("carol", "/promise INV-7 2026-12-22").replace("  ", " ")
    assert "Broken promises so far: 1" in again, again


async def test_a_collectors_done_closes_only_their_own_steps(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler
) -> None:
    team.say("alice", "/today")
    add_acme(team)
    claim = by_name(engine, "INV-7", "Formal claim")
    await deliver_at(scheduler, clock, claim.due_at)
    answered = team.say("carol", "/done INV-7")
    assert "Formal claim" not in answered and "Friendly reminder call" not in answered
    by_state = {s.name: s.state for s in steps(engine, "INV-7")}
    assert by_state["Formal claim"] == StepState.SENT, "the manager's claim is still theirs to confirm"
    assert by_state["Friendly reminder call"] == StepState.SENT, "bob's call is bob's"
    assert by_state["Due date call"] == StepState.ACKNOWLEDGED
    assert by_state["Legal handover"] == StepState.WAITING


async def test_payments_can_be_confirmed_warned_undone_and_invoices_cancelled_and_reopened(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    ping = notifier.sent[-1][1]
    paid_button = next(b for b in ping.buttons if b.label.endswith("Paid"))
    assert paid_button.asks and "all" in paid_button.asks, "the button asks before recording a full payment"
    assert "Partial payment recorded" in team.say("carol", "/paid INV-7 200")
    refused(team, "carol", "/paid INV-7 200", "already recorded today", example="Example: /paid INV-7 200 confirm")
    assert "Partial payment recorded" in team.say("carol", "/paid INV-7 200 confirm")
    assert invoice(engine, "INV-7").balance == 600
    assert "Only the person who recorded" in team.say("bob", "/undo INV-7")
    assert "Payment undone on INV-7" in team.say("carol", "/undo INV-7")
    assert invoice(engine, "INV-7").balance == 800
    with Session(engine) as session:
        assert [p.undone_at is not None for p in session.exec(select(Payment).order_by(Payment.id))] == [False, True]
    assert "paid in full" in team.say("carol", "/paid INV-7 all")
    reopened = team.say("alice", "/reopen INV-7")
    assert "Payment undone on INV-7" in reopened and "open again" in reopened, reopened
    assert invoice(engine, "INV-7").status == InvoiceStatus.OPEN and invoice(engine, "INV-7").balance == 800
    assert any(s.state == StepState.PENDING and s.kind == StepKind.LADDER for s in steps(engine, "INV-7"))
    assert "only managers and admins can" in team.say("bob", "/cancel INV-7 typo"), "voiding is managers' work"
    assert "Why is INV-7 cancelled" in team.say("alice", "/cancel INV-7")
    cancelled = team.say("alice", "/cancel INV-7 credit note CN-7 issued")
    assert "Invoice INV-7 is cancelled" in cancelled
    assert not [s for s in steps(engine, "INV-7") if s.state in (StepState.PENDING, StepState.WAITING, StepState.PAUSED)]
    assert await deliver_at(scheduler, clock, datetime(2027, 3, 1, 12, 0, tzinfo=OSLO)) == 0, "nothing goes out for it"
    assert "is cancelled" in team.say("carol", "/promise INV-7 2027-03-10")
    assert "open again" in team.say("alice", "/reopen INV-7")
    history = team.say("bob", "/history INV-7")
    for entry in ("payment of €200.00 undone", "cancelled: credit note CN-7 issued", "reopened", "paid in full"):
        assert entry in history, entry


async def test_a_dispute_keeps_coming_back_to_whoever_holds_it_until_resolved(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    team.say("alice", "/team add @mona manager")
    team.say("alice", "/team set @alice manager=@mona")
    team.say("mona", "/today")
    team.say("alice", "/today")
    add_acme(team)
    team.say("carol", "/dispute INV-7 pallets arrived damaged")
    assert await deliver_at(scheduler, clock, clock.now()) == 1
    ping = notifier.texts("alice")[-1]
    assert "propose a call" in ping.lower() or "short call" in ping
    assert "Please pay" not in ping, "a disputed invoice gets no payment demand"
    clock.set(clock.now() + timedelta(hours=4))
    assert await scheduler.follow_up() == 1
    assert await deliver_at(scheduler, clock, clock.now()) == 1, "the reminder goes out while the dispute pauses the rest"
    clock.set(clock.now() + timedelta(days=1))
    assert await scheduler.follow_up() == 1
    assert await deliver_at(scheduler, clock, clock.now()) == 1
    assert "has not answered" in notifier.texts("mona")[-1], "escalated up alice's chain"
    team.say("alice", "/done INV-7 called them, waiting for photos")
    again = [s for s in steps(engine, "INV-7") if s.kind == StepKind.DISPUTE and s.state == StepState.PENDING]
    assert [s.name for s in again] == ["Dispute still open"]
    team.say("alice", "/resolve INV-7")
    assert not [s for s in steps(engine, "INV-7") if s.kind == StepKind.DISPUTE and s.state == StepState.PENDING]


async def test_someone_leaving_hands_their_invoices_and_pings_to_a_colleague(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    team.say("dave", "/today")
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    refused = team.say("alice", "/team remove @carol")
    assert "still holds 1 open invoice (INV-7)" in refused and "to=@" in refused
    assert "@carol left the team" in team.say("alice", "/team remove @carol to=@dave")
    assert invoice(engine, "INV-7").collector_id is not None
    with Session(engine) as session:
        assert session.exec(select(Invoice)).one().collector_id == session.exec(
            select(LadderStep).where(LadderStep.name == "Written demand")).one().responsible_id
    sent_to_carol = len(notifier.texts("carol"))
    await deliver_at(scheduler, clock, datetime(2026, 12, 11, 16, 0, tzinfo=OSLO))  # 10:00 in dave's New York
    assert len(notifier.texts("carol")) == sent_to_carol, "nothing more for someone who left"
    assert any("Due date call" in text for text in notifier.texts("dave")), "the unanswered ping went to dave"
    assert "INV-7" in team.say("dave", "/list")
    with Session(engine) as session:
        assert session.exec(select(Event).where(Event.kind == "handed_over")).all()


async def test_the_subscription_ladder_counts_calendar_days(team: ChatDriver, engine: Engine) -> None:
    team.say("bob", "/add SUB-1 49 EUR 2026-12-10 Streamly ladder=subscription")
    named = {s.name: local(s.due_at) for s in steps(engine, "SUB-1")}
    assert named["Overdue warning"] == datetime(2026, 12, 15, 10, 0), "5 calendar days after Thursday 10 December"
    assert named["Late fee notice"] == datetime(2026, 12, 21, 9, 0), "day 10 is a Sunday: the next working slot"
    assert named["Service suspended"] == datetime(2026, 12, 30, 10, 0), "day 20"


async def test_a_second_broken_promise_counts_even_while_the_first_follow_up_was_snoozed(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    team.say("carol", "/promise INV-7 2026-12-15")
    first = next(s for s in steps(engine, "INV-7") if s.kind == StepKind.BROKEN_PROMISE)
    assert await deliver_at(scheduler, clock, first.due_at) >= 1
    assert invoice(engine, "INV-7").broken_promises == 1
    team.say("carol", "/snooze INV-7 2h")  # the first follow-up is re-armed: it has not gone out again yet
    again = team.say("carol", "/promise INV-7 2026-12-22").replace("  ", " ")
    assert "Broken promises so far: 1" in again, again
    second = next(s for s in steps(engine, "INV-7") if s.kind == StepKind.BROKEN_PROMISE and s.id != first.id
                  and s.state == StepState.PENDING)
    assert await deliver_at(scheduler, clock, second.due_at) >= 1
    assert invoice(engine, "INV-7").broken_promises == 2, "two promises broken, whatever became of the first follow-up"
    third = team.say("carol", "/promise INV-7 2027-01-08").replace("  ", " ")
    assert "Broken promises so far: 2" in third, third


def test_paid_in_full_reads_the_invoice_its_payments_and_its_steps_once(team: ChatDriver, engine: Engine) -> None:
    """Bob records the last payment of INV-30: the permission check, the duplicate check and
    the closing of the ladder share what they read, one query per table."""
    team.say("bob", "/add INV-30 1000 EUR 2026-12-10 Acme")
    team.say("bob", "/paid INV-30 400")
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        words = statement.split()
        if words[0].upper() == "SELECT" and "FROM" in words:
            reads.append(words[words.index("FROM") + 1])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert "Invoice INV-30 is paid in full" in team.say("bob", "/paid INV-30")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert {table: reads.count(table) for table in ("invoice", "payment", "ladder_step")} == \
        {"invoice": 1, "payment": 1, "ladder_step": 1}, reads
    assert all(s.state == StepState.CANCELLED for s in steps(engine, "INV-30") if s.state != StepState.SKIPPED)
