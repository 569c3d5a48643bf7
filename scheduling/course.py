"""An invoice's course: the one place that changes its steps and its state.

Each outcome (payment, promise, official letter, dispute and resolve, payment plan, snooze, no
answer, done, cancel, reopen, undoing a payment, a change of facts, a person leaving) is a function
here. It moves steps only through the step state machine (`step_machine.move`), adds the steps the
outcome calls for, and records a domain event (`course_events`) that the dispatcher turns into the
history entry. Handlers parse, call one of these and render the result; they set no fields.

The rules are written down in the README table "How outcomes change the ladder".
All functions work inside the caller's transaction (a command's session), which holds the
invoice's row from before it read anything about it (`handlers.core` takes it for every command
that changes a course; bot.store.row_locks): what they compute from the invoice, its payments and
its steps no other command changes before it commits.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlmodel import Session, col, func, select

from bot.store.row_locks import lock_invoices, locked_in_id_order
from bot.store.models import Customer, Instalment, Invoice, InvoiceStatus, LadderStep, Payment, Person, Role, StepKind, StepState, Team
from scheduling.business_calendar import add_business_days, local_moment, next_working_slot
from scheduling.course_events import CourseEvent, record
from scheduling.step_machine import CANCEL_OPEN, OPEN_STATES, move, move_all, moved_during
from scheduling.step_texts import StoredText, day, english, money, name_of, text
from scheduling.working_hours import hours_of

if TYPE_CHECKING:
    from scheduling.course_context import CourseContext as Context
    from scheduling.planning import PlannedStep
    from scheduling.policies import LadderPolicy

CHECK_TIME = time(10, 0)
"""Local time of the steps outcomes add (a promise check, an instalment reminder)."""
RESUME_GAP = timedelta(days=1)
"""After a broken-promise check, the ladder's next step follows one day later, then keeps its spacing."""
DISPUTE_REMINDER_BUSINESS_DAYS = 3
"""An open dispute is brought up again to whoever holds it this often, until it is resolved."""
MIN_SPACING = timedelta(hours=1)
"""Steps moved together (a pause ending) keep their own spacing, and at least this much."""
MAX_RETRIES = 2
RETRY_AFTER = timedelta(hours=2)


# ---------------------------------------------------------------------------------------------
# Looking things up


def steps_of(session: Session, invoice: Invoice, states: Iterable[StepState], kinds: Iterable[StepKind] | None = None) -> list[LadderStep]:
    query = select(LadderStep).where(LadderStep.invoice_id == invoice.id, col(LadderStep.state).in_(list(states)))
    if kinds is not None:
        query = query.where(col(LadderStep.kind).in_(list(kinds)))
    return list(session.exec(query.order_by(col(LadderStep.due_at), col(LadderStep.id))))


def awaiting_answer(session: Session, invoice: Invoice, person: Person | None = None) -> list[LadderStep]:
    """Steps already delivered as pings and not yet answered (of one person, if given)."""
    return [step for step in steps_of(session, invoice, [StepState.SENT])
            if step.acknowledged_at is None and (person is None or step.responsible_id == person.id)]


def responsible_person(session: Session, invoice: Invoice, role: Role | str) -> Person:
    """Who does a step of this role on this invoice: the collector falls back to the owner; a
    lawyer step goes to the team's lawyer; a manager role (and a lawyer step without a lawyer) to
    the owner's manager, then any manager, then the owner."""
    return responsible_people(session, invoice, (role,))[role]


def responsible_people(session: Session, invoice: Invoice, roles: Iterable[Role | str] = tuple(Role)) -> dict[Role | str, Person]:
    """`responsible_person` for each of `roles`, the owner's manager looked up once."""
    owner = session.get(Person, invoice.owner_id)
    assert owner is not None
    manager: list[Person] = []

    def owners_manager() -> Person:
        if not manager:
            manager.append(manager_of(session, owner) or owner)
        return manager[0]

    people: dict[Role | str, Person] = {}
    for role in roles:
        person = owner
        if role == Role.COLLECTOR and invoice.collector_id:
            collector = session.get(Person, invoice.collector_id)
            if collector is not None and collector.active:
                person = collector
        elif role == Role.LAWYER:
            person = session.exec(select(Person).where(Person.team_id == invoice.team_id, Person.role == Role.LAWYER,
                                                       Person.active == True).order_by(col(Person.id))).first() or owners_manager()  # noqa: E712
        elif role == Role.MANAGER:
            person = owners_manager()
        people[role] = person
    return people


def manager_of(session: Session, person: Person) -> Person | None:
    """The person's own manager, else the team's first manager, else its first admin."""
    if person.manager_id:
        manager = session.get(Person, person.manager_id)
        if manager is not None and manager.active and manager.id != person.id:
            return manager
    is_manager = col(Person.role) == Role.MANAGER
    return session.exec(select(Person).where(
        Person.team_id == person.team_id, Person.active == True, Person.id != person.id,  # noqa: E712
        is_manager | (col(Person.is_admin) == True),  # noqa: E712
    ).order_by(sa.case((is_manager, 0), else_=1), col(Person.id)).limit(1)).first()


def country_of(session: Session, invoice: Invoice) -> str:
    customer = session.get(Customer, invoice.customer_id)
    team = session.get(Team, invoice.team_id)
    return (customer.country if customer else None) or (team.default_country if team else "NO")


def working_slot(session: Session, person: Person, moment: datetime) -> datetime:
    team = session.get(Team, person.team_id)
    return next_working_slot(moment, hours_of(person, team))


