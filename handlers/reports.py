"""/overdue: what is overdue and how the chase goes, for managers (the team) and salespeople and
collectors (their own): totals per currency (and a converted total when rates are given), aging,
the oldest, per customer, owner and collector, promises, disputes, plans, undone steps, money
collected, DSO; `chart` adds the aging as a picture and `export csv|xlsx` every row as a file."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import format_decimal, list_currencies
from sqlmodel import col, select

from bot.i18n import _, ngettext
from bot.store.models import Customer, Invoice, Person
from handlers.charts import bar_chart
from handlers.collection_status import CollectionStatus, collection_status
from handlers.context import Context
from bot.floor.dates import show_date
from bot.floor.errors import NotAllowed, UsageError
from handlers.exports import export_csv, export_rows, export_xlsx
from handlers.grammar import Command
from handlers.invoice_lookup import sees_all
from handlers.invoices import name_key
from bot.floor.money import format_money
from handlers.overdue_figures import BUCKET_NAMES, BUCKETS, Amounts, OverdueFigures, Scope, bucket_label, overdue_figures
from handlers.people import resolve_mention
from handlers.rates import converted_total, team_rates
from bot.floor.reply import Attachment, BulletList, Facts, Reply, Table

OVERDUE_EXAMPLE = "/overdue @bob bucket=61-90"
OVERDUE_USAGE = "/overdue [chart] [export csv|xlsx] [@person] [customer text] [currency=EUR] [bucket=1-30|31-60|61-90|90+]"
TOP_ROWS = 8
"""Rows per table: the whole summary stays within one Telegram message and Slack's 50 blocks."""
OPTIONS = ("currency", "bucket")
def overdue_summary(command: Command, ctx: Context) -> Reply:
    """Everything past its due date that you can see, and how its chase goes."""
    request = parse_request(command, ctx)
    scope = request.scope
    if request.export:
        return export_reply(ctx, scope, request.export)
    manager = sees_all(ctx.person)
    figures = overdue_figures(ctx.session, scope, TOP_ROWS, per_person=manager)
    # money collected and DSO are the managers' figures: nobody else's summary shows them
    status = collection_status(ctx.session, scope, ctx.now, ctx.timezone, with_dso=manager and not request.narrowed,
                               with_collected=manager)
    title_scope = (_("the team") if manager and not scope.person_ids else
                   _("your invoices") if scope.person_ids == (ctx.person.id,) else "@" + request.people_label)
    filtered = _(" ({filters})", filters=request.filters_label) if request.filters_label else ""
    if not figures.totals:
        reply = Reply(title=_("Nothing overdue for {scope}{filters}", scope=title_scope, filters=filtered),
                      private=True).say(_("Every open invoice is within its due date.") if not request.narrowed
                                        else _("No overdue invoice matches."))
        add_status(reply, ctx, status, manager)
        return reply
    reply = Reply(title=ngettext("Overdue for {scope}{filters}: {n} invoice", "Overdue for {scope}{filters}: {n} invoices",
                                 figures.invoices, scope=title_scope, filters=filtered), private=True)
    reply.add(Facts(tuple(totals_facts(ctx, figures.totals)) + (oldest_fact(ctx, scope),)))
    reply.add(aging_table(ctx, figures))
    reply.add(customer_table(ctx, figures))
    people = {p.id: p.handle for p in ctx.session.exec(select(Person).where(Person.team_id == ctx.team.id))}
    if manager:
        reply.add(people_table(_("By owner"), _("Owner"), ctx, figures.owners, people))
        reply.add(people_table(_("By collector"), _("Collector"), ctx, figures.collectors, people))
    add_status(reply, ctx, status, manager, people)
    if request.chart:
        reply.files.append(Attachment("overdue-aging.png", aging_chart(figures), "image/png", kind="photo"))
    return reply


class Request:
    def __init__(self, scope: Scope, chart: bool, export: str | None, filters: list[str], people_label: str) -> None:
        self.scope, self.chart, self.export, self.people_label = scope, chart, export, people_label
        self.filters_label = ", ".join(filters)
        self.narrowed = bool(filters)


