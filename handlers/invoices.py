"""Invoice commands: /add, /list, /show, /paid."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import col, func, select

from bot.i18n import N_, _
from scheduling.step_texts import step_name
from bot.store.models import Customer, Invoice, InvoiceStatus, LadderStep, Person, StepState
from handlers.context import Context
from handlers.countries import calendar_country, country_problem
from handlers.customer_profile import DRAFT_OPTIONS, apply_customer_changes, draft_settings_facts, languages_of, read_customer_changes
from bot.floor.dates import looks_like_date, parse_date, show_date, show_moment
from bot.floor.errors import NotAllowed, UsageError, about
from handlers.grammar import Command
from handlers.history import history_lines
from handlers.invoice_lookup import customer_of, days_label, find_invoice, visible_invoices
from bot.floor.money import check_amount, format_money, parse_amount, parse_currency
from handlers.people import resolve_mention
from handlers.state_names import action_name, state_name, status_name
from bot.floor.reply import Block, BulletList, Button, Facts, Reply, Table
from scheduling import course

ADD_USAGE = ("/add <invoice-no> <amount> [currency] <due-date> <customer name…> [@owner] [collector=@person] [ladder=name] "
             "[country=XX] [contact=\"Full Name\"] [lang=en|ru|nb|bg] [locale=en_GB|…] [tone=warm|neutral|firm|formal]")
ADD_EXAMPLE = "/add INV-1042 1200.50 EUR 2026-12-01 Acme Trading Ltd"
LIST_EXAMPLE = "/list overdue"
SHOW_EXAMPLE = "/show INV-1042"
# TRANSLATORS: two example commands: translate only the word between them.
PAID_EXAMPLE = N_("/paid INV-1042 or /paid INV-1042 500")
# TRANSLATORS: an example command: keep "/cancel INV-1042", translate the reason after it (CN-7 is a credit note's number).
CANCEL_EXAMPLE = N_("/cancel INV-1042 credit note CN-7 issued")
REOPEN_EXAMPLE = "/reopen INV-1042"
UNDO_EXAMPLE = "/undo INV-1042"
CONFIRM_WORDS = ("confirm", "again")
ADD_OPTIONS = ("collector", "ladder", "country", "contact", *DRAFT_OPTIONS)
LIST_LIMIT = 30
INVOICE_NUMBER = re.compile(r"^[\w][\w./#-]{0,63}$", re.UNICODE)
_SPACE_GROUP = re.compile(r"^\d{3}(?:[.,]\d+)?$")
_FIRST_GROUP = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class NewInvoice:
    number: str
    amount: Decimal
    currency: str
    due_date: date
    customer_name: str
    owner: Person
    collector: Person | None
    ladder: str
    country: str
    customer_changes: dict[str, str | None]
    """The customer's contact, draft language, locale and tone, as /customer would set them."""


def money(ctx: Context, amount: Decimal, currency: str) -> str:
    return format_money(amount, currency, ctx.locale)


