"""The append-only event log behind every invoice's history, and the dispatcher that writes the
course's domain events into it."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from bot.i18n import locale_for
from bot.store.models import Event, Invoice, Person
from handlers.context import Context
from bot.floor.dates import show_date, show_moment
from bot.floor.money import format_money
from scheduling.course_events import CourseEvent, take_events
from scheduling.step_machine import take_transitions


def record_event(
    ctx: Context, kind: str, summary: str, invoice: Invoice | None = None, **details: Any
) -> Event:
    event = Event(
        team_id=ctx.team.id,  # type: ignore[arg-type]
        invoice_id=invoice.id if invoice else None,
        actor_id=ctx.actor.id if ctx.actor else None,
        kind=kind,
        summary=summary,
        details=details,
        at=ctx.now,
    )
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
        lines.append(f"{show_moment(event.at, ctx.timezone, ctx.locale)} · {who} · {event.summary}")
    return lines


# ---------------------------------------------------------------------------------------------
# The dispatcher: domain events → history entries (in the command's transaction)

Summary = Callable[[dict[str, Any], str, str], str]


def _money(facts: dict[str, Any], key: str, locale: str) -> str:
    return format_money(Decimal(facts[key]), facts.get("currency") or "EUR", locale)


def _day(text: str, locale: str) -> str:
    return show_date(date.fromisoformat(text), locale)


def _moment(text: str, zone: str, locale: str) -> str:
    return show_moment(datetime.fromisoformat(text), zone, locale)


SUMMARIES: dict[str, Summary] = {
    "added": lambda f, loc, tz: f"added {f['number']}: {_money(f, 'amount', loc)} due {f['due_date']}, owner @{f['owner']}",
    "paid": lambda f, loc, tz: f"paid in full ({_money(f, 'amount', loc)})",
    "partial_payment": lambda f, loc, tz: f"partial payment of {_money(f, 'amount', loc)}; balance {_money(f, 'balance', loc)}",
    "promise": lambda f, loc, tz: "promised to pay" + (f" {_money(f, 'amount', loc)}" if f.get("amount") else "")
    + f" by {_day(f['promised_date'], loc)}",
    "letter": lambda f, loc, tz: "official letter: payment" + (f" {_money(f, 'amount', loc)}" if f.get("amount") else "")
    + f" by {_day(f['promised_date'], loc)}",
    "dispute": lambda f, loc, tz: f"disputed: {f['reason']}",
    "resolved": lambda f, loc, tz: f"dispute resolved ({f['reason']})"
    + (f"; {_money(f, 'old_amount', loc)} → {_money(f, 'new_amount', loc)}" if f.get("new_amount") else ""),
    "plan": lambda f, loc, tz: f"payment plan: {len(f['instalments'])} instalments from {_day(f['instalments'][0]['due'], loc)}",
    "snooze": lambda f, loc, tz: f"snoozed “{f['name']}” to {_moment(f['until'], tz, loc)}",
    "no_answer": lambda f, loc, tz: f"“{f['name']}”: no answer; retry {f['retry']} of {f['of']} at {_moment(f['at'], tz, loc)}",
    "no_contact": lambda f, loc, tz: f"“{f['name']}”: no answer after {f['tries']} tries; counted as done without contact",
    "done": lambda f, loc, tz: "done: " + ", ".join(f"“{name}”" for name in f["names"]) + (f" — {f['note']}" if f.get("note") else ""),
    "gate_confirmed": lambda f, loc, tz: f"“{f['name']}” confirmed sent; the next steps count from today"
    + (f", its deadline is {_day(f['deadline'], loc)}" if f.get("deadline") else ""),
    "cancelled": lambda f, loc, tz: f"cancelled: {f['reason']} (history kept; /reopen brings it back)",
    "reopened": lambda f, loc, tz: "reopened; the ladder resumes after the last step that went out",
    "payment_undone": lambda f, loc, tz: f"payment of {_money(f, 'amount', loc)} undone; balance {_money(f, 'balance', loc)}"
    + ("; the invoice is open again" if f.get("reopened") else ""),
    "changed": lambda f, loc, tz: "changed " + "; ".join(f"{label.lower()}: {value}" for label, value in f["changes"]),
    "handed_over": lambda f, loc, tz: f"handed over from @{f['leaving']} (left the team) to @{f['successor']}",
    "steps_changed": lambda f, loc, tz: "ladder steps changed",
}


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
        actor = session.get(Person, event.actor_id) if event.actor_id else None
        locale = locale_for(actor.language if actor else None)
        zone = actor.timezone if actor else "UTC"
        details = {key: value for key, value in event.facts.items() if value is not None}
        if event.transitions:
            details["transitions"] = [t.as_history() for t in event.transitions]
        session.add(Event(team_id=event.team_id, invoice_id=event.invoice_id, actor_id=event.actor_id, kind=event.kind,
                          summary=SUMMARIES[event.kind](event.facts, locale, zone), details=details, at=event.at))
    return len(events)