def parse_request(command: Command, ctx: Context) -> Request:
    unknown = sorted(set(command.options) - set(OPTIONS))
    if unknown:
        raise UsageError(_("/overdue does not take {options}; it takes currency= and bucket=.",
                           options=", ".join(o + "=" for o in unknown)),
                         OVERDUE_EXAMPLE)
    words = list(command.words)
    chart = export = None
    if words and words[0].lower() == "chart":
        chart = words.pop(0)
    if words and words[0].lower() == "export":
        words.pop(0)
        if not words or words[0].lower() not in ("csv", "xlsx"):
            raise UsageError(_("Export as csv or xlsx."), "/overdue export xlsx")
        export = words.pop(0).lower()
    filters: list[str] = []
    currency = command.option("currency")
    if currency is None and words and words[-1].isupper() and words[-1] in list_currencies():
        currency = words.pop()
    if currency is not None:
        currency = currency.upper()
        if currency not in list_currencies():
            raise UsageError(_("{currency!r} is not a currency code; use ISO 4217 codes like EUR or USD.", currency=currency),
                             "/overdue currency=EUR")
        filters.append(currency)
    bucket = None
    if (bucket_text := command.option("bucket")) is not None:
        bucket = BUCKET_NAMES.get(bucket_text.strip().lower())
        if bucket is None:
            raise UsageError(_("bucket={bucket} is not an aging bucket; use 1-30, 31-60, 61-90 or 90+.", bucket=bucket_text),
                             "/overdue bucket=61-90")
        filters.append(bucket_label(bucket.label))
    people: list[Person] = []
    for mention in command.mentions:
        person = resolve_mention(ctx.session, ctx.team, mention, OVERDUE_EXAMPLE)
        if person.id != ctx.person.id and not sees_all(ctx.person):
            raise NotAllowed(_("Only managers can see another person's overdue invoices; /overdue shows yours."))
        people.append(person)
    if people:
        filters.insert(0, ", ".join(f"@{p.handle}" for p in people))
    customer_text = name_key(" ".join(words)) if words else None
    if customer_text and ctx.session.execute(sa.select(col(Customer.id)).where(
            col(Customer.team_id) == ctx.team.id, col(Customer.name_key).contains(customer_text)).limit(1)).first() is None:
        raise UsageError(_(
            "/overdue takes nothing, or chart, export csv|xlsx, @person, currency=, bucket= or part of a customer's "
            "name; no customer's name contains {text!r}.", text=" ".join(words)), OVERDUE_EXAMPLE)
    if customer_text:
        filters.append(_("customer contains “{text}”", text=" ".join(words)))
    if chart and export:
        raise UsageError(_("Ask for the chart or an export, one at a time."), "/overdue chart")
    person_ids = tuple(p.id for p in people if p.id is not None)
    if not sees_all(ctx.person):
        person_ids = (ctx.person.id,)  # type: ignore[assignment]
        filters = [f for f in filters if not f.startswith("@")]
    scope = Scope(ctx.team.id, ctx.today, person_ids, customer_text, currency, bucket)  # type: ignore[arg-type]
    return Request(scope, bool(chart), export, filters, ", ".join(p.handle for p in people))


def invoices_count(count: int) -> str:
    return ngettext("{n} invoice", "{n} invoices", count)


def amounts_text(ctx: Context, amounts: Amounts | dict[str, Decimal]) -> str:
    values = {c: (v[1] if isinstance(v, tuple) else v) for c, v in amounts.items()}
    return " + ".join(format_money(total, currency, ctx.locale) for currency, total in sorted(values.items())) or "—"


def totals_facts(ctx: Context, totals: Amounts) -> Iterable[tuple[str, str]]:
    for currency, (count, total) in totals.items():
        yield currency, ngettext("{amount} in {n} invoice", "{amount} in {n} invoices", count,
                                 amount=format_money(total, currency, ctx.locale))
    into = ctx.team.default_currency
    if len(totals) > 1 or into not in totals:
        rates = team_rates(ctx)
        if rates:
            converted, missing = converted_total({c: t for c, (_n, t) in totals.items()}, rates, into)
            if converted is not None:
                yield _("Total in {currency}", currency=into), _("≈ {amount} at the rates in /rates",
                                                                  amount=format_money(converted, into, ctx.locale))
            else:
                yield _("Total in {currency}", currency=into), _(
                    "not shown: no rate for {missing} (/rates {first} {currency} …)", missing=", ".join(missing),
                    first=missing[0], currency=into)