def morning_after(session: Session, invoice: Invoice, person: Person, day: date, business_days: int) -> datetime:
    """`business_days` after `day` (customer's calendar) at CHECK_TIME in the person's time zone,
    moved into their working hours."""
    target = add_business_days(day, business_days, country_of(session, invoice))
    return working_slot(session, person, local_moment(target, CHECK_TIME, person.timezone))


def payments_of(session: Session, invoice: Invoice, *, undone: bool = False) -> list[Payment]:
    query = select(Payment).where(Payment.invoice_id == invoice.id)
    query = query.where(col(Payment.undone_at).is_not(None) if undone else col(Payment.undone_at).is_(None))
    return list(session.exec(query.order_by(col(Payment.recorded_at), col(Payment.id))))


def paid_so_far(session: Session, invoice: Invoice) -> Decimal:
    return sum((p.amount for p in payments_of(session, invoice)), Decimal(0))


def broken_promises(session: Session, invoice: Invoice) -> int:
    """Promise follow-ups that went out: each is one broken promise, however often it was re-sent."""
    return max(invoice.broken_promises, len(session.exec(select(LadderStep.id).where(
        LadderStep.invoice_id == invoice.id, LadderStep.kind == StepKind.BROKEN_PROMISE,
        col(LadderStep.first_sent_at).is_not(None) | col(LadderStep.state).in_(DELIVERED_ONCE))).all()))


DELIVERED_ONCE = (StepState.ACKNOWLEDGED, StepState.UNDELIVERABLE)
"""States a step only reaches after it went out (or was tried for good), whatever its `sent_at` says now."""


def steps_delivered(connection: Connection, step_ids: Sequence[int]) -> None:
    """What delivering steps means for their invoices: a delivered promise follow-up means the
    promise was broken. Each follow-up counts once, however often it goes out (snoozed, retried,
    handed over, a confirmation repeated): the invoice's count is the number of follow-ups that
    have ever gone out — by `first_sent_at`, which re-arming never clears (a re-armed follow-up
    has no `sent_at` until it goes out again, yet it still counts while a later one goes out) —
    and it never goes down. Called by the due table inside the transaction that marks the steps sent."""
    steps = LadderStep.__table__  # type: ignore[attr-defined]
    invoices = Invoice.__table__  # type: ignore[attr-defined]
    touched = sa.select(steps.c.invoice_id).where(
        steps.c.id.in_(step_ids), steps.c.kind == StepKind.BROKEN_PROMISE.value)
    gone_out = (
        sa.select(sa.func.count(steps.c.id))
        .where(steps.c.invoice_id == invoices.c.id, steps.c.kind == StepKind.BROKEN_PROMISE.value,
               steps.c.first_sent_at.is_not(None) | steps.c.state.in_([state.value for state in DELIVERED_ONCE]))
        .scalar_subquery()
    )
    connection.execute(
        sa.update(invoices).where(locked_in_id_order(connection, invoices, invoices.c.id.in_(touched))).values(
            broken_promises=sa.case((gone_out > invoices.c.broken_promises, gone_out), else_=invoices.c.broken_promises))
    )


# ---------------------------------------------------------------------------------------------
# Building blocks


def add_step(
    session: Session,
    invoice: Invoice,
    *,
    kind: StepKind,
    person: Person,
    due_at: datetime,
    name: StoredText,
    instruction: StoredText,
    stage: str,
    tone: str,
    action: str = "call",
    ack_within_seconds: int = 4 * 3600,
    follows: LadderStep | None = None,
) -> LadderStep:
    position = max((s.position for s in steps_of(session, invoice, list(StepState))), default=0)
    step = LadderStep(
        invoice_id=invoice.id, position=position, name=english(name), action=action, responsible_role=person.role.value,  # type: ignore[arg-type]
        responsible_id=person.id, stage=stage, tone=tone, instruction=english(instruction),
        ack_within_seconds=ack_within_seconds, due_at=due_at, kind=kind,
        follows_step_id=follows.id if follows is not None else None, texts={"name": name, "instruction": instruction},
    )
    session.add(step)
    return step


def cancel_steps(session: Session, steps: Iterable[LadderStep], at: datetime, outcome: str | None = None) -> int:
    count = 0
    for step in steps:
        move(session, step, StepState.CANCELLED, at, outcome)
        count += 1
    return count


def retime(session: Session, steps: Sequence[LadderStep], first_at: datetime) -> None:
    """Move steps so the first is at `first_at` and the rest follow with their own spacing (and at
    least MIN_SPACING), each moved into its person's working hours: a pause that ends never
    squeezes the ladder into one morning."""
    if not steps:
        return
    gaps = [max(later.due_at - earlier.due_at, MIN_SPACING) for earlier, later in zip(steps, steps[1:], strict=False)]
    previous: datetime | None = None
    for index, step in enumerate(steps):
        moment = first_at if previous is None else max(step.due_at, previous + gaps[index - 1])
        person = session.get(Person, step.responsible_id) if step.responsible_id else None
        step.due_at = working_slot(session, person, moment) if person else moment
        previous = step.due_at
        session.add(step)


def pending_ladder(session: Session, invoice: Invoice) -> list[LadderStep]:
    return steps_of(session, invoice, [StepState.PENDING], [StepKind.LADDER])


def push_ladder_after(session: Session, invoice: Invoice, moment: datetime) -> None:
    """The ladder waits: its pending steps move to follow `moment` (keeping their spacing)."""
    ladder = pending_ladder(session, invoice)
    if ladder and ladder[0].due_at <= moment + RESUME_GAP:
        retime(session, ladder, moment + RESUME_GAP)


