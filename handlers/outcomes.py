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

from bot.store.models import Instalment, Invoice, InvoiceStatus, LadderStep, Person, Role, StepKind, StepState
from handlers.context import Context
from bot.floor.dates import local_today, looks_like_date, parse_date, show_date, show_moment
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.invoice_lookup import find_invoice
from bot.floor.money import check_amount, format_money, parse_amount
from bot.floor.reply import Button, Facts, Reply, Table
from scheduling import course

DONE_EXAMPLE = "/done INV-1042 spoke to Anna, paying Friday"
PROMISE_EXAMPLE = "/promise INV-1042 2026-12-10"
LETTER_EXAMPLE = "/letter INV-1042 2026-12-10"
DISPUTE_EXAMPLE = "/dispute INV-1042 goods arrived damaged"
RESOLVE_EXAMPLE = "/resolve INV-1042 or /resolve INV-1042 900"
PLAN_EXAMPLE = "/plan INV-1042 3 instalments every month from 2026-12-15"
SNOOZE_EXAMPLE = "/snooze INV-1042 2h"
NOANSWER_EXAMPLE = "/noanswer INV-1042"
MAX_RETRIES = course.MAX_RETRIES
MAX_INSTALMENTS = 24
_DURATION = re.compile(r"^(\d{1,3})(m|min|h|d)$", re.IGNORECASE)
_PERIOD = re.compile(r"^(\d{1,2})?\s*(day|days|week|weeks|month|months)$", re.IGNORECASE)


def open_invoice(ctx: Context, command: Command, example: str, *, allow_disputed: bool = False) -> Invoice:
    if not command.words:
        raise UsageError("Which invoice? Give its number first.", example)
    invoice = find_invoice(ctx, command.words[0], example)
    if invoice.status == InvoiceStatus.PAID:
        raise UsageError(f"Invoice {invoice.number} is already paid in full; its ladder has ended.", f"/show {invoice.number}")
    if invoice.status == InvoiceStatus.CANCELLED:
        raise UsageError(f"Invoice {invoice.number} is cancelled; nothing goes out for it. /reopen brings it back.",
                         f"/reopen {invoice.number}")
    if invoice.status == InvoiceStatus.DISPUTED and not allow_disputed:
        raise UsageError(
            f"Invoice {invoice.number} is disputed ({invoice.dispute_reason}); its ladder is paused. "
            f"Resolve the dispute first.", f"/resolve {invoice.number}",
        )
    return invoice


def done(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, DONE_EXAMPLE, allow_disputed=True)
    note = " ".join(command.words[1:]) or None
    steps, early = course.steps_to_mark_done(ctx, invoice)
    if not steps:
        upcoming = course.steps_of(ctx.session, invoice, [StepState.PENDING])
        mine = [s for s in upcoming if s.responsible_id == ctx.person.id] or upcoming
        nxt = mine[0] if mine else None
        if nxt is None or local_today(nxt.due_at, ctx.timezone) != ctx.today:
            when = f"; the next one is “{nxt.name}” on {show_moment(nxt.due_at, ctx.timezone, ctx.locale)}" if nxt else ""
            raise UsageError(f"No step of {invoice.number} is waiting for you today{when}.", f"/show {invoice.number}")
        steps, early = [nxt], True
    if invoice.status == InvoiceStatus.DISPUTED and any(s.kind != StepKind.DISPUTE for s in steps):
        raise UsageError(
            f"Invoice {invoice.number} is disputed ({invoice.dispute_reason}); its ladder is paused. "
            f"Resolve the dispute first.", f"/resolve {invoice.number}",
        )
    result = course.done(ctx, invoice, steps, note, early=early)
    names = ", ".join(f"“{step.name}”" for step in result.answered)
    return Reply(title=f"Marked done on {invoice.number}: {names}", blocks=next_step_facts(ctx, invoice))


def promise(command: Command, ctx: Context) -> Reply:
    return _promise(command, ctx, written=False)


def letter(command: Command, ctx: Context) -> Reply:
    return _promise(command, ctx, written=True)


def _promise(command: Command, ctx: Context, *, written: bool) -> Reply:
    example = LETTER_EXAMPLE if written else PROMISE_EXAMPLE
    invoice = open_invoice(ctx, command, example)
    if len(command.words) < 2:
        raise UsageError(f"By which date did {'the letter say' if written else 'they promise'} to pay {invoice.number}?", example)
    promised = parse_date(command.words[1], ctx.today, example)
    if promised < ctx.today:
        raise UsageError(f"{show_date(promised, ctx.locale)} has already passed; a promise needs a date from today on.", example)
    amount = None
    if len(command.words) > 2:
        amount = check_amount(parse_amount(" ".join(command.words[2:]), example), invoice.currency,
                              ctx.services.settings.max_invoice_amount, example)
    result = course.promise(ctx, invoice, promised, written=written, amount=amount)
    grace = result.grace
    return Reply(
        title=f"{'Letter' if written else 'Promise'} recorded on {invoice.number}: pay by {show_date(promised, ctx.locale)}",
        blocks=[Facts((
            ("Ladder", f"paused until {show_date(promised, ctx.locale)} (+{grace} business day{'s' if grace != 1 else ''} grace)"),
            ("If unpaid", f"promise follow-up for @{result.person.handle} on "
                          f"{show_moment(result.check_at, result.person.timezone, ctx.locale)}"),
            ("Broken promises so far", str(result.broken_so_far)),
        ))],
    )


