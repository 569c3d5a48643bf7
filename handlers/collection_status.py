"""What the chase itself looks like, for the summary: promises, disputes, payment plans, steps
left undone, money collected, DSO. Each is one indexed query over the invoices in scope, or a
sum over a tally the database keeps (money collected, DSO's receivables and sales)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import func, literal, type_coerce
from sqlmodel import Session, col

from bot.store.db_types import ExactAmount
from bot.store.models import CollectedSlot, Instalment, Invoice, InvoiceStatus, LadderStep, Payment, ReceivableDay, SalesMonth, StepState
from handlers.dso import MAX_MONTHS, Dso, countback_dso, previous_month
from handlers.overdue_figures import OPEN_STATES, Amounts, Scope, add_amount

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


def collection_status(session: Session, scope: Scope, now: datetime, timezone: str, *, with_dso: bool,
                      with_collected: bool = True) -> CollectionStatus:
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
    if with_collected:
        collected = _collected(session, scope, {"week": week_from, "month": month_from}, now)
        status.collected_week, status.collected_month = collected["week"], collected["month"]
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


class EachInvoice:
    """The invoice of each row of a small set (payments of a period, unanswered steps), found by
    its key: on PostgreSQL a LATERAL subquery, so that the planner cannot hash-join the team's
    whole invoice table instead; SQLite's planner already starts from the small side."""

    def __init__(self, key: Any, conditions: list[sa.ColumnElement[bool]], lateral: bool) -> None:
        self.lateral = lateral
        if lateral:
            self.found = sa.select(Invoice.currency, Invoice.owner_id).where(  # type: ignore[call-overload]
                col(Invoice.id) == key, *conditions).limit(1).lateral("each_invoice")  # LIMIT: never flattened into a join
            self.currency, self.owner_id = self.found.c.currency, self.found.c.owner_id
        else:
            self.key, self.conditions = key, conditions
            self.currency, self.owner_id = col(Invoice.currency), col(Invoice.owner_id)

    def join_to(self, query: Any) -> Any:
        if self.lateral:
            return query.join(self.found, sa.true())
        return query.join(Invoice, col(Invoice.id) == self.key).where(*self.conditions)


def each_invoice(session: Session, key: Any, scope: Scope, *, open_only: bool = True) -> EachInvoice:
    conditions = scope.invoice_conditions() if open_only else [col(Invoice.team_id) == scope.team_id, *scope.narrowing()]
    return EachInvoice(key, conditions, lateral=session.get_bind().dialect.name == "postgresql")


def _undone_steps(session: Session, scope: Scope, now: datetime, status: CollectionStatus) -> None:
    """Steps that were sent, are past due and nobody answered: per responsible person (the owner
    when the step names nobody)."""
    steps = sa.select(LadderStep.invoice_id, LadderStep.responsible_id).where(  # type: ignore[call-overload]
        UNANSWERED, col(LadderStep.due_at) <= now).subquery()
    invoice = each_invoice(session, steps.c.invoice_id, scope)
    person = func.coalesce(steps.c.responsible_id, invoice.owner_id)
    query = invoice.join_to(sa.select(person, func.count()).select_from(steps)).group_by(person)
    status.undone_steps = {int(p): int(n) for p, n in session.execute(query)}


def _collected(session: Session, scope: Scope, periods: dict[str, datetime], until: datetime) -> dict[str, dict[str, Decimal]]:
    """Per period (from its start until now) and currency, the payments recorded and not undone
    (an undone payment stays in `payment`, marked, and counts for nothing). For the team (or one
    currency) from the quarter-hour tally the triggers keep; for a person or customer text, one
    pass over the payment index from the earliest start, each payment's invoice found by its key."""
    since = min(periods.values())
    if not scope.person_ids and not scope.customer_text:
        slot = CollectedSlot
        sums = [type_coerce(func.sum(sa.case((col(slot.slot) >= start, col(slot.amount)), else_=literal(0))),
                            ExactAmount).label(name) for name, start in periods.items()]
        query = sa.select(slot.currency, *sums).where(  # type: ignore[call-overload]
            slot.team_id == scope.team_id, col(slot.slot) >= since, col(slot.slot) <= until,
            *([slot.currency == scope.currency] if scope.currency else [])).group_by(slot.currency)
    else:
        sums = [type_coerce(func.sum(sa.case((col(Payment.recorded_at) >= start, col(Payment.amount)), else_=literal(0))),
                            ExactAmount).label(name) for name, start in periods.items()]
        invoice = each_invoice(session, col(Payment.invoice_id), scope, open_only=False)
        query = invoice.join_to(sa.select(invoice.currency, *sums).select_from(Payment)).where(
            col(Payment.recorded_at) >= since, col(Payment.recorded_at) <= until, col(Payment.undone_at).is_(None),
        ).group_by(invoice.currency)
    result: dict[str, dict[str, Decimal]] = {name: {} for name in periods}
    for row in session.execute(query):
        for name in periods:
            if total := row._mapping[name]:
                result[name][row[0]] = total
    return {name: dict(sorted(totals.items())) for name, totals in result.items()}


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
