"""An invoice's whole story in time order — steps planned and delivered, answers, payments,
promises, drafts used — for /history and the case file."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.store.models import Event, Invoice, LadderStep, Person, StepState
from handlers.context import Context
from handlers.pings import describe_delay, step_label

ON_TIME = timedelta(minutes=1)
ORDER_AT_SAME_MOMENT = {"step": 0, "ping": 1, "answer": 2}
"""At one moment: the step, then its ping, then the answer, then what people recorded."""


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    kind: str
    text: str


def timeline(ctx: Context, invoice: Invoice) -> list[Entry]:
    people = {p.id: f"@{p.handle}" for p in ctx.session.exec(select(Person).where(Person.team_id == ctx.team.id))}
    entries = [
        Entry(event.at, people.get(event.actor_id, "collectbot"), event.kind, event.summary)
        for event in ctx.session.exec(select(Event).where(Event.invoice_id == invoice.id))
    ]
    steps = ctx.session.exec(select(LadderStep).where(LadderStep.invoice_id == invoice.id).order_by(col(LadderStep.due_at)))
    for step in steps:
        who = people.get(step.responsible_id, step.responsible_role)
        entries.append(Entry(step.due_at, who, f"step_{step.state.value}", step_summary(step)))
        if step.sent_at is not None:
            delay = step.sent_at - step.due_at
            timing = "on time" if delay <= ON_TIME else f"late by {describe_delay(delay)}"
            entries.append(Entry(step.sent_at, "collectbot", "ping", f"pinged {who} for “{step.name}” ({timing})"))
        if step.acknowledged_at is not None:
            entries.append(Entry(step.acknowledged_at, "collectbot", "answer", f"“{step.name}” closed: {step.outcome or 'answered'}"))
    return sorted(entries, key=lambda entry: (entry.at, ORDER_AT_SAME_MOMENT.get(entry.kind.split("_")[0], 3)))


def step_summary(step: LadderStep) -> str:
    label = {
        StepState.PENDING: "planned", StepState.SENDING: "being sent", StepState.SENT: "sent, awaiting an answer",
        StepState.ACKNOWLEDGED: "done", StepState.CANCELLED: "cancelled", StepState.SKIPPED: "skipped (already past when added)",
        StepState.PAUSED: "paused (dispute)", StepState.WAITING: "planned, waiting until the formal claim is confirmed sent",
        StepState.UNDELIVERABLE: "not delivered (refused by the platform); the manager was told",
    }[step.state]
    return f"{step_label(step)}: {step.name} — {step.action} — {label}"