def held_by_promise(session: Session, step_ids: Iterable[int], now: datetime) -> set[int]:
    """Ladder steps about to go out that a promise recorded meanwhile puts on hold: each goes back
    to wait, with the rest of its ladder, behind the promise's follow-up (the course's promise
    rule, asked by the scheduler just before sending). Returns the ids of the steps held back.
    Their invoices are locked before any of their steps (bot.store.row_locks), and read again."""
    ids = list(step_ids)
    if not ids:
        return set()
    promised = select(LadderStep, Invoice).join(Invoice, col(Invoice.id) == LadderStep.invoice_id).where(
        col(LadderStep.id).in_(ids), LadderStep.kind == StepKind.LADDER, LadderStep.state == StepState.SENDING,
        col(Invoice.promised_date).is_not(None))
    candidates = session.exec(promised).all()
    if not candidates:
        return set()
    lock_invoices(session.connection(), {step.invoice_id for step, _invoice in candidates})
    candidates = session.exec(promised.execution_options(populate_existing=True)).all()
    held: set[int] = set()
    for step, invoice in candidates:
        check = session.exec(select(LadderStep).where(
            LadderStep.invoice_id == invoice.id, LadderStep.kind == StepKind.BROKEN_PROMISE,
            LadderStep.state == StepState.PENDING, col(LadderStep.due_at) > step.due_at,
        ).order_by(col(LadderStep.due_at))).first()
        if check is None:
            continue
        move(session, step, StepState.PENDING, now)
        session.flush()
        push_ladder_after(session, invoice, check.due_at)
        assert step.id is not None
        held.add(step.id)
    return held


def followers_of(session: Session, steps: Sequence[LadderStep]) -> list[LadderStep]:
    """Nudges and escalations about these steps that still wait to go out or for an answer."""
    ids = [s.id for s in steps]
    if not ids:
        return []
    return list(session.exec(select(LadderStep).where(
        col(LadderStep.follows_step_id).in_(ids),
        col(LadderStep.state).in_([StepState.PENDING, StepState.SENT, StepState.PAUSED]))))


def answer(session: Session, steps: Sequence[LadderStep], outcome: str, now: datetime) -> list[LadderStep]:
    """Answer delivered pings (and the reminders about them): no follow-up comes for them."""
    answered: list[LadderStep] = []
    seen: set[int | None] = set()
    queue = list(steps)
    while queue:
        step = queue.pop(0)
        if step.id in seen:
            continue
        seen.add(step.id)
        if step.state == StepState.SENT:
            move(session, step, StepState.ACKNOWLEDGED, now, outcome)
            answered.append(step)
        elif step.state in (StepState.PENDING, StepState.PAUSED) and step.follows_step_id is not None:
            move(session, step, StepState.CANCELLED, now, outcome)
        queue.extend(followers_of(session, [step]))
        if step.follows_step_id is not None:
            original = session.get(LadderStep, step.follows_step_id)
            if original is not None and original.state == StepState.SENT:
                queue.append(original)
    return answered


def answer_all(session: Session, invoice: Invoice, outcome: str, now: datetime) -> list[LadderStep]:
    """An outcome that changes the whole course answers every delivered ping of the invoice. A
    gate (the formal claim) answered so is not confirmed sent: it goes out again after the pause
    (unless the invoice closes: `close_course`)."""
    waiting = awaiting_answer(session, invoice)
    answered = answer(session, waiting, outcome, now)
    for gate in [s for s in answered if s.gate]:
        again = LadderStep(**{k: v for k, v in gate.model_dump().items()
                              if k not in ("id", "state", "claimed_by", "claimed_at", "sent_at", "first_sent_at", "acknowledged_at",
                                           "attempts", "nudges", "retries", "outcome")})
        holder = session.get(Person, gate.responsible_id) if gate.responsible_id else None
        again.due_at = working_slot(session, holder, now) if holder else now
        session.add(again)
    if any(s.gate for s in answered):
        session.flush()
    return answered


def close_open_steps(session: Session, invoice: Invoice, outcome: str, now: datetime) -> int:
    return cancel_steps(session, steps_of(session, invoice, OPEN_STATES), now, outcome)


def close_course(session: Session, invoice: Invoice, outcome: str, now: datetime) -> int:
    """The invoice closes (paid, cancelled): its delivered pings are answered and every step still
    to come is cancelled. Its steps are read once as plain rows, and cancelled in one statement.
    Returns how many were cancelled."""
    session.flush()
    rows = session.connection().execute(_steps_to_close(), {"invoice": invoice.id}).all()
    unanswered = [row.id for row in rows if row.state == StepState.SENT.value and row.acknowledged_at is None]
    moved: set[int] = set()
    if unanswered:
        delivered = session.exec(select(LadderStep).where(col(LadderStep.id).in_(unanswered))
                                 .order_by(col(LadderStep.due_at), col(LadderStep.id))).all()
        moved = moved_during(session, lambda: answer(session, delivered, outcome, now))
    return move_all(session, [row for row in rows if row.id not in moved], CANCEL_OPEN, now, outcome)


@functools.cache
def _steps_to_close() -> sa.Select[Any]:
    """`close_course`'s read, built once, its states written into the SQL."""
    steps = LadderStep.__table__  # type: ignore[attr-defined]
    states: list[sa.ColumnElement[str]] = [sa.literal_column(f"'{state}'") for state in (StepState.SENT.value, *CANCEL_OPEN.sources)]
    return (sa.select(steps.c.id, steps.c.invoice_id, steps.c.name, steps.c.state, steps.c.acknowledged_at)
            .where(steps.c.invoice_id == sa.bindparam("invoice"), steps.c.state.in_(states))
            .order_by(steps.c.due_at, steps.c.id))


