"""/change: correct an invoice's due date, owner, collector or ladder; its remaining steps are
planned again from now (steps already delivered stay in the history); see `course.change`."""
from __future__ import annotations

from bot.store.models import InvoiceStatus
from handlers.context import Context
from bot.floor.dates import parse_date, show_date
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.invoice_lookup import find_invoice
from handlers.people import resolve_mention
from bot.floor.reply import Facts, Reply
from scheduling import course

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
    new_due = owner = collector = None
    if due := command.option("due"):
        new_due = parse_date(due, ctx.today, CHANGE_EXAMPLE)
        changes.append(("Due date", f"{show_date(invoice.due_date, ctx.locale)} → {show_date(new_due, ctx.locale)}"))
    if mention := command.option("owner"):
        owner = resolve_mention(ctx.session, ctx.team, mention.lstrip("@"), CHANGE_EXAMPLE)
        changes.append(("Owner", f"@{owner.handle}"))
    if mention := command.option("collector"):
        collector = resolve_mention(ctx.session, ctx.team, mention.lstrip("@"), CHANGE_EXAMPLE)
        changes.append(("Collector", f"@{collector.handle}"))
    ladder = command.option("ladder")
    if ladder:
        changes.append(("Ladder", f"{invoice.ladder} → {ladder}"))
    result = course.change(ctx, invoice, due=new_due, owner=owner, collector=collector, ladder=ladder, facts=changes)
    if result.replanned:
        return Reply(title=f"Invoice {invoice.number} changed; its next steps are planned again", blocks=[Facts(tuple(changes))])
    return Reply(title=f"Invoice {invoice.number} changed; the steps after its formal claim still count from the claim",
                 blocks=[Facts(tuple(changes))])
