"""Unanswered pings: repeated once when their answer window passes, then escalated to the
responsible person's manager. Bringing the manager in is a visible event in the history.

Each reminder is linked to the step it is about (`follows_step_id`), so answering either answers
both, and reminders get no reminders of their own. A dispute's reminders are dispute steps: they go
out while the dispute pauses everything else, and the escalation goes up the holder's chain."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.store.models import Invoice, LadderStep, Person, StepKind, StepState, Team
from scheduling import course
from scheduling.business_calendar import add_working_time
from scheduling.event_texts import invoice_event
from scheduling.step_texts import name_of, text
from scheduling.working_hours import hours_of

ANSWERED_BY_FOLLOW_UP = (StepKind.NUDGE, StepKind.ESCALATION)
log = logging.getLogger(__name__)


def follow_up_unanswered(engine: Engine, now: datetime, round_the_clock: frozenset[str] = frozenset()) -> int:
    """Add a nudge or an escalation step for every delivered ping whose answer window (once, then
    twice) has passed; returns how many were added. The window counts the responsible person's
    working time, except on ladders in `round_the_clock` (those that ignore working hours). Safe to
    run on several instances at once: the `nudges` counter is advanced with a conditional update."""
    added = 0
    with Session(engine) as session:
        overdue = session.exec(
            select(LadderStep).where(
                LadderStep.state == StepState.SENT,
                col(LadderStep.acknowledged_at).is_(None),
                LadderStep.nudges < 2,
                col(LadderStep.kind).not_in(ANSWERED_BY_FOLLOW_UP),
                col(LadderStep.follows_step_id).is_(None),
                col(LadderStep.sent_at).is_not(None),
            )
        ).all()
        for step in overdue:
            try:
                with session.begin_nested():  # one bad row is rolled back alone and never stops the pass
                    added += follow_up_one(session, step, now, round_the_clock)
            except Exception:
                log.error("follow-up of step %s failed; the other steps go on", step.id, exc_info=True)
        session.commit()
    return added


def follow_up_one(session: Session, step: LadderStep, now: datetime, round_the_clock: frozenset[str]) -> int:
    """The nudge or escalation one delivered ping is due (1), or nothing yet (0)."""
    invoice = session.get(Invoice, step.invoice_id)
    if invoice is None:
        return 0
    person = session.get(Person, step.responsible_id) if step.responsible_id else session.get(Person, invoice.owner_id)
    assert person is not None
    window = timedelta(seconds=step.ack_within_seconds) * (step.nudges + 1)
    assert step.sent_at is not None
    if invoice.ladder in round_the_clock:
        answer_by = step.sent_at + window
    else:
        answer_by = add_working_time(step.sent_at, window, hours_of(person, session.get(Team, invoice.team_id)))
    if answer_by > now or not claim_follow_up(session, step):
        return 0
    if step.nudges == 1:
        nudge(session, invoice, step, person, now)
    else:
        escalate(session, invoice, step, person, now)
    return 1


def claim_follow_up(session: Session, step: LadderStep) -> bool:
    """Advance the step's follow-up counter unless another instance just did."""
    result = session.execute(
        update(LadderStep).where(col(LadderStep.id) == step.id, col(LadderStep.nudges) == step.nudges)
        .values(nudges=step.nudges + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(step)
    return True


def nudge(session: Session, invoice: Invoice, step: LadderStep, person: Person, now: datetime) -> None:
    course.add_step(
        session, invoice, kind=follow_up_kind(step, StepKind.NUDGE), person=person, due_at=now, name=text("nudge", step=name_of(step)),
        instruction=text("nudge_instruction", step=name_of(step), invoice=invoice.number),
        stage=step.stage, tone=step.tone, action=step.action, ack_within_seconds=step.ack_within_seconds, follows=step,
    )


def follow_up_kind(step: LadderStep, kind: StepKind) -> StepKind:
    """A dispute's reminders stay dispute steps, so they go out while the dispute is open."""
    return StepKind.DISPUTE if step.kind == StepKind.DISPUTE else kind


def escalate(session: Session, invoice: Invoice, step: LadderStep, person: Person, now: datetime) -> None:
    manager = course.manager_of(session, person)
    if manager is None:
        session.add(invoice_event(invoice, "escalation_failed", now, step=step.id, name=name_of(step), person=person.handle))
        return
    course.add_step(
        session, invoice, kind=follow_up_kind(step, StepKind.ESCALATION), person=manager, due_at=now,
        name=text("escalation", step=name_of(step)),
        instruction=text("escalation_instruction", handle=person.handle, step=name_of(step), invoice=invoice.number),
        stage=step.stage, tone=step.tone, action=step.action, ack_within_seconds=step.ack_within_seconds, follows=step,
    )
    session.add(invoice_event(invoice, "escalated", now, step=step.id, name=name_of(step), manager=manager.handle,
                              person=person.handle))