def event(ctx: "Context", kind: str, invoice: Invoice, **facts: Any) -> CourseEvent:
    """Record what happened; listeners registered as invoice hooks are told, in the transaction."""
    recorded = record(ctx.session, CourseEvent(kind=kind, team_id=invoice.team_id, invoice_id=invoice.id,
                                               actor_id=ctx.actor.id if ctx.actor else None, at=ctx.now, facts=facts))
    for hook in ctx.services.invoice_hooks:
        told = getattr(hook, "invoice_changed", None)
        if told is not None:
            told(ctx, invoice)
    return recorded


def policy_of(ctx: "Context", invoice: Invoice) -> "LadderPolicy | None":
    return ctx.services.ladders.get(invoice.ladder)


def promise_grace_days(ctx: "Context", invoice: Invoice) -> int:
    policy = policy_of(ctx, invoice)
    return policy.promise_grace_business_days if policy else 1


# ---------------------------------------------------------------------------------------------
# The outcomes


def start(ctx: "Context", invoice: Invoice, **facts: Any) -> list["PlannedStep"]:
    """A new invoice: its ladder is planned (an overdue one starts at the late-entry step).
    Returns the steps as planned."""
    keeper = ctx.services.ladder_keeper
    planned = keeper.start(ctx, invoice) if keeper is not None else []
    event(ctx, "added", invoice, **facts)
    return planned


@dataclass(frozen=True)
class PaymentResult:
    paid: Decimal
    full: bool
    balance: Decimal


def identical_payment_today(ctx: "Context", earlier: Sequence[Payment], amount: Decimal, zone: str) -> Payment | None:
    """Of an invoice's payments (`payments_of`), one of this amount recorded today."""
    today = ctx.now.astimezone(ZoneInfo(zone)).date()
    return next((p for p in earlier if p.amount == amount and p.recorded_at.astimezone(ZoneInfo(zone)).date() == today), None)


def pay(ctx: "Context", invoice: Invoice, amount: Decimal, earlier: Sequence[Payment] | None = None) -> PaymentResult:
    """Full payment: every step to come is cancelled at once and delivered pings are answered.
    Partial: the balance shrinks, the ladder goes on; instalments it covers lose their checks.
    `earlier`: the invoice's payments so far (`payments_of`), when the caller has them already."""
    session, now = ctx.session, ctx.now
    before = paid_so_far(session, invoice) if earlier is None else sum((p.amount for p in earlier), Decimal(0))
    session.add(Payment(invoice_id=invoice.id, amount=amount, recorded_by=ctx.actor.id if ctx.actor else None,  # type: ignore[arg-type]
                        recorded_at=now))
    session.flush()
    invoice.balance = invoice.amount - before - amount
    if invoice.balance <= 0:
        invoice.status, invoice.paid_at = InvoiceStatus.PAID, now
        session.add(invoice)
        close_course(session, invoice, "paid", now)
        event(ctx, "paid", invoice, amount=str(amount), currency=invoice.currency)
        return PaymentResult(amount, True, invoice.balance)
    session.add(invoice)
    if ctx.actor is not None:
        answer(session, awaiting_answer(session, invoice, ctx.actor), "partial payment", now)
    follow_plan(ctx, invoice)
    event(ctx, "partial_payment", invoice, amount=str(amount), balance=str(invoice.balance), currency=invoice.currency)
    return PaymentResult(amount, False, invoice.balance)


def follow_plan(ctx: "Context", invoice: Invoice) -> None:
    """A payment during a payment plan: instalments now covered lose their checks, and the main
    ladder waits behind the next instalment still open."""
    session = ctx.session
    instalments = list(session.exec(select(Instalment).where(Instalment.invoice_id == invoice.id).order_by(col(Instalment.sequence))))
    if not instalments:
        return
    paid = sum((i.amount for i in instalments), Decimal(0)) - invoice.balance
    covered, running = 0, Decimal(0)
    for instalment in instalments:
        running += instalment.amount
        if running <= paid:
            covered = instalment.sequence
    open_checks = steps_of(session, invoice, [StepState.PENDING], [StepKind.INSTALMENT])
    for step in open_checks:
        if instalment_number(step) <= covered:
            move(session, step, StepState.CANCELLED, ctx.now, "instalment paid")
    remaining = [s for s in open_checks if instalment_number(s) > covered and s.name.endswith("check")]
    if remaining:
        push_ladder_after(session, invoice, remaining[0].due_at)


def instalment_number(step: LadderStep) -> int:
    return int(step.name.split()[1])


@dataclass(frozen=True)
class PromiseResult:
    check_at: datetime
    person: Person
    grace: int
    broken_so_far: int


def promise(ctx: "Context", invoice: Invoice, promised: date, *, written: bool, amount: Decimal | None) -> PromiseResult:
    """Pause until the promised date plus grace; then a promise follow-up (the broken-promise
    step), and the ladder resumes after it at its own spacing. A new promise replaces the old check."""
    session, now = ctx.session, ctx.now
    answer_all(session, invoice, "letter" if written else "promised", now)
    cancel_steps(session, steps_of(session, invoice, [StepState.PENDING], [StepKind.BROKEN_PROMISE]), now, "superseded")
    person = responsible_person(session, invoice, Role.COLLECTOR)
    grace = promise_grace_days(ctx, invoice)
    check_at = morning_after(session, invoice, person, promised, grace)
    add_step(
        session, invoice, kind=StepKind.BROKEN_PROMISE, person=person, due_at=check_at,
        name=text("promise_follow_up"), stage="broken_promise", tone="firm",
        instruction=text("letter_not_kept" if written else "promise_not_kept", date=day(promised)),
    )
    push_ladder_after(session, invoice, check_at)
    invoice.promised_date = promised
    session.add(invoice)
    event(ctx, "letter" if written else "promise", invoice, promised_date=promised.isoformat(),
          amount=str(amount) if amount is not None else None, currency=invoice.currency, written=written)
    return PromiseResult(check_at, person, grace, broken_promises(session, invoice))


