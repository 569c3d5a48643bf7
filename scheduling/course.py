"""Changing an invoice's course: acknowledging delivered steps, moving, pausing and resuming the
rest, and adding the steps outcomes call for (broken promise, instalments, dispute, follow-ups).

All functions work inside the caller's transaction (a command's session); the scheduler learns of
moved or added steps when the command commits.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from bot.models import Customer, Invoice, LadderStep, Person, Role, StepKind, StepState, Team
from scheduling.business_calendar import add_business_days, local_moment, next_working_slot
from scheduling.working_hours import hours_of

CHECK_TIME = time(10, 0)
"""Local time of the steps outcomes add (a promise check, an instalment reminder)."""
RESUME_GAP = timedelta(days=1)
"""After a broken-promise check, the ladder's next step follows one day later, then keeps its spacing."""


def steps_of(session: Session, invoice: Invoice, states: Iterable[StepState], kinds: Iterable[StepKind] | None = None) -> list[LadderStep]:
    query = select(LadderStep).where(LadderStep.invoice_id == invoice.id, col(LadderStep.state).in_(list(states)))
    if kinds is not None:
        query = query.where(col(LadderStep.kind).in_(list(kinds)))
    return list(session.exec(query.order_by(col(LadderStep.due_at), col(LadderStep.id))))


def awaiting_answer(session: Session, invoice: Invoice) -> list[LadderStep]:
    """Steps already delivered as pings and not yet answered."""
    return [step for step in steps_of(session, invoice, [StepState.SENT]) if step.acknowledged_at is None]


def acknowledge(session: Session, invoice: Invoice, outcome: str, now: datetime) -> list[LadderStep]:
    """Record the answer to every delivered ping of the invoice (stops their follow-ups)."""
    answered = awaiting_answer(session, invoice)
    for step in answered:
        step.state = StepState.ACKNOWLEDGED
        step.acknowledged_at = now
        step.outcome = outcome
        session.add(step)
    return answered


def responsible_person(session: Session, invoice: Invoice, role: Role | str) -> Person:
    """Who does a step of this role on this invoice: the collector falls back to the owner; a
    lawyer step goes to the team's lawyer; a manager role (and a lawyer step without a lawyer) to
    the owner's manager, then any manager, then the owner."""
    owner = session.get(Person, invoice.owner_id)
    assert owner is not None
    if role == Role.COLLECTOR and invoice.collector_id:
        collector = session.get(Person, invoice.collector_id)
        if collector is not None and collector.active:
            return collector
    if role == Role.LAWYER:
        lawyer = session.exec(select(Person).where(Person.team_id == invoice.team_id, Person.role == Role.LAWYER,
                                                   Person.active == True).order_by(col(Person.id))).first()  # noqa: E712
        if lawyer is not None:
            return lawyer
    if role in (Role.MANAGER, Role.LAWYER):
        return manager_of(session, owner) or owner
    return owner


def manager_of(session: Session, person: Person) -> Person | None:
    if person.manager_id:
        manager = session.get(Person, person.manager_id)
        if manager is not None and manager.active and manager.id != person.id:
            return manager
    others = session.exec(
        select(Person).where(Person.team_id == person.team_id, Person.active == True, Person.id != person.id)  # noqa: E712
        .order_by(col(Person.id))
    ).all()
    return next((p for p in others if p.role == Role.MANAGER), None) or next((p for p in others if p.is_admin), None)


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


def add_step(
    session: Session,
    invoice: Invoice,
    *,
    kind: StepKind,
    person: Person,
    due_at: datetime,
    name: str,
    instruction: str,
    stage: str,
    tone: str,
    action: str = "call",
    ack_within_seconds: int = 4 * 3600,
) -> LadderStep:
    position = max((s.position for s in steps_of(session, invoice, list(StepState))), default=0)
    step = LadderStep(
        invoice_id=invoice.id, position=position, name=name, action=action, responsible_role=person.role.value,  # type: ignore[arg-type]
        responsible_id=person.id, stage=stage, tone=tone, instruction=instruction,
        ack_within_seconds=ack_within_seconds, due_at=due_at, kind=kind,
    )
    session.add(step)
    return step


def cancel_steps(session: Session, steps: Iterable[LadderStep], outcome: str | None = None) -> int:
    count = 0
    for step in steps:
        step.state = StepState.CANCELLED
        step.outcome = outcome or step.outcome
        session.add(step)
        count += 1
    return count


def retime(session: Session, steps: Sequence[LadderStep], first_at: datetime) -> None:
    """Move steps so the first is at `first_at` and the rest keep their spacing, each then moved
    into its person's working hours (and never before the one before it)."""
    if not steps:
        return
    delta = first_at - steps[0].due_at
    previous: datetime | None = None
    for step in steps:
        moment = step.due_at + delta
        if previous is not None and moment <= previous:
            moment = previous + timedelta(minutes=1)
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
