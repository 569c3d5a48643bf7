"""The append-only event log behind every invoice's history."""
from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.models import Event, Invoice, Person
from handlers.context import Context
from handlers.dates import show_moment


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