@dataclass(frozen=True)
class DisputeResult:
    manager: Person
    owner: Person
    paused: int


def dispute(ctx: "Context", invoice: Invoice, reason: str) -> DisputeResult:
    """Everything to come pauses (steps behind a gate keep waiting); the owner's manager gets a
    dispute step that comes back every few business days until the dispute is resolved."""
    session, now = ctx.session, ctx.now
    answer_all(session, invoice, "disputed", now)
    paused = steps_of(session, invoice, [StepState.PENDING])
    for step in paused:
        move(session, step, StepState.PAUSED, now)
    invoice.status, invoice.dispute_reason = InvoiceStatus.DISPUTED, reason
    session.add(invoice)
    owner = responsible_person(session, invoice, Role.SALESPERSON)
    manager = responsible_person(session, invoice, Role.MANAGER)
    add_dispute_step(session, invoice, manager, working_slot(session, manager, now), reason, first=True)
    event(ctx, "dispute", invoice, reason=reason, manager=manager.handle)
    return DisputeResult(manager, owner, len(paused))


def add_dispute_step(session: Session, invoice: Invoice, holder: Person, due_at: datetime, reason: str, *, first: bool) -> LadderStep:
    return add_step(
        session, invoice, kind=StepKind.DISPUTE, person=holder, due_at=due_at,
        name=text("dispute_to_resolve" if first else "dispute_still_open"), stage="dispute", tone="neutral",
        action="check-in", instruction=text("dispute_instruction", invoice=invoice.number, reason=reason),
    )


@dataclass(frozen=True)
class ResolveResult:
    reason: str | None
    old_amount: Decimal
    new_amount: Decimal | None
    paid_in_full: bool


def resolve(ctx: "Context", invoice: Invoice, new_amount: Decimal | None) -> ResolveResult:
    """The ladder resumes where it paused: what fell due during the dispute comes at the next
    working slot and the rest keep their spacing; a standing promise keeps its date (its check
    never comes before the promised date plus grace, and the ladder stays behind it)."""
    session, now = ctx.session, ctx.now
    old_amount = invoice.amount
    if new_amount is not None:
        invoice.amount = new_amount
        invoice.balance = new_amount - paid_so_far(session, invoice)
    answer(session, [s for s in awaiting_answer(session, invoice) if s.kind == StepKind.DISPUTE], "resolved", now)
    cancel_steps(session, steps_of(session, invoice, [StepState.PENDING, StepState.PAUSED], [StepKind.DISPUTE]), now, "resolved")
    reason, invoice.dispute_reason = invoice.dispute_reason, None
    paused = steps_of(session, invoice, [StepState.PAUSED])
    if invoice.balance <= 0:
        invoice.status, invoice.paid_at = InvoiceStatus.PAID, now
        session.add(invoice)
        close_open_steps(session, invoice, "paid", now)
    else:
        invoice.status = InvoiceStatus.OPEN
        session.add(invoice)
        for step in paused:
            move(session, step, StepState.PENDING, now)
        slot = working_slot(session, responsible_person(session, invoice, Role.COLLECTOR), now)
        for step in [s for s in paused if s.kind != StepKind.LADDER]:
            if step.due_at < slot:
                step.due_at = slot
                session.add(step)
        ladder = [s for s in paused if s.kind == StepKind.LADDER]
        if ladder and ladder[0].due_at < slot:
            retime(session, ladder, slot)
        check = steps_of(session, invoice, [StepState.PENDING], [StepKind.BROKEN_PROMISE])
        if check:
            push_ladder_after(session, invoice, check[0].due_at)
    event(ctx, "resolved", invoice, reason=reason, old_amount=str(old_amount),
          new_amount=str(new_amount) if new_amount is not None else None, currency=invoice.currency)
    return ResolveResult(reason, old_amount, new_amount, invoice.status == InvoiceStatus.PAID)


def payment_plan(ctx: "Context", invoice: Invoice, dates: Sequence[date], amounts: Sequence[Decimal]) -> None:
    """Each instalment gets a reminder the business day before and a check the business day after;
    the main ladder waits behind the first check (and, as instalments are paid, the next)."""
    session, now = ctx.session, ctx.now
    answer_all(session, invoice, "payment plan", now)
    person = responsible_person(session, invoice, Role.COLLECTOR)
    for sequence, (due, amount) in enumerate(zip(dates, amounts, strict=True), start=1):
        label = text("instalment_label", number=sequence, count=len(dates), amount=money(amount, invoice.currency), date=day(due))
        session.add(Instalment(invoice_id=invoice.id, sequence=sequence, amount=amount, due_date=due, created_at=now))  # type: ignore[arg-type]
        add_step(session, invoice, kind=StepKind.INSTALMENT, person=person,
                 due_at=max(morning_after(session, invoice, person, due, -1), working_slot(session, person, now)),
                 name=text("instalment_reminder", sequence=sequence), stage="pre_due", tone="warm",
                 instruction=text("instalment_reminder_instruction", label=label))
        add_step(session, invoice, kind=StepKind.INSTALMENT, person=person,
                 due_at=morning_after(session, invoice, person, due, 1),
                 name=text("instalment_check", sequence=sequence), stage="first_reminder", tone="neutral",
                 instruction=text("instalment_check_instruction", label=label))
    session.flush()
    first_check = [s for s in steps_of(session, invoice, [StepState.PENDING], [StepKind.INSTALMENT]) if s.name.endswith("check")][0]
    push_ladder_after(session, invoice, first_check.due_at)
    event(ctx, "plan", invoice, instalments=[{"due": d.isoformat(), "amount": str(a)} for d, a in zip(dates, amounts, strict=True)],
          currency=invoice.currency)


