"""/change: correct an invoice's due date, owner, collector or ladder; its remaining steps are
planned again from now (steps already delivered stay in the history); see `course.change`. The
customer's draft language, locale and tone can be set here too (`handlers/customer_profile.py`)."""
from __future__ import annotations

from typing import Any

from bot.i18n import N_, _
from handlers.state_names import status_name
from bot.store.models import Customer, InvoiceStatus
from handlers.context import Context
from handlers.customer_profile import DRAFT_OPTIONS, apply_customer_changes, draft_settings_facts, languages_of, read_customer_changes
from bot.floor.dates import parse_date, show_date
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.invoice_lookup import find_invoice
from handlers.people import resolve_mention
from bot.floor.reply import Facts, Reply
from scheduling import course

CHANGE_EXAMPLE = "/change INV-1042 due=2026-12-20 collector=@carol"
LADDER_OPTIONS = ("due", "owner", "collector", "ladder")
CHANGE_OPTIONS = (*LADDER_OPTIONS, *DRAFT_OPTIONS)


def change_invoice(command: Command, ctx: Context) -> Reply:
    if not command.words:
        raise UsageError(_("Which invoice? Give its number, then what changes."), CHANGE_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], CHANGE_EXAMPLE)
    unknown = sorted(set(command.options) - set(CHANGE_OPTIONS))
    if unknown or not command.options or len(command.words) > 1:
        raise UsageError(_("Say what changes with {options}.", options=", ".join(o + "=" for o in CHANGE_OPTIONS)), CHANGE_EXAMPLE)
    if invoice.status != InvoiceStatus.OPEN:
        raise UsageError(_("Invoice {invoice} is {status}; only open invoices can change.", invoice=invoice.number,
                           status=status_name(invoice.status)), f"/show {invoice.number}")
    customer = ctx.session.get(Customer, invoice.customer_id)
    assert customer is not None
    customer_changes = read_customer_changes({key: value for key, value in command.options.items() if key in DRAFT_OPTIONS},
                                             languages_of(ctx), lambda option: f"/change {invoice.number} {option}")
    changes: list[tuple[str, str]] = []
    history: dict[str, Any] = {}
    new_due = owner = collector = None
    if due := command.option("due"):
        new_due = parse_date(due, ctx.today, CHANGE_EXAMPLE)
        changes.append(("Due date", f"{show_date(invoice.due_date, ctx.locale)} → {show_date(new_due, ctx.locale)}"))
        history["due"] = [invoice.due_date.isoformat(), new_due.isoformat()]
    if mention := command.option("owner"):
        owner = resolve_mention(ctx.session, ctx.team, mention.lstrip("@"), CHANGE_EXAMPLE)
        changes.append(("Owner", f"@{owner.handle}"))
        history["owner"] = owner.handle
    if mention := command.option("collector"):
        collector = resolve_mention(ctx.session, ctx.team, mention.lstrip("@"), CHANGE_EXAMPLE)
        changes.append(("Collector", f"@{collector.handle}"))
        history["collector"] = collector.handle
    ladder = command.option("ladder")
    if ladder:
        changes.append(("Ladder", f"{invoice.ladder} → {ladder}"))
        history["ladder"] = [invoice.ladder, ladder]
    settings: list[tuple[str, str]] = []
    if customer_changes:
        apply_customer_changes(ctx, customer, customer_changes)
        settings = draft_settings_facts(customer)
        history.update(customer=customer.name, settings=settings)
    if not any(key in command.options for key in LADDER_OPTIONS):
        return Reply(title=_("Customer {customer}'s drafts changed", customer=customer.name),
                     blocks=[Facts(shown_settings(customer.name, settings))])
    result = course.change(ctx, invoice, due=new_due, owner=owner, collector=collector, ladder=ladder, history=history)
    if result.replanned:
        return Reply(title=_("Invoice {invoice} changed; its next steps are planned again", invoice=invoice.number),
                     blocks=[Facts(shown(changes, customer.name, settings))])
    return Reply(title=_("Invoice {invoice} changed; the steps after its formal claim still count from the claim",
                         invoice=invoice.number), blocks=[Facts(shown(changes, customer.name, settings))])


CHANGE_LABELS = {"Due date": N_("Due date"), "Owner": N_("Owner"), "Collector": N_("Collector"), "Ladder": N_("Ladder")}


def shown(changes: list[tuple[str, str]], customer: str, settings: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The changes as the reader sees them; the customer's draft settings come last."""
    return tuple((_(CHANGE_LABELS.get(label, label)), value) for label, value in changes) + shown_settings(customer, settings)


def shown_settings(customer: str, settings: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((_("{customer}: {setting}", customer=customer, setting=_(label).lower()), value) for label, value in settings)
