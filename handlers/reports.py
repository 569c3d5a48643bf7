"""Summaries for managers and salespeople: /overdue (totals, aging, oldest, per customer, per owner, a chart)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from sqlmodel import col, select

from bot.models import Customer, Invoice, InvoiceStatus, Person
from handlers.context import Context
from handlers.grammar import Command
from handlers.invoice_lookup import visible_invoices
from handlers.money import format_money
from handlers.charts import bar_chart
from handlers.errors import UsageError
from handlers.reply import Attachment, Facts, Reply, Table

AGING_BUCKETS = ((1, 30, "1-30 days"), (31, 60, "31-60 days"), (61, 90, "61-90 days"), (91, None, "over 90 days"))


TOP_CUSTOMERS = 10


def overdue_summary(command: Command, ctx: Context) -> Reply:
    """Everything past its due date that you can see: totals per currency, aging, oldest, per customer and per owner;
    `/overdue chart` adds the aging as a bar chart."""
    if command.words and command.words != ("chart",):
        raise UsageError(f"/overdue takes nothing, or chart; not {' '.join(command.words)!r}.", "/overdue chart")
    chart = bool(command.words)
    invoices = list(ctx.session.exec(
        visible_invoices(ctx)
        .where(col(Invoice.status).in_([InvoiceStatus.OPEN, InvoiceStatus.DISPUTED]), Invoice.due_date < ctx.today)
        .order_by(col(Invoice.due_date))
    ))
    scope = "the team" if ctx.person.is_manager else "your invoices"
    if not invoices:
        return Reply(title=f"Nothing overdue for {scope}", private=True).say("Every open invoice is within its due date.")
    people = {p.id: p for p in ctx.session.exec(select(Person).where(Person.team_id == ctx.team.id))}
    oldest = invoices[0]
    customer = ctx.session.get(Customer, oldest.customer_id)
    oldest_days = (ctx.today - oldest.due_date).days
    reply = Reply(title=f"Overdue for {scope}: {len(invoices)} invoice{'s' if len(invoices) != 1 else ''}", private=True)
    reply.add(Facts(tuple(
        (currency, f"{format_money(total, currency, ctx.locale)} in {count} invoice{'s' if count != 1 else ''}")
        for currency, (total, count) in totals_by_currency(invoices).items()
    ) + ((
        "Oldest",
        f"{oldest.number} · {customer.name if customer else '?'} · {oldest_days} days · @{people[oldest.owner_id].handle}",
    ),)))
    reply.add(aging_table(ctx, invoices))
    reply.add(customer_table(ctx, invoices))
    if chart:
        reply.files.append(Attachment("overdue-aging.png", aging_chart(ctx, invoices), "image/png", kind="photo"))
    if ctx.person.is_manager:
        reply.add(owner_table(ctx, invoices, people))
    return reply


def totals_by_currency(invoices: Iterable[Invoice]) -> dict[str, tuple[Decimal, int]]:
    totals: dict[str, tuple[Decimal, int]] = {}
    for invoice in invoices:
        total, count = totals.get(invoice.currency, (Decimal(0), 0))
        totals[invoice.currency] = (total + invoice.balance, count + 1)
    return dict(sorted(totals.items()))


def aging_bucket(days_overdue: int) -> str:
    for low, high, label in AGING_BUCKETS:
        if days_overdue >= low and (high is None or days_overdue <= high):
            return label
    raise ValueError(f"{days_overdue} days is not overdue")


def aging_table(ctx: Context, invoices: list[Invoice]) -> Table:
    by_bucket: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_bucket[aging_bucket((ctx.today - invoice.due_date).days)].append(invoice)
    rows = tuple(
        (label, str(len(by_bucket[label])), totals_text(ctx, by_bucket[label]))
        for _, _, label in AGING_BUCKETS
        if by_bucket[label]
    )
    return Table(("Age", "Invoices", "Balance"), rows, caption="Aging")


def owner_table(ctx: Context, invoices: list[Invoice], people: dict[int | None, Person]) -> Table:
    by_owner: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_owner[invoice.owner_id].append(invoice)
    rows = tuple(
        (f"@{people[owner].handle}", str(len(owned)), totals_text(ctx, owned))
        for owner, owned in sorted(by_owner.items(), key=lambda item: people[item[0]].handle)
    )
    return Table(("Owner", "Invoices", "Balance"), rows, caption="By owner")


def aging_chart(ctx: Context, invoices: list[Invoice]) -> bytes:
    by_bucket: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_bucket[aging_bucket((ctx.today - invoice.due_date).days)].append(invoice)
    labels = [label for _, _, label in AGING_BUCKETS]
    currencies = sorted({invoice.currency for invoice in invoices})
    series = {currency: [float(sum((i.balance for i in by_bucket[label] if i.currency == currency), Decimal(0))) for label in labels]
              for currency in currencies}
    return bar_chart("Overdue balance by age", labels, series, "Balance")


def customer_table(ctx: Context, invoices: list[Invoice]) -> Table:
    """The customers owing most (by number of overdue invoices, then the oldest first)."""
    by_customer: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_customer[invoice.customer_id].append(invoice)
    names = {c.id: c.name for c in ctx.session.exec(select(Customer).where(col(Customer.id).in_(list(by_customer))))}
    ranked = sorted(by_customer.items(), key=lambda item: (-len(item[1]), min(i.due_date for i in item[1])))
    rows = tuple((names.get(customer, "?"), str(len(owed)), totals_text(ctx, owed)) for customer, owed in ranked[:TOP_CUSTOMERS])
    caption = "By customer" + (f" (top {TOP_CUSTOMERS} of {len(ranked)})" if len(ranked) > TOP_CUSTOMERS else "")
    return Table(("Customer", "Invoices", "Balance"), rows, caption=caption)


def totals_text(ctx: Context, invoices: list[Invoice]) -> str:
    return " + ".join(
        format_money(total, currency, ctx.locale) for currency, (total, _) in totals_by_currency(invoices).items()
    )
