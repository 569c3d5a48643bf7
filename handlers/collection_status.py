"""What the chase itself looks like, for the summary: promises, disputes, payment plans, steps
left undone, money collected, DSO. Each is one indexed query over the invoices in scope."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import func, literal, type_coerce
from sqlmodel import Session, col

from bot.store.db_types import ExactAmount
from bot.store.models import Event, Instalment, Invoice, InvoiceStatus, LadderStep, ReceivableDay, SalesMonth, StepState
from handlers.dso import MAX_MONTHS, Dso, countback_dso, previous_month
from handlers.overdue_figures import OPEN_STATES, Amounts, Scope, add_amount

PAYMENT_EVENTS = ("paid", "partial_payment")
UNANSWERED = sa.text(f"ladder_step.state = '{StepState.SENT.value}' AND ladder_step.acknowledged_at IS NULL")
"""Written out literally so that the databases use the partial index with the same condition."""
LISTED = 5


@dataclass
class CollectionStatus:
    promises_this_week: list[Invoice] = field(default_factory=list)
    promises_this_week_count: int = 0
    broken_promises: list[Invoice] = field(default_factory=list)
    broken_promises_count: int = 0
    disputes: list[Invoice] = field(default_factory=list)
    disputes_amounts: Amounts = field(default_factory=dict)
    plans_on_track: int = 0
    plans_behind: list[tuple[Invoice, Decimal]] = field(default_factory=list)
    """(invoice, amount behind)."""
    undone_steps: dict[int, int] = field(default_factory=dict)
    """Person id → steps sent, due and not answered."""
    collected_week: dict[str, Decimal] = field(default_factory=dict)
    collected_month: dict[str, Decimal] = field(default_factory=dict)
    dso: dict[str, Dso] = field(default_factory=dict)


def week_bounds(today: date) -> tuple[date, date]:
    start = today - timedelta(days=today.weekday())
    return start, start + timedelta(days=6)


def collection_status(session: Session, scope: Scope, now: datetime, timezone: str, *, with_dso: bool) -> CollectionStatus:
    status = CollectionStatus()
    today = scope.today
    week_start, week_end = week_bounds(today)
    in_scope = [col(Invoice.team_id) == scope.team_id, *scope.narrowing()]
    open_only = col(Invoice.status) == InvoiceStatus.OPEN.value

    def invoices(*conditions: sa.ColumnElement[bool], by_promise: bool = True) -> tuple[list[Invoice], int]:
        order = (col(Invoice.promised_date), col(Invoice.due_date)) if by_promise else (col(Invoice.due_date),)
        rows = list(session.exec(sa.select(Invoice).where(*in_scope, *conditions)  # type: ignore[call-overload]
                                 .order_by(*order, col(Invoice.id)).limit(LISTED)).scalars())
        count = session.execute(sa.select(func.count()).select_from(Invoice).where(*in_scope, *conditions)).scalar_one()
        return rows, int(count)

    status.promises_this_week, status.promises_this_week_count = invoices(
        open_only, col(Invoice.promised_date) >= max(week_start, today), col(Invoice.promised_date) <= week_end)
    status.broken_promises, status.broken_promises_count = invoices(open_only, col(Invoice.promised_date) < today)
    status.disputes, _ = invoices(col(Invoice.status) == InvoiceStatus.DISPUTED.value, by_promise=False)
    for currency, count, balance in session.execute(
        sa.select(Invoice.currency, func.count(), type_coerce(func.sum(Invoice.balance), ExactAmount))  # type: ignore[call-overload]
        .where(*in_scope, col(Invoice.status) == InvoiceStatus.DISPUTED.value).group_by(Invoice.currency)
    ):
        add_amount(status.disputes_amounts, currency, int(count), balance)
    _plans(session, scope, status)
    _undone_steps(session, scope, now, status)
    zone = ZoneInfo(timezone)
    week_from = datetime.combine(week_start, time(0), tzinfo=zone)
    month_from = datetime.combine(today.replace(day=1), time(0), tzinfo=zone)
    status.collected_week = _collected(session, scope, week_from, now)
    status.collected_month = _collected(session, scope, month_from, now)
    if with_dso:
        status.dso = _dso(session, scope)
    return status


def _plans(session: Session, scope: Scope, status: CollectionStatus) -> None:
    """A plan is on track when what was paid covers every instalment due before today."""
    due_so_far = func.coalesce(func.sum(sa.case((col(Instalment.due_date) < scope.today, col(Instalment.amount)), else_=literal(0))), 0)
    plans = sa.select(col(Instalment.invoice_id).label("invoice_id"), due_so_far.label("due")).group_by(
        col(Instalment.invoice_id)).subquery()
    paid = col(Invoice.amount) - col(Invoice.balance)
    query = (
        sa.select(Invoice, type_coerce(plans.c.due - paid, ExactAmount))  # type: ignore[call-overload]
        .select_from(plans).join(Invoice, col(Invoice.id) == plans.c.invoice_id)
        .where(col(Invoice.team_id) == scope.team_id, *scope.narrowing(), col(Invoice.status) == InvoiceStatus.OPEN.value)
    )
    behind: list[tuple[Invoice, Decimal]] = []
    for invoice, shortfall in session.execute(query):
        if shortfall > 0:
            behind.append((invoice, shortfall))
        else:
            status.plans_on_track += 1
    status.plans_behind = sorted(behind, key=lambda item: (-item[1], item[0].number))


def _undone_steps(session: Session, scope: Scope, now: datetime, status: CollectionStatus) -> None:
    """Steps that were sent, are past due and nobody answered: per responsible person (the owner
    when the step names nobody)."""
    if scope.whole_book:
        # per step row, two primary-key lookups: no join that could scan every invoice
        owner = sa.select(Invoice.owner_id).where(col(Invoice.id) == col(LadderStep.invoice_id)).scalar_subquery()  # type: ignore[call-overload]
        team = sa.select(Invoice.team_id).where(col(Invoice.id) == col(LadderStep.invoice_id),  # type: ignore[call-overload]
                                                col(Invoice.status).in_(OPEN_STATES)).scalar_subquery()
        person = func.coalesce(col(LadderStep.responsible_id), owner)
        query = (sa.select(person, func.count()).where(UNANSWERED, col(LadderStep.due_at) <= now, team == scope.team_id)
                 .group_by(person))
    else:
        person = func.coalesce(col(LadderStep.responsible_id), col(Invoice.owner_id))
        query = (sa.select(person, func.count()).join(Invoice, col(Invoice.id) == col(LadderStep.invoice_id))
                 .where(UNANSWERED, col(LadderStep.due_at) <= now, *scope.invoice_conditions()).group_by(person))
    status.undone_steps = {int(p): int(n) for p, n in session.execute(query)}


def _collected(session: Session, scope: Scope, since: datetime, until: datetime) -> dict[str, Decimal]:
    """Payments recorded in the period, per currency, from the history (the amount each payment
    event carries)."""
    amount_text = Event.details["amount"].as_string()  # type: ignore[index]
    if session.get_bind().dialect.name == "sqlite":
        scaled = sa.cast(func.round(sa.cast(amount_text, sa.Float) * 10000), sa.BigInteger)
    else:
        scaled = sa.cast(sa.cast(amount_text, sa.Numeric) * 10000, sa.BigInteger)
    if scope.whole_book and not scope.currency:
        currency: Any = sa.select(Invoice.currency).where(col(Invoice.id) == col(Event.invoice_id)).scalar_subquery()  # type: ignore[call-overload]
        query = sa.select(currency, type_coerce(func.sum(scaled), ExactAmount)).where(
            col(Event.team_id) == scope.team_id, col(Event.kind).in_(PAYMENT_EVENTS), col(Event.at) >= since, col(Event.at) <= until,
        ).group_by(currency)
    else:
        query = (
            sa.select(Invoice.currency, type_coerce(func.sum(scaled), ExactAmount))  # type: ignore[call-overload]
            .join(Invoice, col(Invoice.id) == col(Event.invoice_id))
            .where(col(Event.team_id) == scope.team_id, col(Event.kind).in_(PAYMENT_EVENTS), col(Event.at) >= since,
                   col(Event.at) <= until, *scope.narrowing())
            .group_by(Invoice.currency)
        )
    return {currency: total for currency, total in sorted(session.execute(query)) if total}


def _dso(session: Session, scope: Scope) -> dict[str, Dso]:
    """Per currency, for the whole team: today's receivables (open and disputed balances, due or
    not) against the sales of the last months, both from the tallies."""
    day = ReceivableDay
    receivables_query = sa.select(day.currency, type_coerce(func.sum(day.balance), ExactAmount)).where(  # type: ignore[call-overload]
        day.team_id == scope.team_id).group_by(day.currency)
    oldest_month = scope.today.replace(day=1)
    for _ in range(MAX_MONTHS - 1):
        oldest_month = previous_month(oldest_month)
    sales: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for currency, month, amount in session.execute(
        sa.select(SalesMonth.currency, SalesMonth.month, SalesMonth.amount).where(  # type: ignore[call-overload]
            SalesMonth.team_id == scope.team_id, col(SalesMonth.month) >= oldest_month)
    ):
        sales[currency][month if isinstance(month, date) else date.fromisoformat(str(month))] = amount
    result = {}
    for currency, receivables in sorted(session.execute(receivables_query)):
        if scope.currency and currency != scope.currency:
            continue
        result[currency] = countback_dso(receivables, sales[currency], scope.today)
    return result