def dispute(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, DISPUTE_EXAMPLE)
    reason = " ".join(command.words[1:]).strip()
    if not reason:
        raise UsageError(f"Why does the customer dispute {invoice.number}? Give the reason after the number.", DISPUTE_EXAMPLE)
    result = course.dispute(ctx, invoice, reason)
    return Reply(
        title=f"Dispute recorded on {invoice.number}; its ladder is paused",
        blocks=[Facts((
            ("Reason", reason),
            ("Brought in", f"@{result.manager.handle}" + (" (owner's manager)" if result.manager.id != result.owner.id else "")),
            ("Paused steps", str(result.paused)),
            ("Reminders", f"every {course.DISPUTE_REMINDER_BUSINESS_DAYS} business days to whoever holds it, until it is resolved"),
            ("To resume", f"/resolve {invoice.number}"),
        ))],
    )


def resolve(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, RESOLVE_EXAMPLE, allow_disputed=True)
    if invoice.status != InvoiceStatus.DISPUTED:
        raise UsageError(f"Invoice {invoice.number} is not disputed.", DISPUTE_EXAMPLE)
    facts: list[tuple[str, str]] = []
    new_amount = None
    if len(command.words) > 1:
        new_amount = check_amount(parse_amount(" ".join(command.words[1:]), RESOLVE_EXAMPLE), invoice.currency,
                                  ctx.services.settings.max_invoice_amount, RESOLVE_EXAMPLE)
        paid = course.paid_so_far(ctx.session, invoice)
        if new_amount < paid:
            raise UsageError(
                f"{format_money(new_amount, invoice.currency, ctx.locale)} is less than the "
                f"{format_money(paid, invoice.currency, ctx.locale)} already paid.", RESOLVE_EXAMPLE)
        facts.append(("Amount", f"{format_money(invoice.amount, invoice.currency, ctx.locale)} → "
                                f"{format_money(new_amount, invoice.currency, ctx.locale)}"))
    course.resolve(ctx, invoice, new_amount)
    facts.append(("Balance", format_money(invoice.balance, invoice.currency, ctx.locale)))
    return Reply(title=f"Dispute on {invoice.number} resolved; the ladder resumes", blocks=[Facts(tuple(facts)), *next_step_facts(ctx, invoice)])


def plan(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, PLAN_EXAMPLE)
    dates, amounts = parse_plan(command, ctx, invoice)
    existing = ctx.session.exec(select(Instalment).where(Instalment.invoice_id == invoice.id)).all()
    if existing:
        raise UsageError(f"Invoice {invoice.number} already has a payment plan of {len(existing)} instalments.", f"/show {invoice.number}")
    rows, labels = [], []
    for sequence, (due, amount) in enumerate(zip(dates, amounts, strict=True), start=1):
        shown = format_money(amount, invoice.currency, ctx.locale)
        labels.append(f"instalment {sequence} of {len(dates)} ({shown}, due {show_date(due, ctx.locale)})")
        rows.append((str(sequence), show_date(due, ctx.locale), shown))
    course.payment_plan(ctx, invoice, dates, amounts, labels)
    return Reply(title=f"Payment plan for {invoice.number}: {len(dates)} instalments",
                 blocks=[Table(("#", "Due", "Amount"), tuple(rows))])


def parse_plan(command: Command, ctx: Context, invoice: Invoice) -> tuple[list[date], list[Decimal]]:
    words = [w.lower() for w in command.words[1:]]
    if not words:
        raise UsageError("Give the number of instalments, how often and from when — or the dates.", PLAN_EXAMPLE)
    if all(looks_like_date(w) for w in words):
        dates = [parse_date(w, ctx.today, PLAN_EXAMPLE) for w in words]
    else:
        text = " ".join(words)
        match = re.match(r"^(\d{1,2})\s+instalments?\s+every\s+(.+?)\s+from\s+(\S+)$", text)
        if not match:
            raise UsageError("I could not read that plan.", f"{PLAN_EXAMPLE} or /plan INV-1042 2026-12-15 2027-01-15")
        count = int(match.group(1))
        if not 2 <= count <= MAX_INSTALMENTS:
            raise UsageError(f"A plan has from 2 to {MAX_INSTALMENTS} instalments.", PLAN_EXAMPLE)
        dates = spaced_dates(parse_date(match.group(3), ctx.today, PLAN_EXAMPLE), match.group(2), count)
    if len(dates) < 2 or len(dates) > MAX_INSTALMENTS:
        raise UsageError(f"A plan has from 2 to {MAX_INSTALMENTS} instalments.", PLAN_EXAMPLE)
    if dates != sorted(set(dates)):
        raise UsageError("The instalment dates must be different and in order.", "/plan INV-1042 2026-12-15 2027-01-15")
    if dates[0] < ctx.today:
        raise UsageError(f"The first instalment ({show_date(dates[0], ctx.locale)}) is in the past.", PLAN_EXAMPLE)
    return dates, split_evenly(invoice.balance, len(dates))


