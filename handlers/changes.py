"""/change: correct an invoice's due date, owner, collector or ladder; its remaining steps are
planned again from now (steps already delivered stay in the history)."""
from __future__ import annotations

from bot.models import InvoiceStatus
from handlers.context import Context
from handlers.dates import parse_date, show_date
from handlers.errors import UsageError
from handlers.grammar import Command
from handlers.history import record_event
from handlers.invoice_lookup import find_invoice
from handlers.people import resolve_mention
from handlers.reply import Facts, Reply

CHANGE_EXAMPLE = "/change INV-1042 due=2026-12-20 collector=@carol"
CHANGE_OPTIONS = ("due", "owner", "collector", "ladder")


def change_invoice(command: Command, ctx: Context) -> Reply:
    if not command.words:
        raise UsageError("Which invoice? Give its number, then what changes.", CHANGE_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], CHANGE_EXAMPLE)
    unknown = sorted(set(command.options) - set(CHANGE_OPTIONS))
    if unknown or not command.options or len(command.words) > 1:
        raise UsageError(f"Say what changes with {', '.join(o + '=' for o in CHANGE_OPTIONS)}.", CHANGE_EXAMPLE)
    if invoice.status != InvoiceStatus.OPEN:
        raise UsageError(f"Invoice {invoice.number} is {invoice.status.value}; only open invoices can change.", f"/show {invoice.number}")
    changes: list[tuple[str, str]] = []
    if due := command.option("due"):
        new_due = parse_date(due, ctx.today, CHANGE_EXAMPLE)
        changes.append(("Due date", f"{show_date(invoice.due_date, ctx.locale)} → {show_date(new_due, ctx.locale)}"))
        invoice.due_date = new_due
    for role in ("owner", "collector"):
        if mention := command.option(role):
            person = resolve_mention(ctx.session, ctx.team, mention.lstrip("@"), CHANGE_EXAMPLE)
            changes.append((role.capitalize(), f"@{person.handle}"))
            setattr(invoice, f"{role}_id", person.id)
    if ladder := command.option("ladder"):
        changes.append(("Ladder", f"{invoice.ladder} → {ladder}"))
        invoice.ladder = ladder
    ctx.session.add(invoice)
    for hook in ctx.services.invoice_hooks:
        replan = getattr(hook, "replan", None)
        if replan is not None:
            replan(ctx, invoice)
    record_event(ctx, "changed", "changed " + "; ".join(f"{label.lower()}: {value}" for label, value in changes), invoice)
    return Reply(title=f"Invoice {invoice.number} changed; its next steps are planned again", blocks=[Facts(tuple(changes))])