def snooze_target(ctx: "Context", invoice: Invoice) -> LadderStep | None:
    """What a snooze moves: the person's latest unanswered ping, else the next step to come."""
    waiting = awaiting_answer(ctx.session, invoice, ctx.actor) or awaiting_answer(ctx.session, invoice)
    pending = steps_of(ctx.session, invoice, [StepState.PENDING])
    return waiting[-1] if waiting else (pending[0] if pending else None)


def next_after(ctx: "Context", invoice: Invoice, step: LadderStep) -> LadderStep | None:
    later = [s for s in steps_of(ctx.session, invoice, [StepState.PENDING, StepState.WAITING])
             if s.id != step.id and s.due_at > step.due_at]
    return later[0] if later else None


def within_hours(ctx: "Context", step: LadderStep, moment: datetime) -> datetime:
    """`moment`, or the start of the step's person's next working slot if it falls outside it."""
    person = ctx.session.get(Person, step.responsible_id) if step.responsible_id else ctx.actor
    policy = policy_of(ctx, ctx.session.get(Invoice, step.invoice_id))  # type: ignore[arg-type]
    if person is None or (policy is not None and policy.ignores_working_hours):
        return moment
    return working_slot(ctx.session, person, moment)


def snooze(ctx: "Context", invoice: Invoice, step: LadderStep, until: datetime) -> None:
    """A snooze moves one step, never past the next (the handler refuses that)."""
    if step.state == StepState.SENT:
        move(ctx.session, step, StepState.PENDING, ctx.now, "snoozed")
    step.due_at = until
    ctx.session.add(step)
    event(ctx, "snooze", invoice, step=step.id, name=name_of(step), until=until.isoformat())


@dataclass(frozen=True)
class NoAnswerResult:
    step: LadderStep
    gave_up: bool
    retry_at: datetime | None


def no_answer(ctx: "Context", invoice: Invoice, step: LadderStep) -> NoAnswerResult:
    """Nobody answered the call: tried again later, twice; then counted as done without contact."""
    session, now = ctx.session, ctx.now
    if step.retries >= MAX_RETRIES:
        answer(session, [step], "no contact", now)
        confirm_gate(ctx, invoice, step)
        event(ctx, "no_contact", invoice, step=step.id, name=name_of(step), tries=MAX_RETRIES + 1)
        return NoAnswerResult(step, True, None)
    person = (session.get(Person, step.responsible_id) if step.responsible_id else None) or ctx.person
    retry_at = working_slot(session, person, now + RETRY_AFTER)
    step.retries += 1
    move(session, step, StepState.PENDING, now, "no answer")
    step.due_at = retry_at
    session.add(step)
    event(ctx, "no_answer", invoice, step=step.id, name=name_of(step), retry=step.retries, of=MAX_RETRIES, at=retry_at.isoformat())
    return NoAnswerResult(step, False, retry_at)


@dataclass(frozen=True)
class DoneResult:
    answered: list[LadderStep]
    early: bool


def steps_to_mark_done(ctx: "Context", invoice: Invoice) -> tuple[list[LadderStep], bool]:
    """An answer closes the step it answers, nothing else: the person's own delivered pings on
    this invoice (a manager answering an escalation also answers the step it is about). A manager
    with none of their own takes the oldest waiting one. With nothing delivered, today's next step
    of theirs can be marked done early."""
    person = ctx.person
    own = awaiting_answer(ctx.session, invoice, person)
    if own:
        return own, False
    others = awaiting_answer(ctx.session, invoice)
    if others and person.is_manager:
        return others[:1], False
    return [], False


def done(ctx: "Context", invoice: Invoice, steps: Sequence[LadderStep], note: str | None, *, early: bool) -> DoneResult:
    session, now = ctx.session, ctx.now
    if early:
        answered = []
        for step in steps:
            move(session, step, StepState.ACKNOWLEDGED, now, "done early")
            answered.append(step)
    else:
        answered = answer(session, steps, "done", now)
    for step in answered:
        confirm_gate(ctx, invoice, step)
    dispute_steps = [s for s in answered if s.kind == StepKind.DISPUTE and s.follows_step_id is None]
    if dispute_steps and invoice.status == InvoiceStatus.DISPUTED:
        holder = session.get(Person, dispute_steps[0].responsible_id) if dispute_steps[0].responsible_id else ctx.person
        assert holder is not None
        again = morning_after(session, invoice, holder, now.astimezone(ZoneInfo(holder.timezone)).date(),
                              DISPUTE_REMINDER_BUSINESS_DAYS)
        add_dispute_step(session, invoice, holder, again, invoice.dispute_reason or "", first=False)
    event(ctx, "done", invoice, steps=[s.id for s in answered], names=[name_of(s) for s in answered], note=note)
    return DoneResult(answered, early)