def spaced_dates(first: date, period: str, count: int) -> list[date]:
    match = _PERIOD.match(period.strip())
    if not match:
        raise UsageError(f"“every {period}” is not a period I know; say every month, every 2 weeks or every 10 days.", PLAN_EXAMPLE)
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
        raise UsageError("Until when? Say 2h, 30m, tomorrow or a date.", SNOOZE_EXAMPLE)
    step = course.snooze_target(ctx, invoice)
    if step is None:
        raise UsageError(f"Invoice {invoice.number} has no step to snooze.", f"/show {invoice.number}")
    base = max(ctx.now, step.due_at) if step.state == StepState.PENDING else ctx.now
    until = course.within_hours(ctx, step, snooze_until(ctx, command.words[1], base))
    if until <= step.due_at and step.state == StepState.PENDING:
        raise UsageError(f"“{step.name}” is already planned for {show_moment(step.due_at, ctx.timezone, ctx.locale)}; "
                         "a snooze only moves a step later.", SNOOZE_EXAMPLE)
    later = course.next_after(ctx, invoice, step)
    if later is not None and until >= later.due_at:
        raise UsageError(
            f"That is past the next step, “{later.name}” on {show_moment(later.due_at, ctx.timezone, ctx.locale)}; "
            "a snooze can only move a step up to the next one.", SNOOZE_EXAMPLE)
    course.snooze(ctx, invoice, step, until)
    return Reply(title=f"Snoozed “{step.name}” of {invoice.number}",
                 blocks=[Facts((("New time", show_moment(until, ctx.timezone, ctx.locale)),))])


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
            raise UsageError("Snooze to a later day, or by hours (2h).", SNOOZE_EXAMPLE)
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(ctx.timezone))
        return course.working_slot(ctx.session, ctx.person, midnight)
    raise UsageError(f"{text!r} is not a snooze I understand; say 30m, 2h, 1d, tomorrow or a date.", SNOOZE_EXAMPLE)


def no_answer(command: Command, ctx: Context) -> Reply:
    invoice = open_invoice(ctx, command, NOANSWER_EXAMPLE)
    waiting = course.awaiting_answer(ctx.session, invoice, ctx.person) or course.awaiting_answer(ctx.session, invoice)
    if not waiting:
        raise UsageError(f"No delivered step of {invoice.number} is waiting for an answer.", f"/show {invoice.number}")
    result = course.no_answer(ctx, invoice, waiting[-1])
    step = result.step
    if result.gave_up or result.retry_at is None:
        return Reply(title=f"“{step.name}” of {invoice.number} counted as done without contact",
                     blocks=next_step_facts(ctx, invoice))
    return Reply(title=f"No answer on {invoice.number}: I'll remind you again",
                 blocks=[Facts((("Retry", f"{step.retries} of {MAX_RETRIES}"),
                                ("When", show_moment(result.retry_at, ctx.timezone, ctx.locale))))])


def next_step_facts(ctx: Context, invoice: Invoice) -> list[Facts]:
    upcoming = course.steps_of(ctx.session, invoice, [StepState.PENDING])
    if not upcoming:
        return []
    step = upcoming[0]
    return [Facts((("Next step", f"{step.name} · {show_moment(step.due_at, ctx.timezone, ctx.locale)}"),))]


def ping_buttons(invoice: Invoice, step: LadderStep) -> list[Button]:
    """The answers a ping offers; each runs the command of the same name."""
    number = invoice.number
    buttons = [
        Button("✅ Done", f"done {number}"),
        Button("💶 Paid", f"paid {number} {{input}}",
               asks=f"How much did the customer pay on {number}? Write the amount, or “all” for the whole balance.", input="text"),
        Button("📅 Promised", f"promise {number} {{input}}", asks=f"Which date did they promise to pay {number} by?", input="date"),
        Button("⚖ Dispute", f"dispute {number} {{input}}", asks=f"Why does the customer dispute {number}?", input="text"),
        Button("⏰ Snooze 2h", f"snooze {number} 2h"),
    ]
    if step.action == "call":
        buttons.append(Button("📵 No answer", f"noanswer {number}"))
    softer, firmer = neighbour_tones(step.tone)
    if softer:
        buttons.append(Button(f"🕊 {softer.capitalize()} draft", f"draft {number} {step.stage} {softer}"))
    if firmer:
        buttons.append(Button(f"🎚 {firmer.capitalize()} draft", f"draft {number} {step.stage} {firmer}"))
    return buttons


def neighbour_tones(tone: str) -> tuple[str | None, str | None]:
    """The draft tones one step softer and one step firmer than `tone`."""
    order = ("warm", "neutral", "firm", "formal")
    if tone not in order:
        return None, None
    index = order.index(tone)
    return (order[index - 1] if index else None), (order[index + 1] if index + 1 < len(order) else None)
