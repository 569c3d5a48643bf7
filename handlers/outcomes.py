"""What the collector reports back, and how each answer changes the ladder's course:
/done, /promise, /letter, /dispute, /resolve, /plan, /snooze, /noanswer (plus /paid in invoices.py).

Each parses its command, asks `scheduling.course` to change the course (the course answers the
pings concerned, moves, pauses or adds steps and records the event), and renders the result.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.i18n import N_, _, ngettext
from bot.store.models import Instalment, Invoice, InvoiceStatus, LadderStep, StepKind, StepState
from handlers.context import Context
from bot.floor.dates import local_today, looks_like_date, parse_date, show_date, show_moment
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.invoice_lookup import find_invoice
from bot.floor.money import check_amount, format_money, parse_amount
from bot.floor.reply import Block, Button, Facts, Reply, Table
from scheduling import course
from scheduling.step_texts import step_name

# TRANSLATORS: an example command: keep "/done INV-1042", translate the note after it.
DONE_EXAMPLE = N_("/done INV-1042 spoke to Anna, paying Friday")
PROMISE_EXAMPLE = "/promise INV-1042 2026-12-10"
LETTER_EXAMPLE = "/letter INV-1042 2026-12-10"
# TRANSLATORS: an example command: keep "/dispute INV-1042", translate the reason after it.
DISPUTE_EXAMPLE = N_("/dispute INV-1042 goods arrived damaged")
# TRANSLATORS: two example commands: translate only the word between them.
RESOLVE_EXAMPLE = N_("/resolve INV-1042 or /resolve INV-1042 900")
PLAN_EXAMPLE = "/plan INV-1042 3 instalments every month from 2026-12-15"
SNOOZE_EXAMPLE = "/snooze INV-1042 2h"
NOANSWER_EXAMPLE = "/noanswer INV-1042"
MAX_RETRIES = course.MAX_RETRIES
MAX_INSTALMENTS = 24
_DURATION = re.compile(r"^(\d{1,3})(m|min|h|d)$", re.IGNORECASE)
_PERIOD = re.compile(r"^(\d{1,2})?\s*(day|days|week|weeks|month|months)$", re.IGNORECASE)


def open_invoice(ctx: Context, command: Command, example: str, *, allow_disputed: bool = False) -> Invoice:
    if not command.words:
        raise UsageError(_("Which invoice? Give its number first."), example)
    invoice = find_invoice(ctx, command.words[0], example)
    if invoice.status == InvoiceStatus.PAID:
        raise UsageError(_("Invoice {invoice} is already paid in full; its ladder has ended.", invoice=invoice.number),
                         f"/show {invoice.number}")
    if invoice.status == InvoiceStatus.CANCELLED:
        raise UsageError(_("Invoice {invoice} is cancelled; nothing goes out for it. /reopen brings it back.",
                           invoice=invoice.number), f"/reopen {invoice.number}")
    if invoice.status == InvoiceStatus.DISPUTED and not allow_disputed:
        raise disputed_error(invoice)
    return invoice


def done(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, DONE_EXAMPLE, allow_disputed=True)
    note = command.free_text_after_first_word() or None
    steps, early = course.steps_to_mark_done(ctx, invoice)
    if not steps:
        upcoming = course.steps_of(ctx.session, invoice, [StepState.PENDING])
        mine = [s for s in upcoming if s.responsible_id == ctx.person.id] or upcoming
        nxt = mine[0] if mine else None
        if nxt is None or local_today(nxt.due_at, ctx.timezone) != ctx.today:
            if nxt is None:
                problem = _("No step of {invoice} is waiting for you today.", invoice=invoice.number)
            else:
                problem = _("No step of {invoice} is waiting for you today; the next one is “{step}” on {when}.",
                            invoice=invoice.number, step=step_name(nxt, ctx.locale), when=show_moment(nxt.due_at, ctx.timezone, ctx.locale))
            raise UsageError(problem, f"/show {invoice.number}")
        steps, early = [nxt], True
    if invoice.status == InvoiceStatus.DISPUTED and any(s.kind != StepKind.DISPUTE for s in steps):
        raise disputed_error(invoice)
    result = course.done(ctx, invoice, steps, note, early=early)
    names = ", ".join(f"“{step_name(step, ctx.locale)}”" for step in result.answered)
    return Reply(title=_("Marked done on {invoice}: {steps}", invoice=invoice.number, steps=names),
                 blocks=next_step_facts(ctx, invoice))


def disputed_error(invoice: Invoice) -> UsageError:
    return UsageError(_("Invoice {invoice} is disputed ({reason}); its ladder is paused. Resolve the dispute first.",
                        invoice=invoice.number, reason=invoice.dispute_reason), f"/resolve {invoice.number}")


def promise(command: Command, ctx: Context) -> Reply:
    return _promise(command, ctx, written=False)


def letter(command: Command, ctx: Context) -> Reply:
    return _promise(command, ctx, written=True)


def _promise(command: Command, ctx: Context, *, written: bool) -> Reply:
    example = LETTER_EXAMPLE if written else PROMISE_EXAMPLE
    invoice = open_invoice(ctx, command, example)
    if len(command.words) < 2:
        raise UsageError(_("By which date did the letter say to pay {invoice}?", invoice=invoice.number) if written
                         else _("By which date did they promise to pay {invoice}?", invoice=invoice.number), example)
    promised = parse_date(command.words[1], ctx.today, example)
    if promised < ctx.today:
        raise UsageError(_("{date} has already passed; a promise needs a date from today on.",
                           date=show_date(promised, ctx.locale)), example)
    amount = None
    if len(command.words) > 2:
        amount = check_amount(parse_amount(" ".join(command.words[2:]), example), invoice.currency,
                              ctx.services.settings.max_invoice_amount, example, ctx.locale)
    result = course.promise(ctx, invoice, promised, written=written, amount=amount)
    grace = result.grace
    shown = show_date(promised, ctx.locale)
    return Reply(
        title=(_("Letter recorded on {invoice}: pay by {date}", invoice=invoice.number, date=shown) if written
               else _("Promise recorded on {invoice}: pay by {date}", invoice=invoice.number, date=shown)),
        blocks=[Facts((
            (_("Ladder"), ngettext("paused until {date} (+{n} business day grace)",
                                   "paused until {date} (+{n} business days grace)", grace, date=shown)),
            (_("If unpaid"), _("promise follow-up for @{handle} on {when}", handle=result.person.handle,
                               when=show_moment(result.check_at, result.person.timezone, ctx.locale))),
            (_("Broken promises so far"), str(result.broken_so_far)),
        ))],
    )


def dispute(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, DISPUTE_EXAMPLE)
    reason = command.free_text_after_first_word()
    if not reason:
        raise UsageError(_("Why does the customer dispute {invoice}? Give the reason after the number.", invoice=invoice.number),
                         DISPUTE_EXAMPLE)
    result = course.dispute(ctx, invoice, reason)
    manager = (_("@{handle} (owner's manager)", handle=result.manager.handle) if result.manager.id != result.owner.id
               else f"@{result.manager.handle}")
    return Reply(
        title=_("Dispute recorded on {invoice}; its ladder is paused", invoice=invoice.number),
        blocks=[Facts((
            (_("Reason"), reason),
            (_("Brought in"), manager),
            (_("Paused steps"), str(result.paused)),
            (_("Reminders"), ngettext("every {n} business day to whoever holds it, until it is resolved",
                                      "every {n} business days to whoever holds it, until it is resolved",
                                      course.DISPUTE_REMINDER_BUSINESS_DAYS)),
            (_("To resume"), f"/resolve {invoice.number}"),
        ))],
    )


def resolve(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, RESOLVE_EXAMPLE, allow_disputed=True)
    if invoice.status != InvoiceStatus.DISPUTED:
        raise UsageError(_("Invoice {invoice} is not disputed.", invoice=invoice.number), DISPUTE_EXAMPLE)
    facts: list[tuple[str, str]] = []
    new_amount = None
    if len(command.words) > 1:
        new_amount = check_amount(parse_amount(" ".join(command.words[1:]), RESOLVE_EXAMPLE), invoice.currency,
                                  ctx.services.settings.max_invoice_amount, RESOLVE_EXAMPLE, ctx.locale)
        paid = course.paid_so_far(ctx.session, invoice)
        if new_amount < paid:
            raise UsageError(_("{amount} is less than the {paid} already paid.",
                               amount=format_money(new_amount, invoice.currency, ctx.locale),
                               paid=format_money(paid, invoice.currency, ctx.locale)), RESOLVE_EXAMPLE)
        facts.append((_("Amount"), f"{format_money(invoice.amount, invoice.currency, ctx.locale)} → "
                                   f"{format_money(new_amount, invoice.currency, ctx.locale)}"))
    course.resolve(ctx, invoice, new_amount)
    facts.append((_("Balance"), format_money(invoice.balance, invoice.currency, ctx.locale)))
    return Reply(title=_("Dispute on {invoice} resolved; the ladder resumes", invoice=invoice.number),
                 blocks=[Facts(tuple(facts)), *next_step_facts(ctx, invoice)])


def plan(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, PLAN_EXAMPLE)
    dates, amounts = parse_plan(command, ctx, invoice)
    existing = ctx.session.exec(select(Instalment).where(Instalment.invoice_id == invoice.id)).all()
    if existing:
        raise UsageError(ngettext("Invoice {invoice} already has a payment plan of {n} instalment.",
                                  "Invoice {invoice} already has a payment plan of {n} instalments.", len(existing),
                                  invoice=invoice.number), f"/show {invoice.number}")
    rows = [(str(sequence), show_date(due, ctx.locale), format_money(amount, invoice.currency, ctx.locale))
            for sequence, (due, amount) in enumerate(zip(dates, amounts, strict=True), start=1)]
    course.payment_plan(ctx, invoice, dates, amounts)
    return Reply(title=ngettext("Payment plan for {invoice}: {n} instalment", "Payment plan for {invoice}: {n} instalments",
                                len(dates), invoice=invoice.number),
                 blocks=[Table(("#", _("Due"), _("Amount")), tuple(rows))])


def parse_plan(command: Command, ctx: Context, invoice: Invoice) -> tuple[list[date], list[Decimal]]:
    words = [w.lower() for w in command.words[1:]]
    if not words:
        raise UsageError(_("Give the number of instalments, how often and from when — or the dates."), PLAN_EXAMPLE)
    if all(looks_like_date(w) for w in words):
        dates = [parse_date(w, ctx.today, PLAN_EXAMPLE) for w in words]
    else:
        text = " ".join(words)
        match = re.match(r"^(\d{1,2})\s+instalments?\s+every\s+(.+?)\s+from\s+(\S+)$", text)
        if not match:
            raise UsageError(_("I could not read that plan."),
                             _("{example} or {other}", example=PLAN_EXAMPLE, other="/plan INV-1042 2026-12-15 2027-01-15"))
        count = int(match.group(1))
        if not 2 <= count <= MAX_INSTALMENTS:
            raise UsageError(_("A plan has from 2 to {most} instalments.", most=MAX_INSTALMENTS), PLAN_EXAMPLE)
        dates = spaced_dates(parse_date(match.group(3), ctx.today, PLAN_EXAMPLE), match.group(2), count)
    if len(dates) < 2 or len(dates) > MAX_INSTALMENTS:
        raise UsageError(_("A plan has from 2 to {most} instalments.", most=MAX_INSTALMENTS), PLAN_EXAMPLE)
    if dates != sorted(set(dates)):
        raise UsageError(_("The instalment dates must be different and in order."), "/plan INV-1042 2026-12-15 2027-01-15")
    if dates[0] < ctx.today:
        raise UsageError(_("The first instalment ({date}) is in the past.", date=show_date(dates[0], ctx.locale)), PLAN_EXAMPLE)
    return dates, split_evenly(invoice.balance, len(dates))


def spaced_dates(first: date, period: str, count: int) -> list[date]:
    match = _PERIOD.match(period.strip())
    if not match:
        raise UsageError(_("“every {period}” is not a period I know; say every month, every 2 weeks or every 10 days.",
                           period=period), PLAN_EXAMPLE)
    step = int(match.group(1) or 1)
    unit = match.group(2).rstrip("s")
    if unit == "month":
        return [add_months(first, step * n) for n in range(count)]
    days = step * (7 if unit == "week" else 1)
    return [first + timedelta(days=days * n) for n in range(count)]


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_evenly(total: Decimal, parts: int) -> list[Decimal]:
    """Equal instalments in cents; the last takes the rounding remainder."""
    share = (total / parts).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    return [share] * (parts - 1) + [total - share * (parts - 1)]


def snooze(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, SNOOZE_EXAMPLE)
    if len(command.words) < 2:
        raise UsageError(_("Until when? Say 2h, 30m, tomorrow or a date."), SNOOZE_EXAMPLE)
    step = course.snooze_target(ctx, invoice)
    if step is None:
        raise UsageError(_("Invoice {invoice} has no step to snooze.", invoice=invoice.number), f"/show {invoice.number}")
    base = max(ctx.now, step.due_at) if step.state == StepState.PENDING else ctx.now
    until = course.within_hours(ctx, step, snooze_until(ctx, command.words[1], base))
    if until <= step.due_at and step.state == StepState.PENDING:
        raise UsageError(_("“{step}” is already planned for {when}; a snooze only moves a step later.", step=step_name(step, ctx.locale),
                           when=show_moment(step.due_at, ctx.timezone, ctx.locale)), SNOOZE_EXAMPLE)
    later = course.next_after(ctx, invoice, step)
    if later is not None and until >= later.due_at:
        raise UsageError(_("That is past the next step, “{step}” on {when}; a snooze can only move a step up to the next one.",
                           step=step_name(later, ctx.locale), when=show_moment(later.due_at, ctx.timezone, ctx.locale)), SNOOZE_EXAMPLE)
    course.snooze(ctx, invoice, step, until)
    return Reply(title=_("Snoozed “{step}” of {invoice}", step=step_name(step, ctx.locale), invoice=invoice.number),
                 blocks=[Facts(((_("New time"), show_moment(until, ctx.timezone, ctx.locale)),))])


def snooze_until(ctx: Context, text: str, base: datetime | None = None) -> datetime:
    """A duration counts from `base` (now, or a step's own later time: a snooze never pulls it earlier)."""
    token = text.strip().lower()
    if match := _DURATION.match(token):
        number, unit = int(match.group(1)), match.group(2)
        delta = timedelta(minutes=number) if unit.startswith("m") else timedelta(hours=number) if unit == "h" else timedelta(days=number)
        return (base or ctx.now) + delta
    if looks_like_date(token):
        day = parse_date(token, ctx.today, SNOOZE_EXAMPLE)
        if day <= ctx.today:
            raise UsageError(_("Snooze to a later day, or by hours (2h)."), SNOOZE_EXAMPLE)
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(ctx.timezone))
        return course.working_slot(ctx.session, ctx.person, midnight)
    raise UsageError(_("{text!r} is not a snooze I understand; say 30m, 2h, 1d, tomorrow or a date.", text=text), SNOOZE_EXAMPLE)