def confirm_gate(ctx: "Context", invoice: Invoice, step: LadderStep) -> None:
    """A gate confirmed done: its deadline counts from today, and the steps waiting behind it are
    planned from now at the ladder's spacing, the first never before the deadline has passed."""
    if not step.gate or step.kind != StepKind.LADDER:
        return
    session, now = ctx.session, ctx.now
    policy = policy_of(ctx, invoice)
    keeper = ctx.services.ladder_keeper
    if policy is None or keeper is None or step.position > len(policy.steps):
        return
    from scheduling.planning import follow_gate, gate_deadline

    person = session.get(Person, step.responsible_id) if step.responsible_id else ctx.person
    assert person is not None
    country = country_of(session, invoice)
    gate_policy = policy.steps[step.position - 1]
    if gate_policy.deadline_business_days:
        confirmed_day = now.astimezone(ZoneInfo(person.timezone)).date()
        step.deadline = gate_deadline(policy, gate_policy, confirmed_day, country)
        session.add(step)
    moments = follow_gate(policy, step.position - 1, now, step.deadline, country, keeper.people_for(ctx, invoice))
    waiting = {s.position: s for s in steps_of(session, invoice, [StepState.WAITING], [StepKind.LADDER])}
    for position, moment in enumerate(moments, start=step.position + 1):
        later = waiting.get(position)
        if later is None:
            continue
        if later.gate and position > step.position + 1:
            break
        later.due_at = moment
        move(session, later, StepState.PENDING, now, "gate confirmed")
        if later.gate:
            break
    event(ctx, "gate_confirmed", invoice, step=step.id, name=name_of(step),
          deadline=step.deadline.isoformat() if step.deadline else None)


def cancel(ctx: "Context", invoice: Invoice, reason: str) -> int:
    """Voided: nothing more goes out; the history stays. /reopen brings it back."""
    session, now = ctx.session, ctx.now
    invoice.status = InvoiceStatus.CANCELLED
    session.add(invoice)
    count = close_course(session, invoice, "cancelled", now)
    event(ctx, "cancelled", invoice, reason=reason)
    return count


@dataclass(frozen=True)
class UndoResult:
    payment: Payment
    reopened: bool


def last_payment(ctx: "Context", invoice: Invoice) -> Payment | None:
    payments = payments_of(ctx.session, invoice)
    return payments[-1] if payments else None


def undo_payment(ctx: "Context", invoice: Invoice, payment: Payment) -> UndoResult:
    """The last payment was a mistake: it is marked undone (kept), the balance grows back, and an
    invoice it had closed reopens with its ladder resuming after the last step that went out."""
    session, now = ctx.session, ctx.now
    payment.undone_at, payment.undone_by = now, ctx.actor.id if ctx.actor else None
    session.add(payment)
    session.flush()
    invoice.balance = invoice.amount - paid_so_far(session, invoice)
    reopened = invoice.status == InvoiceStatus.PAID
    if reopened:
        invoice.status, invoice.paid_at = InvoiceStatus.OPEN, None
    session.add(invoice)
    if reopened:
        resume_ladder(ctx, invoice)
    event(ctx, "payment_undone", invoice, amount=str(payment.amount), balance=str(invoice.balance),
          currency=invoice.currency, reopened=reopened)
    return UndoResult(payment, reopened)


def reopen(ctx: "Context", invoice: Invoice) -> None:
    """A cancelled invoice is open again; its ladder resumes after the last step that went out."""
    invoice.status, invoice.dispute_reason = InvoiceStatus.OPEN, None
    ctx.session.add(invoice)
    resume_ladder(ctx, invoice)
    event(ctx, "reopened", invoice)


CONFIRMING = ("done", "done early", "no contact")
"""Answers that confirm a gate step was carried out."""


def confirmed(step: LadderStep) -> bool:
    return step.state == StepState.ACKNOWLEDGED and step.outcome in CONFIRMING


def delivered_position(session: Session, invoice: Invoice) -> int:
    """The ladder position reached: the last step that went out; a gate counts only once confirmed
    (otherwise the ladder goes on from the gate itself, which goes out again)."""
    delivered = steps_of(session, invoice, [StepState.SENDING, StepState.SENT, StepState.ACKNOWLEDGED], [StepKind.LADDER])
    return max((s.position for s in delivered if not s.gate or confirmed(s)), default=0)


def plan_rest(ctx: "Context", invoice: Invoice) -> None:
    """Plan the ladder again after the position it reached; right after a confirmed gate the
    next steps count from now and never come before the gate's deadline has passed."""
    keeper = ctx.services.ladder_keeper
    if keeper is None:
        return
    session = ctx.session
    reached = delivered_position(session, invoice)
    new_steps = keeper.plan_again(ctx, invoice, reached)
    gate = next((s for s in steps_of(session, invoice, [StepState.ACKNOWLEDGED], [StepKind.LADDER])
                 if s.position == reached and s.gate and confirmed(s)), None)
    policy = policy_of(ctx, invoice)
    if gate is None or policy is None or not new_steps:
        return
    from scheduling.planning import follow_gate

    moments = follow_gate(policy, gate.position - 1, ctx.now, gate.deadline, country_of(session, invoice),
                          keeper.people_for(ctx, invoice))
    for step, moment in zip(sorted(new_steps, key=lambda s: s.position), moments, strict=False):
        step.due_at = moment
        session.add(step)


def resume_ladder(ctx: "Context", invoice: Invoice) -> None:
    """Plan the ladder again after its last delivered step (nothing delivered: as a new invoice)."""
    close_open_steps(ctx.session, invoice, "replanned", ctx.now)
    plan_rest(ctx, invoice)


@dataclass(frozen=True)
class ChangeResult:
    replanned: bool


