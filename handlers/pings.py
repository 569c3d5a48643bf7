"""The message a person gets when ladder steps fall due: what to do, the numbers, a draft, buttons."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.store.models import Customer, Invoice, LadderStep, Person, StepKind
from handlers.context import LOCALES
from bot.floor.dates import local_today, show_date, show_moment
from handlers.invoice_lookup import days_label
from bot.floor.money import format_money
from handlers.outcomes import ping_buttons
from bot.floor.reply import Block, BulletList, DraftText, Facts, Paragraph, Reply

LATE_AFTER = timedelta(minutes=1)
REPEAT_NOTE = "Repeat: delivery of this reminder was not confirmed before, so you may have seen it already."
DraftFor = Callable[[Session, LadderStep, Invoice, Customer, Person, datetime], DraftText | None]


def describe_delay(delay: timedelta) -> str:
    minutes = int(delay.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes or not (days or hours))
    return " ".join(parts)


def step_label(step: LadderStep) -> str:
    """`step 3` for the ladder's own steps; what an added step is for the others (a promise
    follow-up, a reminder of an unanswered ping, an escalation…), which have no place on the ladder."""
    if step.kind == StepKind.LADDER:
        return f"step {step.position}"
    return step.kind.value.replace("_", " ")


def compose_ping(
    session: Session,
    step_ids: Sequence[int],
    now: datetime,
    failed_attempts: int = 0,
    draft_for: DraftFor | None = None,
) -> Reply | None:
    """One message for one person's due steps (merged when several), or None if none is left.

    A merged ping has one section per invoice (its steps, numbers, one draft and its buttons), and
    every button names the invoice it answers."""
    steps = list(session.exec(select(LadderStep).where(col(LadderStep.id).in_(step_ids)).order_by(col(LadderStep.due_at), col(LadderStep.id))))
    if not steps:
        return None
    invoices = {i.id: i for i in session.exec(select(Invoice).where(col(Invoice.id).in_({s.invoice_id for s in steps})))}
    customers = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_({i.customer_id for i in invoices.values()})))}
    person = session.get(Person, steps[0].responsible_id or invoices[steps[0].invoice_id].owner_id)
    assert person is not None
    locale = LOCALES.get(person.language, "en")
    title = (
        f"{step_label(steps[0]).capitalize()} for {invoices[steps[0].invoice_id].number}: {steps[0].instruction or steps[0].name}"
        if len(steps) == 1 else f"{len(steps)} ladder steps to do"
    )
    reply = Reply(title=title, private=True, step_ids=tuple(step.id for step in steps if step.id is not None))
    latest_delay = now - steps[0].due_at
    if latest_delay > LATE_AFTER:
        reason = "delivery kept failing" if failed_attempts else "I was not running when it fell due"
        reply.say(f"Late by {describe_delay(latest_delay)}: {reason}.")
    if any(step.attempts > 1 for step in steps):
        reply.say(REPEAT_NOTE)
    sections: dict[int, list[LadderStep]] = {}
    for step in steps:
        sections.setdefault(step.invoice_id, []).append(step)
    several_invoices = len(sections) > 1
    for invoice_id, invoice_steps in sections.items():
        invoice = invoices[invoice_id]
        customer = customers[invoice.customer_id]
        reply.blocks.extend(invoice_section(invoice_steps, invoice, customer, person, locale, now))
        for step in invoice_steps:  # a call script and a letter are different drafts: each step keeps its own
            draft = draft_for(session, step, invoice, customer, person, now) if draft_for else None
            reply.add(draft or DraftText(label="Draft", text="(Drafts for this step arrive with the phrasebook.)"))
        latest = invoice_steps[-1]
        buttons = ping_buttons(invoice, latest)
        if several_invoices:
            buttons = buttons[:MERGED_BUTTONS]
        if len(steps) > 1:
            buttons = [replace(button, label=f"{button.label} · {invoice.number}") for button in buttons]
        reply.buttons.extend(buttons)
    return reply


MERGED_BUTTONS = 4
"""In a ping about several invoices each offers its main answers (done, paid, promised, dispute);
the others are one command away."""


def invoice_section(steps: Sequence[LadderStep], invoice: Invoice, customer: Customer, person: Person, locale: str,
                    now: datetime) -> list[Block]:
    """One invoice's part of a ping: a line per due step, then the invoice's numbers once."""
    if len(steps) == 1:
        return step_blocks(steps[0], invoice, customer, person, locale, now)
    heading = f"{invoice.number} · {customer.name} — {len(steps)} steps due"
    lines = [f"{step_label(step)}: {step.name} ({step.action}) — {step.instruction or step.name}" for step in steps]
    blocks = step_blocks(steps[-1], invoice, customer, person, locale, now)
    facts = blocks[1]
    assert isinstance(facts, Facts)
    kept = tuple(item for item in facts.items if item[0] != "What to do")
    return [BulletList(tuple(lines), title=heading), Facts(kept)]


def step_blocks(step: LadderStep, invoice: Invoice, customer: Customer, person: Person, locale: str, now: datetime) -> list[Block]:
    today = local_today(now, person.timezone)
    answer_by = max(step.due_at, now) + timedelta(seconds=step.ack_within_seconds)
    return [
        Paragraph(f"{invoice.number} · {customer.name} — {step_label(step)}: {step.name} ({step.action})"),
        Facts((
            ("What to do", step.instruction or step.name),
            ("Customer", customer.name + (f" ({customer.contact_name})" if customer.contact_name else "")),
            ("Invoice", invoice.number),
            ("Balance", format_money(invoice.balance, invoice.currency, locale)
             + (f" of {format_money(invoice.amount, invoice.currency, locale)}" if invoice.balance != invoice.amount else "")),
            ("Due date", f"{show_date(invoice.due_date, locale)} ({days_label(invoice.due_date, today)})"),
            ("Scheduled", show_moment(step.due_at, person.timezone, locale)),
            ("Answer by", show_moment(answer_by, person.timezone, locale)),
        )),
    ]