def no_answer(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, NOANSWER_EXAMPLE)
    waiting = course.awaiting_answer(ctx.session, invoice, ctx.person) or course.awaiting_answer(ctx.session, invoice)
    if not waiting:
        raise UsageError(_("No delivered step of {invoice} is waiting for an answer.", invoice=invoice.number),
                         f"/show {invoice.number}")
    result = course.no_answer(ctx, invoice, waiting[-1])
    step = result.step
    if result.gave_up or result.retry_at is None:
        return Reply(title=_("“{step}” of {invoice} counted as done without contact", step=step_name(step, ctx.locale),
                             invoice=invoice.number),
                     blocks=next_step_facts(ctx, invoice))
    return Reply(title=_("No answer on {invoice}: I'll remind you again", invoice=invoice.number),
                 blocks=[Facts(((_("Retry"), _("{number} of {most}", number=step.retries, most=MAX_RETRIES)),
                                (_("When"), show_moment(result.retry_at, ctx.timezone, ctx.locale))))])


def next_step_facts(ctx: Context, invoice: Invoice) -> list[Block]:
    upcoming = course.steps_of(ctx.session, invoice, [StepState.PENDING])
    if not upcoming:
        return []
    step = upcoming[0]
    return [Facts(((_("Next step"), f"{step_name(step, ctx.locale)} · {show_moment(step.due_at, ctx.timezone, ctx.locale)}"),))]