def oldest_fact(ctx: Context, scope: Scope) -> tuple[str, str]:
    row = ctx.session.execute(
        sa.select(col(Invoice.number), col(Invoice.due_date), col(Customer.name), col(Person.handle))
        .join(Customer, col(Customer.id) == col(Invoice.customer_id))
        .join(Person, col(Person.id) == col(Invoice.owner_id))
        .where(*scope.overdue_conditions()).order_by(col(Invoice.due_date), col(Invoice.id)).limit(1)
    ).first()
    if row is None:
        return _("Oldest"), "—"
    number, due, customer, handle = row
    return _("Oldest"), ngettext("{invoice} · {customer} · {n} day · @{handle}", "{invoice} · {customer} · {n} days · @{handle}",
                                 (ctx.today - due).days, invoice=number, customer=customer, handle=handle)


def aging_table(ctx: Context, figures: OverdueFigures) -> Table:
    rows = tuple((bucket_label(label), str(sum(n for n, _t in amounts.values())), amounts_text(ctx, amounts))
                 for label, amounts in figures.aging.items())
    return Table((_("Age"), _("Invoices"), _("Balance")), rows, caption=_("Aging"))


def more_line(shown: int, total: int) -> str:
    return ngettext("{n} more — /overdue export csv", "{n} more — /overdue export csv", total - shown)


def top_caption(caption: str, shown: int, total: int) -> str:
    return _("{caption} (top {shown} of {total}; {more})", caption=caption, shown=shown, total=total,
             more=more_line(shown, total))


def customer_table(ctx: Context, figures: OverdueFigures) -> Table:
    """The customers owing most (by number of overdue invoices, then the oldest first)."""
    names = {c.id: c.name for c in ctx.session.exec(
        select(Customer).where(col(Customer.id).in_([customer for customer, _a, _o in figures.customers])))}
    rows = tuple((names.get(customer, "?"), str(sum(n for n, _t in amounts.values())), amounts_text(ctx, amounts))
                 for customer, amounts, _o in figures.customers)
    caption = _("By customer")
    if figures.customer_count > len(rows):
        caption = top_caption(caption, len(rows), figures.customer_count)
    return Table((_("Customer"), _("Invoices"), _("Balance")), rows, caption=caption)


def people_table(caption: str, header: str, ctx: Context, grouped: dict[int, Amounts], people: dict[int | None, str]) -> Table:
    def name(person_id: int) -> str:
        return f"@{people[person_id]}" if person_id in people else _("(the owner)")

    ranked = sorted(grouped.items(), key=lambda item: (-sum(n for n, _t in item[1].values()), name(item[0])))
    rows = tuple((name(person), str(sum(n for n, _t in amounts.values())), amounts_text(ctx, amounts))
                 for person, amounts in ranked[:TOP_ROWS])
    if len(ranked) > TOP_ROWS:
        caption = top_caption(caption, TOP_ROWS, len(ranked))
    return Table((header, _("Invoices"), _("Balance")), rows, caption=caption)


