"""The append-only event log behind every invoice's history, and the dispatcher that writes the
course's domain events into it."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.floor.dates import show_moment
from bot.store.models import Event, Invoice, Person
from handlers.context import Context
from scheduling.course_events import CourseEvent, take_events
from scheduling.event_texts import event_text, history_event
from scheduling.step_machine import take_transitions


def record_event(ctx: Context, kind: str, invoice: Invoice | None = None, **facts: Any) -> Event:
    """A history entry of the command's actor; its text is written from `facts` when it is read."""
    event = history_event(kind, facts, team_id=ctx.team.id, invoice_id=invoice.id if invoice else None,  # type: ignore[arg-type]
                          actor_id=ctx.actor.id if ctx.actor else None, at=ctx.now)
    ctx.session.add(event)
    return event


def history_lines(ctx: Context, invoice: Invoice, limit: int | None = None) -> list[str]:
    query = select(Event).where(Event.invoice_id == invoice.id).order_by(col(Event.at), col(Event.id))
    events = list(ctx.session.exec(query))
    if limit is not None and len(events) > limit:
        events = events[-limit:]
    people = {person.id: person for person in ctx.session.exec(select(Person).where(Person.team_id == ctx.team.id))}
    lines = []
    for event in events:
        who = f"@{people[event.actor_id].handle}" if event.actor_id in people else "collectbot"
        lines.append(f"{show_moment(event.at, ctx.timezone, ctx.locale)} · {who} · {event_text(event, ctx.locale, ctx.timezone)}")
    return lines


# ---------------------------------------------------------------------------------------------
# The dispatcher: domain events → history entries (in the command's transaction)


def dispatch(session: Session) -> int:
    """Write the command's domain events as history entries, each with the step transitions made
    for it; transitions no event claimed are written too, so none goes unrecorded."""
    events = take_events(session)
    leftover = take_transitions(session)
    if leftover:
        by_invoice: dict[int, list[Any]] = {}
        for transition in leftover:
            by_invoice.setdefault(transition.invoice_id, []).append(transition)
        for invoice_id, transitions in by_invoice.items():
            invoice = session.get(Invoice, invoice_id)
            if invoice is None:
                continue
            events.append(CourseEvent(kind="steps_changed", team_id=invoice.team_id, invoice_id=invoice_id, actor_id=None,
                                      at=transitions[-1].at, transitions=transitions))
    for event in events:
        details = {key: value for key, value in event.facts.items() if value is not None}
        if event.transitions:
            details["transitions"] = [t.as_history() for t in event.transitions]
        session.add(history_event(event.kind, details, team_id=event.team_id, invoice_id=event.invoice_id,
                                  actor_id=event.actor_id, at=event.at))
    return len(events)
