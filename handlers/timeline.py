"""An invoice's whole story in time order — steps planned and delivered, answers, payments,
promises, drafts used — for /history and the case file."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.i18n import N_, _
from scheduling.event_texts import event_text
from scheduling.step_texts import step_name
from bot.store.models import Event, Invoice, LadderStep, Person, StepState
from handlers.context import Context
from handlers.pings import describe_delay, step_label
from handlers.state_names import action_name

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
        Entry(event.at, people.get(event.actor_id, "collectbot"), event.kind, event_text(event, ctx.locale, ctx.timezone))
        for event in ctx.session.exec(select(Event).where(Event.invoice_id == invoice.id))
    ]
    steps = ctx.session.exec(select(LadderStep).where(LadderStep.invoice_id == invoice.id).order_by(col(LadderStep.due_at)))
    for step in steps:
        who = people.get(step.responsible_id, step.responsible_role)
        entries.append(Entry(step.due_at, who, f"step_{step.state.value}", step_summary(step, ctx.locale)))
        if step.sent_at is not None:
            delay = step.sent_at - step.due_at
            text = (_("pinged {who} for “{step}” (on time)", who=who, step=step_name(step, ctx.locale)) if delay <= ON_TIME
                    else _("pinged {who} for “{step}” (late by {delay})", who=who, step=step_name(step, ctx.locale),
                           delay=describe_delay(delay, ctx.locale)))
            entries.append(Entry(step.sent_at, "collectbot", "ping", text))
        if step.acknowledged_at is not None:
            entries.append(Entry(step.acknowledged_at, "collectbot", "answer",
                                 _("“{step}” closed: {outcome}", step=step_name(step, ctx.locale), outcome=step.outcome or _("answered"))))
    return sorted(entries, key=lambda entry: (entry.at, ORDER_AT_SAME_MOMENT.get(entry.kind.split("_")[0], 3)))


def step_summary(step: LadderStep, locale: str) -> str:
    return _("{step}: {name} — {action} — {state}", step=step_label(step), name=step_name(step, locale), action=action_name(step.action),
             state=_(STEP_SUMMARIES[step.state]))


STEP_SUMMARIES = {
    StepState.PENDING: N_("planned"), StepState.SENDING: N_("being sent"), StepState.SENT: N_("sent, awaiting an answer"),
    StepState.ACKNOWLEDGED: N_("done"), StepState.CANCELLED: N_("cancelled"),
    StepState.SKIPPED: N_("skipped (already past when added)"), StepState.PAUSED: N_("paused (dispute)"),
    StepState.WAITING: N_("planned, waiting until the formal claim is confirmed sent"),
    StepState.UNDELIVERABLE: N_("not delivered (refused by the platform); the manager was told"),
}
