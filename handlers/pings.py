"""The message a person gets when ladder steps fall due: what to do, the numbers, a draft, buttons."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, select

from babel.dates import format_timedelta
from bot.i18n import N_, _, locale_for, ngettext, speaking
from scheduling.step_texts import step_instruction, step_name
from bot.store.models import Customer, Invoice, LadderStep, Person, StepKind, Team
from bot.floor.dates import local_today, show_date, show_moment
from handlers.invoice_lookup import days_label
from bot.floor.money import format_money
from handlers.outcomes import ping_buttons
from handlers.state_names import action_name
from bot.floor.reply import Block, BulletList, DraftText, Facts, Paragraph, Reply
from scheduling.notifier import REPEAT_NOTE
from scheduling.ping_port import DraftFor

LATE_AFTER = timedelta(minutes=1)


def describe_delay(delay: timedelta, locale: str = "en_GB") -> str:
    """How late, to the minute, in the reader's locale's short units (Babel): "4 hrs 30 mins",
    "4 ч 30 мин", "4 t 30 min"."""
    minutes = int(delay.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts: list[tuple[int, Literal["day", "hour", "minute"]]] = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    shown = [format_timedelta(timedelta(**{unit + "s": value}), granularity=unit, threshold=100000, format="short",
                              locale=locale)
             for value, unit in parts if value] or [format_timedelta(timedelta(0), granularity="minute", format="short",
                                                                     locale=locale)]
    return " ".join(shown)


def step_label(step: LadderStep) -> str:
    """`step 3` for the ladder's own steps; what an added step is for the others (a promise
    follow-up, a reminder of an unanswered ping, an escalation…), which have no place on the ladder."""
    if step.kind == StepKind.LADDER:
        return _("step {position}", position=step.position)
    return _(STEP_KINDS.get(step.kind.value, step.kind.value.replace("_", " ")))


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
    steps = list(session.exec(select(LadderStep).where(col(LadderStep.id).in_(step_ids))
                              .order_by(col(LadderStep.due_at), col(LadderStep.id))))
    if not steps:
        return None
    invoices = {i.id: i for i in session.exec(select(Invoice).where(col(Invoice.id).in_({s.invoice_id for s in steps})))}
    customers = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_({i.customer_id for i in invoices.values()})))}
    person = session.get(Person, steps[0].responsible_id or invoices[steps[0].invoice_id].owner_id)
    assert person is not None
    with speaking(person.language) as language:
        team = session.get(Team, person.team_id)
        locale = locale_for(person.language, team.locale if team is not None else None)
        if len(steps) == 1:
            label = step_label(steps[0])
            title = _("{step} for {invoice}: {instruction}", step=label[:1].upper() + label[1:],
                      invoice=invoices[steps[0].invoice_id].number, instruction=step_instruction(steps[0], locale))
        else:
            title = ngettext("{n} ladder step to do", "{n} ladder steps to do", len(steps))
        reply = Reply(title=title, private=True, step_ids=tuple(step.id for step in steps if step.id is not None))
        latest_delay = now - steps[0].due_at
        if latest_delay > LATE_AFTER:
            late_by = describe_delay(latest_delay, locale)
            if failed_attempts:
                reply.say(_("Late by {delay}: delivery kept failing.", delay=late_by))
            else:
                reply.say(_("Late by {delay}: I was not running when it fell due.", delay=late_by))
        repeated = {step.id for step in steps if step.attempts > 1}
        if len(repeated) == len(steps):
            reply.say(_(REPEAT_NOTE))
            reply.repeat = True
            repeated = set()
        reply.repeated_step_ids = tuple(sorted(step_id for step_id in repeated if step_id is not None))
        sections: dict[int, list[LadderStep]] = {}
        for step in steps:
            sections.setdefault(step.invoice_id, []).append(step)
        several_invoices = len(sections) > 1
        for invoice_id, invoice_steps in sections.items():
            invoice = invoices[invoice_id]
            customer = customers[invoice.customer_id]
            reply.blocks.extend(invoice_section(invoice_steps, invoice, customer, person, locale, now, repeated))
            for step in invoice_steps:  # a call script and a letter are different drafts: each step keeps its own
                draft = draft_for(session, step, invoice, customer, person, now) if draft_for else None
                reply.add(draft or DraftText(label=_("Draft"), text=_("(Drafts for this step arrive with the phrasebook.)")))
            latest = invoice_steps[-1]
            buttons = ping_buttons(invoice, latest)
            if several_invoices:
                buttons = buttons[:MERGED_BUTTONS]
            if len(steps) > 1:
                buttons = [replace(button, label=_("{label} · {invoice}", label=button.label, invoice=invoice.number))
                           for button in buttons]
            reply.buttons.extend(buttons)
    reply.language = language
    return reply


MERGED_BUTTONS = 4
"""In a ping about several invoices each offers its main answers (done, paid, promised, dispute);
the others are one command away."""


def repeat_label(step: LadderStep, repeated: Collection[int | None]) -> str:
    """The step's label, marked when it alone (not the whole ping) may have reached its reader
    before: taken over from an instance that stopped before confirming it."""
    if step.id in repeated:
        return _("{step} (repeat: may have reached you before)", step=step_label(step))
    return step_label(step)


def invoice_section(steps: Sequence[LadderStep], invoice: Invoice, customer: Customer, person: Person, locale: str,
                    now: datetime, repeated: Collection[int | None] = ()) -> list[Block]:
    """One invoice's part of a ping: a line per due step, then the invoice's numbers once."""
    if len(steps) == 1:
        return step_blocks(steps[0], invoice, customer, person, locale, now, repeated)
    heading = ngettext("{invoice} · {customer} — {n} step due", "{invoice} · {customer} — {n} steps due", len(steps),
                       invoice=invoice.number, customer=customer.name)
    lines = [_("{step}: {name} ({action}) — {instruction}", step=repeat_label(step, repeated), name=step_name(step, locale),
               action=action_name(step.action), instruction=step_instruction(step, locale)) for step in steps]
    blocks = step_blocks(steps[-1], invoice, customer, person, locale, now)
    facts = blocks[1]
    assert isinstance(facts, Facts)
    kept = facts.items[1:]  # the step's "What to do" is in the list above
    return [BulletList(tuple(lines), title=heading), Facts(kept)]


def step_blocks(step: LadderStep, invoice: Invoice, customer: Customer, person: Person, locale: str, now: datetime,
                repeated: Collection[int | None] = ()) -> list[Block]:
    today = local_today(now, person.timezone)
    answer_by = max(step.due_at, now) + timedelta(seconds=step.ack_within_seconds)
    return [
        Paragraph(_("{invoice} · {customer} — {step}: {name} ({action})", invoice=invoice.number, customer=customer.name,
                    step=repeat_label(step, repeated), name=step_name(step, locale), action=action_name(step.action))),
        Facts((
            (_("What to do"), step_instruction(step, locale)),
            (_("Customer"), _("{customer} ({contact})", customer=customer.name, contact=customer.contact_name)
             if customer.contact_name else customer.name),
            (_("Invoice"), invoice.number),
            (_("Balance"), balance_text(invoice, locale)),
            (_("Due date"), _("{date} ({days})", date=show_date(invoice.due_date, locale),
                              days=days_label(invoice.due_date, today))),
            (_("Scheduled"), show_moment(step.due_at, person.timezone, locale)),
            (_("Answer by"), show_moment(answer_by, person.timezone, locale)),
        )),
    ]


STEP_KINDS = {
    "nudge": N_("nudge"),
    "escalation": N_("escalation"),
    "broken_promise": N_("broken promise"),
    "instalment": N_("instalment"),
    "dispute": N_("dispute"),
}
"""What an added step is for, as a ping names it (the ladder's own steps are numbered)."""


def balance_text(invoice: Invoice, locale: str) -> str:
    balance = format_money(invoice.balance, invoice.currency, locale)
    if invoice.balance == invoice.amount:
        return balance
    return _("{balance} of {amount}", balance=balance, amount=format_money(invoice.amount, invoice.currency, locale))