def parse_new_invoice(command: Command, ctx: Context) -> NewInvoice:
    words = list(command.words)
    unknown = sorted(set(command.options) - set(ADD_OPTIONS))
    if unknown:
        raise UsageError(
            _("/add does not take {options}; it takes {allowed}.", options=", ".join(o + "=" for o in unknown),
              allowed=", ".join(o + "=" for o in ADD_OPTIONS)),
            ADD_EXAMPLE,
        )
    if len(words) < 4:
        raise UsageError(
            _("/add needs the invoice number, the amount, the due date and the customer's name: {usage}", usage=ADD_USAGE),
            ADD_EXAMPLE,
        )
    number = words.pop(0)
    if not INVOICE_NUMBER.match(number):
        raise UsageError(
            _("{number!r} is not a usable invoice number: use up to 64 letters, digits and . / # - _", number=number),
            ADD_EXAMPLE, "number")
    amount_text = words.pop(0)
    while _FIRST_GROUP.match(amount_text.split(" ")[0]) and words and _SPACE_GROUP.match(words[0]) and not re.search(r"[.,]", amount_text):
        amount_text += " " + words.pop(0)
    with about("amount"):
        amount = parse_amount(amount_text)
    currency = ctx.team.default_currency
    if words and not looks_like_date(words[0]) and ((len(words[0]) == 3 and words[0].isalpha()) or words[0] in "€$£¥₽"):
        with about("currency"):
            currency = parse_currency(words.pop(0))
    with about("amount"):
        check_amount(amount, currency, ctx.services.settings.max_invoice_amount, locale=ctx.locale)
    if not words:
        raise UsageError(_("The due date is missing after the amount."), ADD_EXAMPLE, "due")
    with about("due"):
        due_date = parse_date(words.pop(0), ctx.today, ADD_EXAMPLE)
    customer_name = " ".join(words).strip()
    if not customer_name:
        raise UsageError(_("The customer's name is missing after the due date."), ADD_EXAMPLE, "customer")
    if len(customer_name) > 200:
        raise UsageError(_("The customer's name is longer than 200 characters; shorten it."), ADD_EXAMPLE, "customer")
    if len(command.mentions) > 1:
        raise UsageError(
            _("Mention one owner at most; name a collector with collector=@person."),
            ADD_EXAMPLE + " @bob collector=@carol", "owner",
        )
    with about("owner"):
        owner = resolve_mention(ctx.session, ctx.team, command.mentions[0], ADD_EXAMPLE) if command.mentions else ctx.person
    collector_ref = command.option("collector")
    with about("collector"):
        collector = resolve_mention(ctx.session, ctx.team, collector_ref.lstrip("@"), ADD_EXAMPLE) if collector_ref else None
    typed = command.option("country") or ctx.team.default_country
    if (country := calendar_country(typed)) is None:
        raise UsageError(f"{country_problem(typed)}.", ADD_EXAMPLE + " country=NO", "country")
    return NewInvoice(
        number=number,
        amount=amount,
        currency=currency,
        due_date=due_date,
        customer_name=customer_name,
        owner=owner,
        collector=collector,
        ladder=command.option("ladder") or ctx.team.default_ladder,
        country=country,
        customer_changes=read_customer_changes(
            {key: value for key, value in command.options.items() if key in ("contact", *DRAFT_OPTIONS)},
            languages_of(ctx), lambda option: f"{ADD_EXAMPLE} {option}"),
    )


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def find_or_create_customer(ctx: Context, name: str, country: str) -> Customer:
    key = name_key(name)
    customer = ctx.session.exec(
        select(Customer).where(Customer.team_id == ctx.team.id, Customer.name_key == key)
    ).first()
    if customer is None:
        customer = Customer(
            team_id=ctx.team.id,  # type: ignore[arg-type]
            name=name,
            name_key=key,
            country=country,
            created_at=ctx.now,
        )
        ctx.session.add(customer)
        ctx.session.flush()
    return customer


def add_invoice(command: Command, ctx: Context) -> Reply:
    """Put an invoice on the list; its ladder starts at once."""
    new = parse_new_invoice(command, ctx)
    duplicate = ctx.session.exec(
        select(Invoice).where(Invoice.team_id == ctx.team.id, func.lower(Invoice.number) == new.number.lower())
    ).first()
    if duplicate is not None:
        raise UsageError(
            _("Invoice {invoice} is already on the list. Use another number, or see it with /show {invoice}.",
              invoice=duplicate.number),
            ADD_EXAMPLE, "number",
        )
    customer = find_or_create_customer(ctx, new.customer_name, new.country)
    apply_customer_changes(ctx, customer, new.customer_changes)
    invoice = Invoice(
        team_id=ctx.team.id,  # type: ignore[arg-type]
        number=new.number,
        customer_id=customer.id,  # type: ignore[arg-type]
        amount=new.amount,
        balance=new.amount,
        currency=new.currency,
        due_date=new.due_date,
        owner_id=new.owner.id,  # type: ignore[arg-type]
        collector_id=new.collector.id if new.collector else None,
        ladder=new.ladder,
        created_at=ctx.now,
    )
    ctx.session.add(invoice)
    ctx.session.flush()
    shown_amount = money(ctx, new.amount, new.currency)
    planned = course.start(ctx, invoice, number=invoice.number, amount=str(new.amount), currency=new.currency,
                           due_date=new.due_date.isoformat(), owner=new.owner.handle)
    facts = [
        (_("Customer"), customer.name),
        (_("Amount"), shown_amount),
        (_("Due"), _("{date} ({days})", date=show_date(new.due_date, ctx.locale), days=days_label(new.due_date, ctx.today))),
        (_("Owner"), f"@{new.owner.handle}"),
    ]
    if new.collector:
        facts.append((_("Collector"), f"@{new.collector.handle}"))
    facts.append((_("Ladder"), invoice.ladder))
    facts.extend((_(label), value) for label, value in draft_settings_facts(customer))
    first = min((step for step in planned if step.state == StepState.PENDING), key=lambda step: step.due_at, default=None)
    if first is not None:
        person = ctx.session.get(Person, first.responsible_id) if first.responsible_id else new.owner
        when = show_moment(first.due_at, ctx.timezone, ctx.locale)
        facts.append((_("First step"), _("{step} (@{handle}), {when}", step=step_name(first, ctx.locale), handle=person.handle, when=when)
                       if person else _("{step}, {when}", step=step_name(first, ctx.locale), when=when)))
    return Reply(title=_("Added invoice {invoice}", invoice=invoice.number), blocks=[Facts(tuple(facts))])


