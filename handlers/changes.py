"""/change: correct an invoice's due date, owner, collector or ladder; its remaining steps are
planned again from now (steps already delivered stay in the history); see `course.change`."""
from __future__ import annotations

from bot.i18n import N_, _
from handlers.state_names import status_name
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
        raise UsageError(_("Which invoice? Give its number, then what changes."), CHANGE_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], CHANGE_EXAMPLE)
    unknown = sorted(set(command.options) - set(CHANGE_OPTIONS))
    if unknown or not command.options or len(command.words) > 1:
        raise UsageError(_("Say what changes with {options}.", options=", ".join(o + "=" for o in CHANGE_OPTIONS)), CHANGE_EXAMPLE)
    if invoice.status != InvoiceStatus.OPEN:
        raise UsageError(_("Invoice {invoice} is {status}; only open invoices can change.", invoice=invoice.number,
                           status=status_name(invoice.status)), f"/show {invoice.number}")
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
        return Reply(title=_("Invoice {invoice} changed; its next steps are planned again", invoice=invoice.number),
                     blocks=[Facts(shown(changes))])
    return Reply(title=_("Invoice {invoice} changed; the steps after its formal claim still count from the claim",
                         invoice=invoice.number), blocks=[Facts(shown(changes))])


CHANGE_LABELS = {"Due date": N_("Due date"), "Owner": N_("Owner"), "Collector": N_("Collector"), "Ladder": N_("Ladder")}


def shown(changes: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The changes as the reader sees them (the history keeps the English labels)."""
    return tuple((_(CHANGE_LABELS.get(label, label)), value) for label, value in changes)
