"""Who may see which invoice, and finding one by its number."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, func, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.models import Customer, Invoice, Person, Role
from handlers.context import Context
from handlers.errors import NotAllowed, UsageError


def sees_all(person: Person) -> bool:
    """Managers and admins oversee every invoice; lawyers receive any of them at the legal handover."""
    return person.is_manager or person.role == Role.LAWYER


def may_see(person: Person, invoice: Invoice) -> bool:
    return sees_all(person) or person.id in (invoice.owner_id, invoice.collector_id)


def visible_invoices(ctx: Context) -> SelectOfScalar[Invoice]:
    """Salespeople and collectors see the invoices they own or collect; managers, admins and lawyers all."""
    query = select(Invoice).where(Invoice.team_id == ctx.team.id)
    if not sees_all(ctx.person):
        query = query.where(or_(Invoice.owner_id == ctx.person.id, Invoice.collector_id == ctx.person.id))
    return query


def find_invoice(ctx: Context, number: str, example: str) -> Invoice:
    invoice = ctx.session.exec(
        select(Invoice).where(Invoice.team_id == ctx.team.id, Invoice.number == number)
    ).first() or ctx.session.exec(
        select(Invoice).where(Invoice.team_id == ctx.team.id, func.lower(Invoice.number) == number.lower())
    ).first()
    if invoice is None:
        raise UsageError(f"There is no invoice {number} on this team. /list shows the invoices you can see.", example)
    if not may_see(ctx.person, invoice):
        owner = ctx.session.get(Person, invoice.owner_id)
        raise NotAllowed(
            f"Invoice {invoice.number} is followed by @{owner.handle if owner else '?'}; only its owner, its "
            "collector, managers and lawyers can see it."
        )
    return invoice


def customer_of(session: Session, invoice: Invoice) -> Customer:
    customer = session.get(Customer, invoice.customer_id)
    assert customer is not None
    return customer


def days_label(due: date, today: date) -> str:
    delta = (due - today).days
    if delta == 0:
        return "due today"
    if delta > 0:
        return f"due in {delta} day{'s' if delta != 1 else ''}"
    return f"{-delta} day{'s' if delta != -1 else ''} overdue"