def list_invoices(command: Command, ctx: Context) -> Reply:
    """Open invoices you can see, soonest due first; filter by `overdue`, @person or customer text."""
    query = visible_invoices(ctx).where(col(Invoice.status).in_([InvoiceStatus.OPEN, InvoiceStatus.DISPUTED]))
    words = [word for word in command.words if word.lower() != "overdue"]
    overdue_only = len(words) != len(command.words)
    filters = []
    if overdue_only:
        query = query.where(Invoice.due_date < ctx.today)
        filters.append(_("overdue"))
    for mention in command.mentions:
        person = resolve_mention(ctx.session, ctx.team, mention, LIST_EXAMPLE)
        if person.id != ctx.person.id and not ctx.person.is_manager:
            raise NotAllowed(_("Only managers can list another person's invoices; /list shows yours."))
        query = query.where((Invoice.owner_id == person.id) | (Invoice.collector_id == person.id))
        filters.append(f"@{person.handle}")
    if words:
        text = name_key(" ".join(words))
        query = (query.join(Customer, col(Customer.id) == col(Invoice.customer_id))
                 .where(col(Customer.name_key).contains(text, autoescape=True)))
        filters.append(_("customer contains “{text}”", text=" ".join(words)))
    invoices = list(ctx.session.exec(query.order_by(col(Invoice.due_date), col(Invoice.number)).limit(LIST_LIMIT + 1)))
    if filters:
        title = (_("All open invoices ({filters})", filters=", ".join(filters)) if ctx.person.is_manager
                 else _("Your open invoices ({filters})", filters=", ".join(filters)))
    else:
        title = _("All open invoices") if ctx.person.is_manager else _("Your open invoices")
    if not invoices:
        return Reply(title=title).say(
            _("Nothing here. Add an invoice with {example}", example=ADD_EXAMPLE) if not filters
            else _("No open invoices match.")
        )
    people = {p.id: p for p in ctx.session.exec(select(Person).where(Person.team_id == ctx.team.id))}
    customers = {c.id: c for c in ctx.session.exec(select(Customer).where(col(Customer.id).in_({i.customer_id for i in invoices})))}
    rows = tuple(
        (
            invoice.number,
            customers[invoice.customer_id].name,
            money(ctx, invoice.balance, invoice.currency),
            show_date(invoice.due_date, ctx.locale),
            _("{days} · disputed", days=days_label(invoice.due_date, ctx.today)) if invoice.status == InvoiceStatus.DISPUTED
            else days_label(invoice.due_date, ctx.today),
            f"@{people[invoice.owner_id].handle}",
        )
        for invoice in invoices[:LIST_LIMIT]
    )
    reply = Reply(title=title, private=True, blocks=[Table(
        (_("Invoice"), _("Customer"), _("Balance"), _("Due"), _("When"), _("Owner")), rows)])
    if len(invoices) > LIST_LIMIT:
        reply.say(_("Showing the first {count}; narrow the list with overdue, @person or part of a customer's name.",
                    count=LIST_LIMIT))
    return reply