def change(ctx: "Context", invoice: Invoice, *, due: date | None, owner: Person | None, collector: Person | None,
           ladder: str | None, history: dict[str, Any]) -> ChangeResult:
    """New facts: undelivered steps are planned again from now (delivered ones are not repeated).
    Once a gate (the claim) has gone out, the steps behind it keep counting from it: a new due
    date does not move them; a new person takes them over."""
    session, now = ctx.session, ctx.now
    keeper = ctx.services.ladder_keeper
    if ladder is not None and keeper is not None:
        keeper.policy(ladder)
    if due is not None:
        invoice.due_date = due
    if owner is not None:
        invoice.owner_id = owner.id  # type: ignore[assignment]
    if collector is not None:
        invoice.collector_id = collector.id
    if ladder is not None:
        invoice.ladder = ladder
    session.add(invoice)
    gate_out = any(s.gate for s in steps_of(session, invoice, [StepState.SENDING, StepState.SENT, StepState.ACKNOWLEDGED],
                                             [StepKind.LADDER]))
    replanned = False
    if keeper is not None and (not gate_out or ladder is not None):
        close_open_steps_of_kind(session, invoice, [StepKind.LADDER], now)
        plan_rest(ctx, invoice)
        session.flush()
        keep_behind_standing_checks(session, invoice)
        replanned = True
    elif keeper is not None:
        people = keeper.people_for(ctx, invoice)
        for step in steps_of(session, invoice, OPEN_STATES, [StepKind.LADDER]):
            assignee = people.get("owner" if step.responsible_role == "salesperson" else step.responsible_role)
            if assignee is not None:
                step.responsible_id = assignee.person_id
                session.add(step)
    event(ctx, "changed", invoice, replanned=replanned, **history)
    return ChangeResult(replanned)


def keep_behind_standing_checks(session: Session, invoice: Invoice) -> None:
    """A promise or an open instalment still stands: the re-planned ladder waits behind its check."""
    checks = [s for s in steps_of(session, invoice, [StepState.PENDING], [StepKind.BROKEN_PROMISE, StepKind.INSTALMENT])
              if s.kind == StepKind.BROKEN_PROMISE or s.name.endswith("check")]
    if checks:
        push_ladder_after(session, invoice, checks[0].due_at)


def close_open_steps_of_kind(session: Session, invoice: Invoice, kinds: Sequence[StepKind], now: datetime) -> None:
    cancel_steps(session, steps_of(session, invoice, [StepState.PENDING, StepState.PAUSED, StepState.WAITING], kinds), now, "replanned")


@dataclass
class Handover:
    invoices: int = 0
    steps: int = 0
    numbers: list[str] = field(default_factory=list)


def open_work_of(session: Session, person: Person) -> Handover:
    """What a person leaving still holds: open invoices they own or collect, steps to come."""
    invoices = list(session.exec(select(Invoice).where(
        (Invoice.owner_id == person.id) | (Invoice.collector_id == person.id),
        col(Invoice.status).in_([InvoiceStatus.OPEN, InvoiceStatus.DISPUTED]))))
    steps = session.exec(select(func.count()).select_from(LadderStep).where(
        LadderStep.responsible_id == person.id,
        col(LadderStep.state).in_([StepState.PENDING, StepState.SENDING, StepState.PAUSED, StepState.WAITING])
        | ((col(LadderStep.state) == StepState.SENT) & col(LadderStep.acknowledged_at).is_(None)))).one()
    return Handover(len(invoices), int(steps), sorted(i.number for i in invoices))


def hand_over(ctx: "Context", leaving: Person, successor: Person) -> Handover:
    """A person leaves: their open invoices and steps go to the successor; pings they had not
    answered go out again to the successor at their next working slot."""
    session, now = ctx.session, ctx.now
    lock_invoices(session.connection(), sa.select(col(Invoice.id)).where(sa.or_(
        col(Invoice.owner_id) == leaving.id, col(Invoice.collector_id) == leaving.id,
        col(Invoice.id).in_(sa.select(col(LadderStep.invoice_id)).where(col(LadderStep.responsible_id) == leaving.id)))))
    work = open_work_of(session, leaving)
    invoices = list(session.exec(select(Invoice).where(
        (Invoice.owner_id == leaving.id) | (Invoice.collector_id == leaving.id),
        col(Invoice.status).in_([InvoiceStatus.OPEN, InvoiceStatus.DISPUTED]))))
    for invoice in invoices:
        if invoice.owner_id == leaving.id:
            invoice.owner_id = successor.id  # type: ignore[assignment]
        if invoice.collector_id == leaving.id:
            invoice.collector_id = successor.id
        session.add(invoice)
    slot = working_slot(session, successor, now)
    steps = list(session.exec(select(LadderStep).where(LadderStep.responsible_id == leaving.id, col(LadderStep.state).in_(
        [StepState.PENDING, StepState.SENDING, StepState.PAUSED, StepState.WAITING, StepState.SENT, StepState.UNDELIVERABLE]))))
    touched: dict[int, Invoice] = {}
    for step in steps:
        if step.state == StepState.SENT and step.acknowledged_at is not None:
            continue
        step.responsible_id = successor.id
        if step.state in (StepState.SENT, StepState.UNDELIVERABLE):
            move(session, step, StepState.PENDING, now, "handed over")
            step.due_at = slot
        else:
            step.due_at = max(step.due_at, slot) if step.state == StepState.PENDING else step.due_at
        session.add(step)
        found = session.get(Invoice, step.invoice_id)
        if found is not None and found.id is not None:
            touched[found.id] = found
    for invoice in {i.id: i for i in [*invoices, *touched.values()]}.values():
        event(ctx, "handed_over", invoice, leaving=leaving.handle, successor=successor.handle)
    return work
