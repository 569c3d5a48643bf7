"""The course's promises, checked after every step of random sequences of outcomes, commands and
clock moves, against the real database (SQLite and PostgreSQL) and the real scheduler; among the
outcomes, payments on one invoice recorded at the same moment (threads, as two instances).

Two bots run side by side on separate databases and receive the same commands at the same
moments; one has its clock moved step by step (firing every few hours), the other jumps (firing
once, catching up). After every step both must hold every invariant, and both must be on the
same course. Example counts: in CI (the `ci` hypothesis profile) 6 examples of up to 10 steps per
database, not shrunk (a failure prints its steps; rerun with the long profile to shrink it);
`HYPOTHESIS_PROFILE=long` runs 200 examples of up to 40 steps, shrinking.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.app.bootstrap import build_core, build_scheduler, build_services
from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.store.database import create_database_engine
from bot.store.models import Event, Invoice, InvoiceStatus, LadderStep, Payment, Person, StepKind, StepState, Team
from scheduling.business_calendar import WorkingHours, add_business_days, next_working_slot
from bot.platforms.console.limits import CONSOLE_LIMITS
from scheduling.scheduler import Scheduler
from scheduling.working_hours import hours_of
from tests.conftest import OSLO, POSTGRES_URL
from tests.support import ChatDriver, RecordingNotifier

_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
COURSE_SETTINGS = {
    "ci": settings(max_examples=6, stateful_step_count=10, deadline=None, derandomize=True, database=None,
                   phases=(Phase.explicit, Phase.generate), suppress_health_check=_CHECKS),
    "long": settings(max_examples=200, stateful_step_count=40, deadline=None, suppress_health_check=_CHECKS),
}
START = datetime(2026, 11, 24, 9, 0, tzinfo=OSLO)
STEPWISE = timedelta(hours=3)
OFFICE = WorkingHours("Europe/Oslo", country="NO")
NUMBERS = itertools.count(1)
MIN_SPACING = timedelta(hours=1)
ROUND_THE_CLOCK_KINDS = (StepKind.NUDGE, StepKind.ESCALATION)
REARMED = ("snoozed", "no answer", "handed over")
UPCOMING = (StepState.PENDING, StepState.PAUSED, StepState.WAITING)


@dataclass
class Bot:
    engine: Engine
    clock: MovableClock
    chat: ChatDriver
    scheduler: Scheduler
    loop: asyncio.AbstractEventLoop

    def fire(self) -> int:
        async def fire_and_flush() -> int:
            fired = await self.scheduler.fire_due()
            await self.scheduler.flush()
            return fired
        return self.loop.run_until_complete(fire_and_flush())


def build_bot(engine: Engine, url: str) -> Bot:
    clock = MovableClock(START)
    core = build_core(build_services(Settings(_env_file=None, database_url=url), clock=clock, engine=engine))  # type: ignore[call-arg]
    chat = ChatDriver(core)
    chat.say("alice", "/start")
    for line in ("/team add @bob salesperson", "/team add @carol collector", "/team add @larry lawyer"):
        assert "joined the team" in chat.say("alice", line)
    scheduler = build_scheduler(core.services)
    scheduler.attach(RecordingNotifier(), CONSOLE_LIMITS, catch_all=True)
    return Bot(engine, clock, chat, scheduler, asyncio.new_event_loop())


def quiet(engine: Engine) -> None:
    """Between examples: nothing of an earlier example may fire in the next one."""
    with engine.begin() as connection:
        connection.execute(sa.update(LadderStep).where(col(LadderStep.state).in_(["pending", "sending", "paused", "waiting"]))
                           .values(state="cancelled"))


@dataclass
class Watch:
    """What the model remembers about one invoice to judge the stored course."""

    silent: list[list[datetime | None]] = field(default_factory=list)
    """[from, until) intervals in which nothing but dispute steps may go out (paid, cancelled, disputed)."""
    checks_not_before: dict[int, datetime] = field(default_factory=dict)
    """Promise follow-up step id → the earliest moment it may go out (promised date + grace)."""


class CourseMachine(RuleBasedStateMachine):
    bots: tuple[Bot, Bot]

    def __init__(self) -> None:
        super().__init__()
        for bot in self.bots:
            quiet(bot.engine)
            bot.clock.set(START)
        self.invoices: list[str] = []
        self.watch: dict[str, Watch] = {}

    # -- driving both bots ----------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.bots[0].clock.now()

    def say(self, who: str, text: str) -> str:
        replies = [bot.chat.say(who, text) for bot in self.bots]
        assert replies[0].startswith("⚠") == replies[1].startswith("⚠"), replies
        if "Something went wrong" in replies[0]:
            raise AssertionError(f"{text} failed: {replies[0]}")
        self.observe()
        return replies[0]

    def observe(self) -> None:
        with Session(self.bots[0].engine) as session:
            for number in self.invoices:
                invoice = session.exec(select(Invoice).where(Invoice.number == number)).one()
                watch = self.watch[number]
                silent = invoice.status != InvoiceStatus.OPEN
                open_interval = watch.silent and watch.silent[-1][1] is None
                if silent and not open_interval:
                    watch.silent.append([self.now, None])
                elif not silent and open_interval:
                    watch.silent[-1][1] = self.now
                grace = 1
                for step in session.exec(select(LadderStep).where(LadderStep.invoice_id == invoice.id,
                                                                  LadderStep.kind == StepKind.BROKEN_PROMISE)):
                    if step.id not in watch.checks_not_before and invoice.promised_date is not None:
                        earliest = add_business_days(invoice.promised_date, grace, "NO")
                        watch.checks_not_before[step.id] = datetime.combine(earliest, time(0), OSLO)  # type: ignore[index]

    def pick(self, index: int) -> str:
        return self.invoices[index % len(self.invoices)]

    # -- rules ------------------------------------------------------------------------------------
    @initialize(offset=st.integers(-25, 12), ladder=st.sampled_from(["standard", "subscription"]))
    def add_first(self, offset: int, ladder: str) -> None:
        self.add(offset, ladder)

    @precondition(lambda self: len(self.invoices) < 2)
    @rule(offset=st.integers(-25, 12), ladder=st.sampled_from(["standard", "subscription"]))
    def add(self, offset: int, ladder: str) -> None:
        number = f"H{next(NUMBERS)}-{uuid.uuid4().hex[:4]}"
        due = (self.now.astimezone(OSLO).date() + timedelta(days=offset)).isoformat()
        self.invoices.append(number)
        self.watch[number] = Watch()
        reply = self.say("bob", f"/add {number} 1000 EUR {due} Customer {number} collector=@carol ladder={ladder}")
        assert f"Added invoice {number}" in reply, reply

    @rule(hours=st.integers(1, 96))
    def advance(self, hours: int) -> None:
        # The jump lands in the team's working hours: late pings then go out at once on both bots
        # (outside them the catch-up waits for the next working slot, which the stepwise bot,
        # having fired in between, would not wait for; both are right, but not comparable).
        target = next_working_slot(self.now + timedelta(hours=hours), OFFICE)
        stepwise, jumping = self.bots
        moment = stepwise.clock.now()
        while moment < target:
            moment = min(moment + STEPWISE, target)
            stepwise.clock.set(moment)
            stepwise.fire()
        jumping.clock.set(target)
        jumping.fire()
        self.observe()

    @rule(index=st.integers(0, 1), who=st.sampled_from(["carol", "alice", "bob"]))
    def done(self, index: int, who: str) -> None:
        self.say(who, f"/done {self.pick(index)}")

    @rule(index=st.integers(0, 1), part=st.sampled_from([None, "100", "250"]))
    def pay(self, index: int, part: str | None) -> None:
        self.say("carol", f"/paid {self.pick(index)}" + (f" {part} confirm" if part else ""))

    @rule(index=st.integers(0, 1), double_tap=st.booleans())
    def payments_at_the_same_moment(self, index: int, double_tap: bool) -> None:
        """Two payments on one invoice at once, as two instances would take them: Bob and Carol
        each record half the balance (together all of it: the invoice ends paid, whoever goes
        first), or Carol's half arrives twice (one is stored, the other refused as a repeat)."""
        number = self.pick(index)
        with Session(self.bots[0].engine) as session:
            invoice = session.exec(select(Invoice).where(Invoice.number == number)).one()
            payable = invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.DISPUTED)
            half = (invoice.balance / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            paid_before = set(session.exec(select(Payment.amount).where(Payment.invoice_id == invoice.id)).all())
        if not payable or half <= 0 or (double_tap and half in paid_before):  # an earlier one of that amount: both are repeats
            return
        if not double_tap and half * 2 != invoice.balance:  # equal halves: whichever is last, /undo takes back the same
            return
        lines = [("carol", f"/paid {number} {half}")] * 2 if double_tap else [
            ("bob", f"/paid {number} {half} confirm"), ("carol", f"/paid {number} {half} confirm")]
        start = threading.Barrier(len(lines) * len(self.bots))
        replies: dict[tuple[int, int], str] = {}

        def say(bot: int, line: int) -> None:
            start.wait()
            replies[bot, line] = self.bots[bot].chat.say(*lines[line])

        before = [self.payments(bot, number) for bot in self.bots]
        threads = [threading.Thread(target=say, args=(bot, line)) for bot in range(len(self.bots)) for line in range(len(lines))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for bot, earlier in zip(self.bots, before, strict=True):
            answers = [replies[self.bots.index(bot), line] for line in range(len(lines))]
            assert not any("Something went wrong" in answer or "changed the same thing" in answer for answer in answers), answers
            stored = self.payments(bot, number) - earlier
            assert stored == len(lines) - sum(answer.startswith("⚠") for answer in answers), answers
            assert stored == (1 if double_tap else 2), ("a repeat today is refused, a confirmed payment never", answers)
            with Session(bot.engine) as session:
                status = session.exec(select(Invoice.status).where(Invoice.number == number)).one()
            assert (status == InvoiceStatus.PAID) == (not double_tap), (status, answers)
        self.observe()

    def payments(self, bot: Bot, number: str) -> int:
        with Session(bot.engine) as session:
            return len(session.exec(select(Payment.id).join(Invoice, col(Invoice.id) == Payment.invoice_id)
                                    .where(Invoice.number == number, col(Payment.undone_at).is_(None))).all())

    @rule(index=st.integers(0, 1), days=st.integers(0, 8), written=st.booleans())
    def promise(self, index: int, days: int, written: bool) -> None:
        self.say("carol", f"/{'letter' if written else 'promise'} {self.pick(index)} +{days}d")

    @rule(index=st.integers(0, 1))
    def dispute(self, index: int) -> None:
        self.say("carol", f"/dispute {self.pick(index)} pallets arrived damaged")

    @rule(index=st.integers(0, 1), amount=st.sampled_from([None, "900"]))
    def resolve(self, index: int, amount: str | None) -> None:
        self.say("alice", f"/resolve {self.pick(index)}" + (f" {amount}" if amount else ""))

    @rule(index=st.integers(0, 1))
    def snooze(self, index: int) -> None:
        self.say("carol", f"/snooze {self.pick(index)} 2h")

    @rule(index=st.integers(0, 1))
    def no_answer(self, index: int) -> None:
        self.say("carol", f"/noanswer {self.pick(index)}")

    @rule(index=st.integers(0, 1))
    def cancel(self, index: int) -> None:
        self.say("alice", f"/cancel {self.pick(index)} sent to the wrong customer")

    @rule(index=st.integers(0, 1))
    def reopen(self, index: int) -> None:
        self.say("alice", f"/reopen {self.pick(index)}")

    @rule(index=st.integers(0, 1))
    def undo(self, index: int) -> None:
        self.say("alice", f"/undo {self.pick(index)}")

    @rule(index=st.integers(0, 1), days=st.integers(1, 10))
    def payment_plan(self, index: int, days: int) -> None:
        self.say("carol", f"/plan {self.pick(index)} 2 instalments every 2 weeks from +{days}d")

    @rule(index=st.integers(0, 1), days=st.integers(-10, 10))
    def change_due(self, index: int, days: int) -> None:
        due = (self.now.astimezone(OSLO).date() + timedelta(days=days)).isoformat()
        self.say("bob", f"/change {self.pick(index)} due={due}")

    # -- invariants -------------------------------------------------------------------------------
    def stored(self, bot: Bot) -> Iterator[tuple[Session, Invoice, list[LadderStep]]]:
        with Session(bot.engine) as session:
            for number in self.invoices:
                invoice = session.exec(select(Invoice).where(Invoice.number == number)).one()
                steps = list(session.exec(select(LadderStep).where(LadderStep.invoice_id == invoice.id)
                                          .order_by(col(LadderStep.position), col(LadderStep.id))))
                yield session, invoice, steps

    @invariant()
    def nothing_is_pinged_for_a_paid_cancelled_or_paused_invoice(self) -> None:
        for bot in self.bots:
            for _, invoice, steps in self.stored(bot):
                for start, end in self.watch[invoice.number].silent:
                    assert start is not None
                    for step in steps:
                        if step.sent_at is not None and step.kind != StepKind.DISPUTE:
                            assert not (start < step.sent_at and (end is None or step.sent_at < end)), \
                                (invoice.number, step.name, step.sent_at, start, end)
                if invoice.status in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED):
                    assert not [s for s in steps if s.state in (StepState.PENDING, StepState.PAUSED, StepState.WAITING)]

    @invariant()
    def a_broken_promise_step_never_fires_before_the_promised_date_plus_grace(self) -> None:
        for bot in self.bots:
            for _, invoice, steps in self.stored(bot):
                # step ids differ between the two databases; the model knows the first bot's
                if bot is not self.bots[0]:
                    continue
                earliest = self.watch[invoice.number].checks_not_before
                for step in steps:
                    if step.kind == StepKind.BROKEN_PROMISE and step.sent_at is not None and step.id in earliest:
                        assert step.sent_at >= earliest[step.id], (step.sent_at, earliest[step.id])

    @invariant()
    def the_lawyer_comes_only_after_a_confirmed_claim_and_its_deadline(self) -> None:
        for bot in self.bots:
            for _, invoice, steps in self.stored(bot):
                for legal in [s for s in steps if s.action == "legal" and s.state in (StepState.PENDING, StepState.SENT,
                                                                                          StepState.ACKNOWLEDGED)]:
                    claims = [s for s in steps if s.gate and s.position < legal.position and s.state == StepState.ACKNOWLEDGED
                              and s.outcome in ("done", "done early", "no contact")]
                    assert claims, f"{invoice.number}: legal handover {legal.state} without a confirmed claim"
                    claim = claims[-1]
                    assert claim.deadline is not None and legal.due_at.astimezone(OSLO).date() > claim.deadline
                    if legal.sent_at is not None:
                        assert claim.acknowledged_at is not None and claim.acknowledged_at <= legal.sent_at

    @invariant()
    def steps_come_in_ladder_order_and_keep_their_spacing(self) -> None:
        for bot in self.bots:
            for _, invoice, steps in self.stored(bot):
                # A delivered step re-armed by a person (snooze, no answer, hand-over) is a retry of
                # that step, not the ladder's own course: it may come again next to another.
                ladder = [s for s in steps if s.kind == StepKind.LADDER and s.outcome not in REARMED]
                sent = sorted([s for s in ladder if s.sent_at is not None], key=lambda s: (s.sent_at, s.position))
                assert [s.position for s in sent] == sorted(s.position for s in sent), [(s.name, s.sent_at) for s in sent]
                pending = [s for s in ladder if s.state == StepState.PENDING]
                for earlier, later in zip(pending, pending[1:]):
                    assert later.due_at - earlier.due_at >= MIN_SPACING, (invoice.number, earlier.name, earlier.due_at,
                                                                          later.name, later.due_at)

    @invariant()
    def no_ping_is_planned_outside_working_hours(self) -> None:
        for bot in self.bots:
            for session, invoice, steps in self.stored(bot):
                team = session.get(Team, invoice.team_id)
                for step in steps:
                    if step.state not in (StepState.PENDING, StepState.SENT) or step.kind in ROUND_THE_CLOCK_KINDS:
                        continue
                    person = session.get(Person, step.responsible_id)
                    assert person is not None
                    assert next_working_slot(step.due_at, hours_of(person, team)) == step.due_at, \
                        (invoice.number, step.name, step.due_at.astimezone(OSLO))

    @invariant()
    def balance_is_amount_less_payments_and_never_negative(self) -> None:
        for bot in self.bots:
            for session, invoice, _ in self.stored(bot):
                paid = sum((p.amount for p in session.exec(select(Payment).where(
                    Payment.invoice_id == invoice.id, col(Payment.undone_at).is_(None)))), Decimal(0))
                assert invoice.balance == invoice.amount - paid
                assert invoice.balance >= 0
                assert (invoice.status == InvoiceStatus.PAID) == (invoice.balance == 0)

    @invariant()
    def every_transition_is_in_the_history_exactly_once(self) -> None:
        for bot in self.bots:
            for session, invoice, steps in self.stored(bot):
                recorded: dict[int, list[dict[str, Any]]] = {}
                for event in session.exec(select(Event).where(Event.invoice_id == invoice.id).order_by(col(Event.id))):
                    for transition in event.details.get("transitions", []):
                        recorded.setdefault(transition["step"], []).append(transition)
                for step in steps:
                    chain = recorded.get(step.id, [])  # type: ignore[arg-type]
                    for before, after in zip(chain, chain[1:]):
                        delivered_between = before["to"] == "pending" and after["from"] in ("sending", "sent")
                        assert after["from"] == before["to"] or delivered_between, (step.name, chain)
                    if step.state in (StepState.ACKNOWLEDGED, StepState.CANCELLED, StepState.PAUSED):
                        assert chain and chain[-1]["to"] == step.state.value, (step.name, step.state, chain)
                    elif step.state == StepState.PENDING and chain:
                        assert chain[-1]["to"] == "pending", (step.name, chain)

    @invariant()
    def stepwise_and_jumping_clocks_are_on_the_same_course(self) -> None:
        courses = []
        for bot in self.bots:
            course = []
            for _, invoice, steps in self.stored(bot):
                # When a delivered ping went out depends on the clock's path (a late catch-up is
                # re-timed to a working slot); what is still to come must not.
                course.append((invoice.status, invoice.balance, invoice.promised_date,
                               [(s.kind, s.name, s.position, s.state, s.due_at if s.state in UPCOMING else None, s.deadline)
                                for s in steps]))
            courses.append(course)
        differences = [(left, right) for a, b in zip(courses[0], courses[1])
                       for left, right in zip([a[:3], *a[3]], [b[:3], *b[3]]) if left != right]
        assert courses[0] == courses[1], differences[:3]

    def teardown(self) -> None:
        for bot in self.bots:
            quiet(bot.engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def twin_engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine, Engine]]:
    if request.param == "sqlite":
        engines = [create_database_engine(f"sqlite:///{tmp_path / f'{name}.db'}") for name in ("stepwise", "jumping")]
        yield "sqlite:///", engines[0], engines[1]
    else:
        request.getfixturevalue("postgres_available")
        schemas = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
        admin = create_database_engine(POSTGRES_URL)
        with admin.begin() as connection:
            for schema in schemas:
                connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        engines = [create_database_engine(POSTGRES_URL, schema=schema) for schema in schemas]
        try:
            yield POSTGRES_URL, engines[0], engines[1]
        finally:
            for engine in engines:
                engine.dispose()
            with admin.begin() as connection:
                for schema in schemas:
                    connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    for engine in engines:
        engine.dispose()


def test_the_course_keeps_its_promises_under_random_outcomes_and_clock_moves(twin_engines: tuple[str, Engine, Engine]) -> None:
    url, stepwise, jumping = twin_engines
    bots = (build_bot(stepwise, url), build_bot(jumping, url))
    machine = type("Course", (CourseMachine,), {"bots": bots})
    try:
        run_state_machine_as_test(machine, settings=COURSE_SETTINGS[os.environ.get("HYPOTHESIS_PROFILE", "ci")])
    finally:
        for bot in bots:
            bot.loop.close()