def show_invoice(command: Command, ctx: Context) -> Reply:
    """An invoice's details, its ladder steps and its history."""
    if not command.words:
        raise UsageError(_("Which invoice? Give its number."), SHOW_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], SHOW_EXAMPLE)
    customer = customer_of(ctx.session, invoice)
    owner = ctx.session.get(Person, invoice.owner_id)
    collector = ctx.session.get(Person, invoice.collector_id) if invoice.collector_id else None
    facts = [
        (_("Customer"), _("{customer} ({contact})", customer=customer.name, contact=customer.contact_name)
         if customer.contact_name else customer.name),
        (_("Amount"), money(ctx, invoice.amount, invoice.currency)),
        (_("Balance"), money(ctx, invoice.balance, invoice.currency)),
        (_("Due"), show_date(invoice.due_date, ctx.locale) if invoice.status == InvoiceStatus.PAID
         else _("{date} ({days})", date=show_date(invoice.due_date, ctx.locale), days=days_label(invoice.due_date, ctx.today))),
        (_("Status"), status_name(invoice.status)),
        (_("Owner"), f"@{owner.handle}" if owner else "?"),
        (_("Collector"), f"@{collector.handle}" if collector else _("the owner")),
        (_("Ladder"), invoice.ladder),
    ]
    reply = Reply(title=_("Invoice {invoice}", invoice=invoice.number), blocks=[Facts(tuple(facts))], private=True)
    steps = list(ctx.session.exec(select(LadderStep).where(LadderStep.invoice_id == invoice.id).order_by(col(LadderStep.position))))
    if steps:
        reply.add(BulletList(tuple(
            f"{step.position}. {step_name(step, ctx.locale)} · {action_name(step.action)} · "
            f"{show_moment(step.due_at, ctx.timezone, ctx.locale)} · {state_name(step.state)}"
            for step in steps
        ), title=_("Ladder steps")))
    reply.add(BulletList(tuple(history_lines(ctx, invoice, limit=20)), title=_("History")))
    return reply


def record_payment(command: Command, ctx: Context) -> Reply:
    """Record a full payment, or a partial one when an amount is given; an identical payment the
    same day is refused unless confirmed."""
    if not command.words:
        raise UsageError(_("Which invoice was paid? Give its number, and an amount for a partial payment."), PAID_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], PAID_EXAMPLE)
    if invoice.status == InvoiceStatus.PAID:
        raise UsageError(_("Invoice {invoice} is already paid in full.", invoice=invoice.number), f"/show {invoice.number}")
    if invoice.status == InvoiceStatus.CANCELLED:
        raise UsageError(_("Invoice {invoice} is cancelled; /reopen it before recording a payment.", invoice=invoice.number),
                         f"/reopen {invoice.number}")
    rest = list(command.words[1:])
    confirmed = bool(rest) and rest[-1].lower() in CONFIRM_WORDS
    if confirmed:
        rest.pop()
    if rest and rest[0].lower() in ("all", "full", "everything") and len(rest) == 1:
        rest = []
    if rest and len(rest[-1]) == 3 and rest[-1].isalpha():
        currency = parse_currency(rest.pop(), PAID_EXAMPLE)
        if currency != invoice.currency:
            raise UsageError(
                _("Invoice {invoice} is in {currency}, not {other}; record the payment in {currency}.",
                  invoice=invoice.number, currency=invoice.currency, other=currency),
                f"/paid {invoice.number} 500 {invoice.currency}",
            )
    if rest:
        paid = check_amount(parse_amount(" ".join(rest), PAID_EXAMPLE), invoice.currency, ctx.services.settings.max_invoice_amount,
                            PAID_EXAMPLE, ctx.locale)
        if paid > invoice.balance:
            raise UsageError(
                _("{amount} is more than the balance of {balance}. For a full payment just write /paid {invoice}.",
                  amount=money(ctx, paid, invoice.currency), balance=money(ctx, invoice.balance, invoice.currency),
                  invoice=invoice.number),
                f"/paid {invoice.number}",
            )
    else:
        paid = invoice.balance
    earlier = course.payments_of(ctx.session, invoice)
    twin = course.identical_payment_today(ctx, earlier, paid, ctx.timezone)
    if twin is not None and not confirmed:
        by = ctx.session.get(Person, twin.recorded_by) if twin.recorded_by else None
        raise UsageError(
            (_("A payment of {amount} on {invoice} was already recorded today at {when} by @{handle}. Nothing was stored. "
               "If the customer really paid twice, repeat the command with “confirm” at the end.",
               amount=money(ctx, paid, invoice.currency), invoice=invoice.number,
               when=show_moment(twin.recorded_at, ctx.timezone, ctx.locale), handle=by.handle) if by else
             _("A payment of {amount} on {invoice} was already recorded today at {when}. Nothing was stored. "
               "If the customer really paid twice, repeat the command with “confirm” at the end.",
               amount=money(ctx, paid, invoice.currency), invoice=invoice.number,
               when=show_moment(twin.recorded_at, ctx.timezone, ctx.locale))),
            f"/paid {invoice.number} {paid} confirm",
        )
    result = course.pay(ctx, invoice, paid, earlier)
    shown_paid = money(ctx, paid, invoice.currency)
    title = (_("Invoice {invoice} is paid in full", invoice=invoice.number) if result.full
             else _("Partial payment recorded on {invoice}", invoice=invoice.number))
    customer = customer_of(ctx.session, invoice)
    buttons = [Button(_("🙏 Thank-you draft"), f"draft {invoice.number} thank_you")] if result.full else []
    buttons.append(Button(_("↩ Undo this payment"), f"undo {invoice.number}"))
    return Reply(title=title, buttons=buttons, blocks=[Facts((
        (_("Customer"), customer.name),
        (_("Paid now"), shown_paid),
        (_("Balance"), money(ctx, invoice.balance, invoice.currency)),
    ))])