def add_status(reply: Reply, ctx: Context, status: CollectionStatus, manager: bool,
               people: dict[int | None, str] | None = None) -> None:
    """Promises, disputes, plans, undone steps, money collected and DSO."""
    people = people or {p.id: p.handle for p in ctx.session.exec(select(Person).where(Person.team_id == ctx.team.id))}
    if manager:
        facts: list[tuple[str, str]] = [
            (_("Collected this week"), amounts_text(ctx, status.collected_week)),
            (_("Collected this month"), amounts_text(ctx, status.collected_month)),
        ]
        for currency, dso in status.dso.items():
            facts.append((_("DSO {currency}", currency=currency), dso_days_text(dso.days, dso.complete, ctx.locale)))
        reply.add(Facts(tuple(facts)))
    if status.promises_this_week_count:
        reply.add(BulletList(tuple(
            promised_line(ctx, i) for i in status.promises_this_week)
            + _more(status.promises_this_week_count, len(status.promises_this_week)),
            title=_("Promises due this week ({count})", count=status.promises_this_week_count)))
    if status.broken_promises_count:
        reply.add(BulletList(tuple(
            promised_line(ctx, i) for i in status.broken_promises)
            + _more(status.broken_promises_count, len(status.broken_promises)),
            title=_("Broken promises ({count})", count=status.broken_promises_count)))
    disputes = sum(n for n, _t in status.disputes_amounts.values())
    if disputes:
        reply.add(BulletList(tuple(
            f"{i.number} · {format_money(i.balance, i.currency, ctx.locale)} · {i.dispute_reason or _('disputed')}"
            for i in status.disputes) + _more(disputes, len(status.disputes)),
            title=_("Open disputes ({count}: {amounts})", count=disputes, amounts=amounts_text(ctx, status.disputes_amounts))))
    if status.plans_behind:  # plans on track need nothing from anyone
        reply.add(BulletList(tuple(
            _("{invoice} · behind by {amount}", invoice=i.number, amount=format_money(short, i.currency, ctx.locale))
            for i, short in status.plans_behind[:5]
        ) + _more(len(status.plans_behind), min(5, len(status.plans_behind))),
            title=_("Payment plans: {on_track} on track, {behind} behind", on_track=status.plans_on_track,
                    behind=len(status.plans_behind))))
    if status.undone_steps:
        ranked = sorted(status.undone_steps.items(), key=lambda item: (-item[1], people.get(item[0], "?")))
        reply.add(BulletList(tuple(ngettext("@{handle}: {n} step", "@{handle}: {n} steps", n, handle=people.get(person, "?"))
                                   for person, n in ranked[:TOP_ROWS])
                             + _more(len(ranked), min(TOP_ROWS, len(ranked))),
                             title=_("Steps due and not done ({count})", count=sum(status.undone_steps.values()))))


def promised_line(ctx: Context, invoice: Invoice) -> str:
    return _("{invoice} · {amount} · promised {date}", invoice=invoice.number,
             amount=format_money(invoice.balance, invoice.currency, ctx.locale),
             date=show_date(invoice.promised_date, ctx.locale))  # type: ignore[arg-type]


def _more(total: int, shown: int) -> tuple[str, ...]:
    return (more_line(shown, total),) if total > shown else ()


def aging_series(figures: OverdueFigures) -> tuple[list[str], dict[str, list[Decimal]]]:
    labels = [bucket.label for bucket in BUCKETS]
    currencies = sorted(figures.totals)
    return labels, {currency: [figures.aging.get(label, {}).get(currency, (0, Decimal(0)))[1] for label in labels]
                    for currency in currencies}


def aging_chart(figures: OverdueFigures) -> bytes:
    labels, series = aging_series(figures)
    return bar_chart(_("Overdue balance by age"), [bucket_label(label) for label in labels],
                     {c: [float(v) for v in values] for c, values in series.items()}, _("Balance"))


def export_reply(ctx: Context, scope: Scope, kind: str) -> Reply:
    rows = export_rows(ctx.session, scope, ctx.timezone, ctx.locale)
    if kind == "csv":
        content, mime = export_csv(rows), "text/csv"
    else:
        content, mime = export_xlsx(rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"overdue-{ctx.today.isoformat()}.{kind}"
    reply = Reply(title=_("Overdue invoices as {kind}", kind=kind.upper()), private=True)
    reply.say(_("One row per overdue invoice you can see, oldest first."))
    reply.files.append(Attachment(filename, content, mime))
    return reply


WRITTEN_WITH_DECIMALS = 2
"""The count whose plural form a number written with decimals takes: "1.0 days", "21,0 дня",
"1,0 dager", "1,0 дни" (CLDR gives a visible fraction the form of 2 in en, ru, nb and bg)."""


def dso_days_text(days: Decimal, complete: bool, locale: str) -> str:
    shown = format_decimal(days, format="0.0", locale=locale)
    if complete:
        return ngettext("{n} day", "{n} days", WRITTEN_WITH_DECIMALS, n=shown)
    return ngettext("over {n} day", "over {n} days", WRITTEN_WITH_DECIMALS, n=shown)
