"""A person's ladder work: /today (what is due or waiting for an answer today) and /upcoming."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import col, select

from bot.i18n import _, ngettext
from scheduling.step_texts import step_name
from bot.store.models import Customer, Invoice, LadderStep, StepState
from handlers.context import Context
from bot.floor.dates import show_moment
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.state_names import state_name
from bot.floor.money import format_money
from bot.floor.reply import Reply, Table

UPCOMING_EXAMPLE = "/upcoming 14"
DEFAULT_DAYS = 7
MAX_DAYS = 90
ROW_LIMIT = 40


def today(command: Command, ctx: Context) -> Reply:
    start, end = local_day_bounds(ctx, ctx.now, days=1)
    steps = my_steps(ctx, start, end, waiting_too=True)
    reply = Reply(title=_("Your ladder steps today ({count})", count=len(steps)), private=True)
    if not steps:
        return reply.say(_("Nothing on your ladder today. /upcoming shows what comes next."))
    return reply.add(steps_table(ctx, steps))


def upcoming(command: Command, ctx: Context) -> Reply:
    days = DEFAULT_DAYS
    if command.words:
        word = command.words[0].rstrip("d")
        if not word.isdigit() or not 1 <= int(word) <= MAX_DAYS:
            raise UsageError(_("Give a number of days from 1 to {most}.", most=MAX_DAYS), UPCOMING_EXAMPLE)
        days = int(word)
    start, end = ctx.now, local_day_bounds(ctx, ctx.now, days=days + 1)[1]
    steps = my_steps(ctx, start, end, waiting_too=False)
    reply = Reply(title=ngettext("Your ladder steps in the next {n} day ({count})", "Your ladder steps in the next {n} days ({count})",
                                 days, count=len(steps)), private=True)
    if not steps:
        return reply.say(_("Nothing scheduled for you in that period."))
    return reply.add(steps_table(ctx, steps))


def local_day_bounds(ctx: Context, moment: datetime, days: int) -> tuple[datetime, datetime]:
    zone = ZoneInfo(ctx.timezone)
    midnight = datetime.combine(moment.astimezone(zone).date(), time(0), tzinfo=zone)
    return midnight, datetime.combine(midnight.date() + timedelta(days=days), time(0), tzinfo=zone)


def my_steps(ctx: Context, start: datetime, end: datetime, *, waiting_too: bool) -> list[tuple[LadderStep, Invoice, Customer]]:
    mine = or_(
        col(LadderStep.responsible_id) == ctx.person.id,
        and_(col(LadderStep.responsible_id).is_(None), col(Invoice.owner_id) == ctx.person.id),
    )
    in_window = and_(col(LadderStep.state) == StepState.PENDING, col(LadderStep.due_at) >= start, col(LadderStep.due_at) < end)
    if waiting_too:
        waiting = and_(col(LadderStep.state) == StepState.SENT, col(LadderStep.acknowledged_at).is_(None), col(LadderStep.due_at) < end)
        in_window = or_(in_window, waiting)
    query = (
        select(LadderStep, Invoice, Customer)
        .join(Invoice, col(Invoice.id) == LadderStep.invoice_id)
        .join(Customer, col(Customer.id) == Invoice.customer_id)
        .where(Invoice.team_id == ctx.team.id, mine, in_window)
        .order_by(col(LadderStep.due_at))
        .limit(ROW_LIMIT)
    )
    return [(step, invoice, customer) for step, invoice, customer in ctx.session.exec(query)]


def steps_table(ctx: Context, rows: list[tuple[LadderStep, Invoice, Customer]]) -> Table:
    return Table(
        (_("When"), _("Invoice"), _("Customer"), _("Balance"), _("Step"), _("State")),
        tuple(
            (
                show_moment(step.due_at, ctx.timezone, ctx.locale),
                invoice.number,
                customer.name,
                format_money(invoice.balance, invoice.currency, ctx.locale),
                step_name(step, ctx.locale),
                _("waiting for your answer") if step.state == StepState.SENT
                else state_name(step.state),
            )
            for step, invoice, customer in rows
        ),
    )