def cancel_invoice(command: Command, ctx: Context) -> Reply:
    """Void an invoice (a mistake, a credit note): nothing more goes out; its history stays."""
    if not command.words:
        raise UsageError(_("Which invoice, and why? Give its number and the reason."), CANCEL_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], CANCEL_EXAMPLE)
    reason = command.free_text_after_first_word()
    if not reason:
        raise UsageError(_("Why is {invoice} cancelled? The reason goes into its history.", invoice=invoice.number), CANCEL_EXAMPLE)
    if invoice.status == InvoiceStatus.CANCELLED:
        raise UsageError(_("Invoice {invoice} is already cancelled.", invoice=invoice.number), f"/show {invoice.number}")
    if invoice.status == InvoiceStatus.PAID:
        raise UsageError(_("Invoice {invoice} is already paid.", invoice=invoice.number), f"/show {invoice.number}")
    stopped = course.cancel(ctx, invoice, reason)
    return Reply(title=_("Invoice {invoice} is cancelled", invoice=invoice.number), blocks=[Facts((
        (_("Reason"), reason), (_("Steps stopped"), str(stopped)), (_("History"), _("kept")),
        (_("To undo"), f"/reopen {invoice.number}"),
    ))])


def reopen_invoice(command: Command, ctx: Context) -> Reply:
    """Bring back a cancelled invoice, or one recorded as paid by mistake (its last payment is undone)."""
    if not command.words:
        raise UsageError(_("Which invoice? Give its number."), REOPEN_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], REOPEN_EXAMPLE)
    if invoice.status == InvoiceStatus.PAID:
        return undo_payment(command, ctx)
    if invoice.status != InvoiceStatus.CANCELLED:
        raise UsageError(_("Invoice {invoice} is {status}, not cancelled or paid; there is nothing to reopen.",
                           invoice=invoice.number, status=status_name(invoice.status)), f"/show {invoice.number}")
    course.reopen(ctx, invoice)
    return Reply(title=_("Invoice {invoice} is open again", invoice=invoice.number), blocks=next_step(ctx, invoice))


def undo_payment(command: Command, ctx: Context) -> Reply:
    """Undo the last payment recorded on an invoice: by whoever recorded it, or a manager (the
    permission table admits the invoice's people; which payment is theirs is the course's fact)."""
    if not command.words:
        raise UsageError(_("Which invoice? Give its number."), UNDO_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], UNDO_EXAMPLE)
    payment = course.last_payment(ctx, invoice)
    if payment is None:
        raise UsageError(_("No payment is recorded on {invoice}; there is nothing to undo.", invoice=invoice.number),
                         f"/show {invoice.number}")
    if payment.recorded_by != ctx.person.id and not ctx.person.is_manager:
        raise NotAllowed(_("Only the person who recorded the last payment on {invoice}, or a manager, can undo it.",
                           invoice=invoice.number))
    result = course.undo_payment(ctx, invoice, payment)
    facts = [(_("Undone"), money(ctx, payment.amount, invoice.currency)), (_("Balance"), money(ctx, invoice.balance, invoice.currency))]
    if result.reopened:
        facts.append((_("Status"), _("open again; the ladder resumes")))
    return Reply(title=_("Payment undone on {invoice}", invoice=invoice.number), blocks=[Facts(tuple(facts)), *next_step(ctx, invoice)])


def next_step(ctx: Context, invoice: Invoice) -> list[Block]:
    upcoming = course.steps_of(ctx.session, invoice, [StepState.PENDING])
    if not upcoming:
        return []
    step = upcoming[0]
    return [Facts(((_("Next step"), f"{step_name(step, ctx.locale)} · {show_moment(step.due_at, ctx.timezone, ctx.locale)}"),))]