def ping_buttons(invoice: Invoice, step: LadderStep) -> list[Button]:
    """The answers a ping offers; each runs the command of the same name."""
    number = invoice.number
    buttons = [
        Button(_("✅ Done"), f"done {number}"),
        Button(_("💶 Paid"), f"paid {number} {{input}}",
               asks=_("How much did the customer pay on {invoice}? Write the amount, or “all” for the whole balance.",
                      invoice=number), input="text"),
        Button(_("📅 Promised"), f"promise {number} {{input}}",
               asks=_("Which date did they promise to pay {invoice} by?", invoice=number), input="date"),
        Button(_("⚖ Dispute"), f"dispute {number} {{input}}", asks=_("Why does the customer dispute {invoice}?", invoice=number),
               input="text"),
        Button(_("⏰ Snooze 2h"), f"snooze {number} 2h"),
    ]
    if step.action == "call":
        buttons.append(Button(_("📵 No answer"), f"noanswer {number}"))
    softer, firmer = neighbour_tones(step.tone)
    if softer:
        buttons.append(Button(_(SOFTER_DRAFT[softer]), f"draft {number} {step.stage} {softer}"))
    if firmer:
        buttons.append(Button(_(FIRMER_DRAFT[firmer]), f"draft {number} {step.stage} {firmer}"))
    return buttons


SOFTER_DRAFT = {"warm": N_("🕊 Warm draft"), "neutral": N_("🕊 Neutral draft"), "firm": N_("🕊 Firm draft")}
FIRMER_DRAFT = {"neutral": N_("🎚 Neutral draft"), "firm": N_("🎚 Firm draft"), "formal": N_("🎚 Formal draft")}


def neighbour_tones(tone: str) -> tuple[str | None, str | None]:
    """The draft tones one step softer and one step firmer than `tone`."""
    order = ("warm", "neutral", "firm", "formal")
    if tone not in order:
        return None, None
    index = order.index(tone)
    return (order[index - 1] if index else None), (order[index + 1] if index + 1 < len(order) else None)
