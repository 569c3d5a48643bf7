"""Who may see which invoice, and finding one by its number."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.i18n import _, ngettext
from bot.store.models import Customer, Invoice, Person, Role
from handlers.context import Context
from handlers.permissions import find_named_invoice, not_visible


def sees_all(person: Person) -> bool:
    """Managers and admins oversee every invoice; lawyers receive any of them at the legal handover."""
    return person.is_manager or person.role == Role.LAWYER


def may_see(person: Person, invoice: Invoice) -> bool:
    return sees_all(person) or person.id in (invoice.owner_id, invoice.collector_id)


def visible_invoices(ctx: Context) -> SelectOfScalar[Invoice]:
    """Salespeople and collectors see the invoices they own or collect; managers, admins and lawyers all."""
    query = select(Invoice).where(Invoice.team_id == ctx.team.id)
    if not sees_all(ctx.person):
        query = query.where(or_(col(Invoice.owner_id) == ctx.person.id, col(Invoice.collector_id) == ctx.person.id))
    return query


def find_invoice(ctx: Context, number: str, example: str) -> Invoice:
    """The invoice named `number` if the person may see it; otherwise the same refusal whether it
    exists or not, so nothing about someone else's invoice is revealed."""
    invoice = find_named_invoice(ctx.session, ctx.team.id, number)  # type: ignore[arg-type]
    if invoice is None or not may_see(ctx.person, invoice):
        raise not_visible(number, example)
    return invoice


def customer_of(session: Session, invoice: Invoice) -> Customer:
    customer = session.get(Customer, invoice.customer_id)
    assert customer is not None
    return customer


def days_label(due: date, today: date) -> str:
    delta = (due - today).days
    if delta == 0:
        return _("due today")
    if delta > 0:
        return ngettext("due in {n} day", "due in {n} days", delta)
    return ngettext("{n} day overdue", "{n} days overdue", -delta)
