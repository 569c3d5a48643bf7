"""/history (the full timeline in chat) and /casefile (the dossier for the legal handover: a
self-contained HTML file with the invoice, the customer, the amounts and every contact)."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import select

from bot.i18n import _, ngettext
from bot.store.models import Event, Instalment, Person
from handlers.context import Context
from bot.floor.dates import show_date, show_moment
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.invoice_lookup import customer_of, days_label, find_invoice
from handlers.state_names import status_name
from bot.floor.money import format_money
from bot.floor.reply import Attachment, BulletList, Reply
from handlers.timeline import timeline
from scheduling.event_texts import event_text

HISTORY_EXAMPLE = "/history INV-1042"
CASEFILE_EXAMPLE = "/casefile INV-1042"
HISTORY_LIMIT = 60
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
TEMPLATES.globals["_"] = _


def history(command: Command, ctx: Context) -> Reply:
    if not command.words:
        raise UsageError(_("Which invoice? Give its number."), HISTORY_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], HISTORY_EXAMPLE)
    entries = timeline(ctx, invoice)
    shown = entries[-HISTORY_LIMIT:]
    lines = tuple(f"{show_moment(e.at, ctx.timezone, ctx.locale)} · {e.who} · {e.text}" for e in shown)
    reply = Reply(title=ngettext("History of {invoice} ({n} entry)", "History of {invoice} ({n} entries)", len(entries),
                                 invoice=invoice.number), private=True)
    if len(entries) > len(shown):
        reply.say(_("The latest {shown} of {total}; /casefile {invoice} has them all.", shown=len(shown), total=len(entries),
                    invoice=invoice.number))
    return reply.add(BulletList(lines))


def casefile(command: Command, ctx: Context) -> Reply:
    if not command.words:
        raise UsageError(_("Which invoice? Give its number."), CASEFILE_EXAMPLE)
    invoice = find_invoice(ctx, command.words[0], CASEFILE_EXAMPLE)
    customer = customer_of(ctx.session, invoice)
    people = {p.id: p for p in ctx.session.exec(select(Person).where(Person.team_id == ctx.team.id))}
    owner = people.get(invoice.owner_id)
    collector = people.get(invoice.collector_id) if invoice.collector_id else None
    entries = timeline(ctx, invoice)
    drafts = list(ctx.session.exec(select(Event).where(Event.invoice_id == invoice.id, Event.kind == "draft")))
    instalments = list(ctx.session.exec(select(Instalment).where(Instalment.invoice_id == invoice.id)))
    money = lambda amount: format_money(amount, invoice.currency, ctx.locale)
    html = TEMPLATES.get_template("casefile.html.j2").render(
        team=ctx.team.name, invoice=invoice, customer=customer, owner=owner, collector=collector,
        amount=money(invoice.amount), balance=money(invoice.balance), paid=money(invoice.amount - invoice.balance),
        due=show_date(invoice.due_date, ctx.locale), issued=show_date(invoice.issue_date, ctx.locale) if invoice.issue_date else None,
        overdue=days_label(invoice.due_date, ctx.today),
        promised=show_date(invoice.promised_date, ctx.locale) if invoice.promised_date else None,
        entries=[(show_moment(e.at, ctx.timezone, ctx.locale), e.who, e.kind, e.text) for e in entries],
        contacts=[e for e in entries if e.kind in ("ping", "answer", "done", "no_answer", "no_contact", "promise", "letter")],
        drafts=[(show_moment(d.at, ctx.timezone, ctx.locale), event_text(d, ctx.locale, ctx.timezone), d.details) for d in drafts],
        instalments=[(i.sequence, show_date(i.due_date, ctx.locale), money(i.amount)) for i in instalments],
        generated=show_moment(ctx.now, ctx.timezone, ctx.locale), author=ctx.person.display_name,
        language=ctx.language, status=status_name(invoice.status),
    )
    return Reply(
        title=_("Case file for {invoice}", invoice=invoice.number), private=True,
        files=[Attachment(f"casefile-{invoice.number}.html", html.encode("utf-8"), "text/html")],
    ).say(ngettext("Everything on {invoice} for the lawyers: the invoice, {customer}, the amounts and {n} dated entry. "
                   "Open it in a browser; print it to PDF if a paper copy is needed.",
                   "Everything on {invoice} for the lawyers: the invoice, {customer}, the amounts and {n} dated entries. "
                   "Open it in a browser; print it to PDF if a paper copy is needed.",
                   len(entries), invoice=invoice.number, customer=customer.name))
