"""The overdue figures, computed by the database: from the trigger-kept tallies for the team's
whole book, or by grouping the matching invoices in SQL when a filter narrows it. Never every
invoice into Python."""
from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, case, func, literal, or_, type_coerce
from sqlmodel import Session, col

from bot.i18n import N_, _
from bot.store.db_types import ExactAmount
from bot.store.models import Customer, Invoice, InvoiceStatus, ReceivableDay, ReceivableMonth

OPEN_STATES = (InvoiceStatus.OPEN.value, InvoiceStatus.DISPUTED.value)


@dataclass(frozen=True)
class Bucket:
    label: str
    low: int
    high: int | None

    def due_range(self, today: date) -> tuple[date | None, date]:
        """Due dates in this bucket: [first, last] (first None: no lower end)."""
        last = today - timedelta(days=self.low)
        return (None if self.high is None else today - timedelta(days=self.high)), last

    def holds(self, days_overdue: int) -> bool:
        return days_overdue >= self.low and (self.high is None or days_overdue <= self.high)


BUCKETS = (Bucket("1-30 days", 1, 30), Bucket("31-60 days", 31, 60), Bucket("61-90 days", 61, 90),
           Bucket("over 90 days", 91, None))
BUCKET_LABELS = {"1-30 days": N_("1-30 days"), "31-60 days": N_("31-60 days"), "61-90 days": N_("61-90 days"),
                 "over 90 days": N_("over 90 days")}
"""The aging buckets as a reader sees them (`Bucket.label` is the English key)."""


def bucket_label(label: str) -> str:
    return _(BUCKET_LABELS.get(label, label))
BUCKET_NAMES = {"1-30": BUCKETS[0], "31-60": BUCKETS[1], "61-90": BUCKETS[2], "90+": BUCKETS[3], "91+": BUCKETS[3]}


def bucket_of(days_overdue: int) -> Bucket:
    for bucket in BUCKETS:
        if bucket.holds(days_overdue):
            return bucket
    raise ValueError(f"{days_overdue} days is not overdue")


Amounts = dict[str, tuple[int, Decimal]]
"""Per currency: (invoices, balance)."""


def add_amount(amounts: Amounts, currency: str, count: int, balance: Decimal) -> None:
    old_count, old_balance = amounts.get(currency, (0, Decimal(0)))
    amounts[currency] = (old_count + count, old_balance + balance)


def count_of(amounts: Amounts) -> int:
    return sum(count for count, _ in amounts.values())


@dataclass(frozen=True)
class Scope:
    """Which overdue invoices the figures cover."""

    team_id: int
    today: date
    person_ids: tuple[int, ...] = ()
    """Owned or collected by one of these (a salesperson's own; `@person`)."""
    customer_text: str | None = None
    currency: str | None = None
    bucket: Bucket | None = None

    @property
    def whole_book(self) -> bool:
        """Nothing narrows it beyond the currency and the due dates (a bucket): the tallies answer."""
        return not self.person_ids and not self.customer_text

    def month_split(self) -> tuple[date | None, date, list[tuple[date, date]]]:
        """The overdue due dates as whole months the month tally answers for, [first, end), and the
        ranges of days at either edge left to the covering index (the current month's overdue
        days; a bucket's part-months)."""
        first, last = self.due_bounds()
        end = _month_start(last + timedelta(days=1))
        start = None if first is None else first if first.day == 1 else _next_month(first)
        edges = []
        if first is not None and start is not None and first < min(start, end):
            edges.append((first, min(start, end) - timedelta(days=1)))
        if end <= last:
            edges.append((max(end, first or end), last))
        if start is not None and start > end:  # within one month: no whole month at all
            start = end
        return start, end, edges

    def due_bounds(self) -> tuple[date | None, date]:
        """Due dates of overdue invoices in scope: [first, last]."""
        if self.bucket is None:
            return None, self.today - timedelta(days=1)
        return self.bucket.due_range(self.today)

    def invoice_conditions(self) -> list[ColumnElement[bool]]:
        """Everything but the due date: team, open, person, customer text, currency."""
        return [col(Invoice.team_id) == self.team_id, col(Invoice.status).in_(OPEN_STATES), *self.narrowing()]

    def narrowing(self) -> list[ColumnElement[bool]]:
        """The person, customer text and currency conditions (they hold for paid invoices too)."""
        conditions: list[ColumnElement[bool]] = []
        if self.person_ids:
            conditions.append(or_(col(Invoice.owner_id).in_(self.person_ids), col(Invoice.collector_id).in_(self.person_ids)))
        if self.currency:
            conditions.append(col(Invoice.currency) == self.currency)
        if self.customer_text:
            conditions.append(col(Invoice.customer_id).in_(
                sa.select(Customer.id).where(Customer.team_id == self.team_id,  # type: ignore[call-overload]
                                             col(Customer.name_key).contains(self.customer_text))
            ))
        return conditions

    def overdue_conditions(self) -> list[ColumnElement[bool]]:
        first, last = self.due_bounds()
        conditions = self.invoice_conditions() + [col(Invoice.due_date) <= last]
        if first is not None:
            conditions.append(col(Invoice.due_date) >= first)
        return conditions


@dataclass
class OverdueFigures:
    totals: Amounts = field(default_factory=dict)
    aging: dict[str, Amounts] = field(default_factory=dict)
    owners: dict[int, Amounts] = field(default_factory=dict)
    collectors: dict[int, Amounts] = field(default_factory=dict)
    """Key 0: invoices with no collector (the owner collects)."""
    customers: list[tuple[int, Amounts, date]] = field(default_factory=list)
    """The customers owing most: by number of overdue invoices, then the oldest debt first."""
    customer_count: int = 0

    @property
    def invoices(self) -> int:
        return count_of(self.totals)


def overdue_figures(session: Session, scope: Scope, top_customers: int = 10, *, per_person: bool = True) -> OverdueFigures:
    """`per_person`: also the tables by owner and by collector (a manager's summary shows them)."""
    figures = OverdueFigures()
    for currency, bucket_index, count, balance in _aging_rows(session, scope):
        bucket = BUCKETS[bucket_index]
        add_amount(figures.aging.setdefault(bucket.label, {}), currency, count, balance)
        add_amount(figures.totals, currency, count, balance)
    figures.totals = dict(sorted(figures.totals.items()))
    figures.aging = {bucket.label: figures.aging[bucket.label] for bucket in BUCKETS if bucket.label in figures.aging}
    if not figures.totals:
        return figures
    rows = _dimension_rows(session, scope, per_person)
    figures.owners = _merged(rows["owner_id"])
    figures.collectors = _merged(rows["collector_id"])
    figures.customers, figures.customer_count = _top_customers(
        session, scope, None if scope.whole_book else rows["customer_id"], top_customers)
    return figures


def _amount_sum(column: Any) -> Any:
    return type_coerce(func.sum(column), ExactAmount)


def _bucket_case(due: Any, today: date) -> Any:
    return case(
        (due >= today - timedelta(days=30), literal(0)),
        (due >= today - timedelta(days=60), literal(1)),
        (due >= today - timedelta(days=90), literal(2)),
        else_=literal(3),
    )


def _aging_rows(session: Session, scope: Scope) -> Iterable[tuple[str, int, int, Decimal]]:
    first, last = scope.due_bounds()
    if scope.whole_book:
        day = ReceivableDay
        bucket = _bucket_case(col(day.due_date), scope.today)
        query: Select[Any] = sa.select(day.currency, bucket, func.sum(day.invoices), _amount_sum(day.balance)).where(  # type: ignore[call-overload]
            day.team_id == scope.team_id, col(day.due_date) <= last, *([col(day.due_date) >= first] if first else []),
        )
        if scope.currency:
            query = query.where(col(day.currency) == scope.currency)
        query = query.group_by(day.currency, bucket)
    else:
        bucket = _bucket_case(col(Invoice.due_date), scope.today)
        query = sa.select(Invoice.currency, bucket, func.count(), _amount_sum(Invoice.balance)).where(  # type: ignore[call-overload]
            *scope.overdue_conditions()
        ).group_by(Invoice.currency, bucket)
    return [(currency, int(index), int(count), balance) for currency, index, count, balance in session.execute(query)]


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


DIMENSIONS = ("owner_id", "collector_id", "customer_id")
GroupRow = tuple[int, str, int, Decimal, date]
"""(owner, collector (0: none) or customer id, currency, invoices, balance, oldest due date or month)."""


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _merged(rows: list[GroupRow]) -> dict[int, Amounts]:
    result: dict[int, Amounts] = defaultdict(dict)
    for key, currency, count, balance, _first_due in rows:
        add_amount(result[key], currency, count, balance)
    return dict(result)


def _dimension_rows(session: Session, scope: Scope, per_person: bool = True) -> dict[str, list[GroupRow]]:
    """Overdue amounts per owner, per collector and per customer. For the whole book: the months
    before the current one from the month tally, and the current month's overdue days from one
    pass over the covering index; for a narrowed scope, the matching invoices grouped in SQL."""
    rows: dict[str, list[GroupRow]] = {dimension: [] for dimension in DIMENSIONS}
    if scope.whole_book:
        return _tally_rows(session, scope, rows)
    for dimension in DIMENSIONS if per_person else ("customer_id",):
        key = getattr(Invoice, dimension)
        query = sa.select(key, Invoice.currency, func.count(), _amount_sum(Invoice.balance),  # type: ignore[call-overload]
                          func.min(Invoice.due_date)).where(*scope.overdue_conditions()).group_by(key, Invoice.currency)
        rows[dimension] = [(int(k or 0), c, int(n), b, _as_date(d)) for k, c, n, b, d in session.execute(query)]
    return rows


def _month_rows(scope: Scope, dimension: str, start: date | None, end: date) -> list[ColumnElement[bool]]:
    month = ReceivableMonth
    return [col(month.team_id) == scope.team_id, col(month.dimension) == dimension, col(month.due_month) < end,
            *([col(month.due_month) >= start] if start else []), *([col(month.currency) == scope.currency] if scope.currency else [])]


def _tally_rows(session: Session, scope: Scope, rows: dict[str, list[GroupRow]]) -> dict[str, list[GroupRow]]:
    """Owners and collectors from the month tally's whole months plus the edge days from one pass
    each over the covering index; the customers are ranked in SQL (`_ranked_customers`), only
    the leaders come back."""
    start, end, edges = scope.month_split()
    month = ReceivableMonth
    for dimension in ("owner_id", "collector_id"):
        query = sa.select(month.subject_id, month.currency, func.sum(month.invoices), _amount_sum(month.balance),  # type: ignore[call-overload]
                          func.min(month.due_month)).where(*_month_rows(scope, dimension.removesuffix("_id"), start, end))
        query = query.group_by(month.subject_id, month.currency)
        rows[dimension] = [(int(k), c, int(n), b, _as_date(d)) for k, c, n, b, d in session.execute(query)]
    for low, high in edges:
        # one pass over the edge days for both: per (owner, collector) pair
        query = sa.select(Invoice.owner_id, Invoice.collector_id, Invoice.currency, func.count(),  # type: ignore[call-overload]
                          _amount_sum(Invoice.balance), func.min(Invoice.due_date)).where(
            *scope.invoice_conditions(), col(Invoice.due_date) >= low, col(Invoice.due_date) <= high,
        ).group_by(Invoice.owner_id, Invoice.collector_id, Invoice.currency)
        for owner, collector, currency, count, balance, first_due in session.execute(query):
            rows["owner_id"].append((int(owner), currency, int(count), balance, _as_date(first_due)))
            rows["collector_id"].append((int(collector or 0), currency, int(count), balance, _as_date(first_due)))
    return rows


def _ranked_customers(session: Session, scope: Scope, limit: int) -> tuple[list[GroupRow], int]:
    """The leading customers by overdue invoices (then the oldest month), and how many customers
    owe at all: the whole months summed per customer along the month tally's key (no sort), the
    edge days' overdue invoices grouped from the covering index, merged
    here (one small tuple per customer; the dates stay as the driver gives them, ISO text on
    SQLite, until the leaders are known)."""
    start, end, edges = scope.month_split()
    month = ReceivableMonth
    raw = sa.String()
    query = sa.select(month.subject_id, func.sum(month.invoices), type_coerce(func.min(month.due_month), raw)).where(  # type: ignore[call-overload]
        *_month_rows(scope, "customer", start, end)).group_by(month.subject_id)
    counts: dict[int, int] = {}
    oldest: dict[int, Any] = {}
    for customer, count, first_due in session.execute(query):
        counts[customer] = count
        oldest[customer] = first_due
    for low, high in edges:
        for customer, count, first_due in session.execute(
            sa.select(Invoice.customer_id, func.count(), type_coerce(func.min(Invoice.due_date), raw)).where(  # type: ignore[call-overload]
                *scope.invoice_conditions(), col(Invoice.due_date) >= low, col(Invoice.due_date) <= high,
            ).group_by(Invoice.customer_id)
        ):
            counts[customer] = counts.get(customer, 0) + count
            oldest[customer] = min(oldest.get(customer, first_due), first_due)
    leaders = heapq.nsmallest(limit, counts, key=lambda c: (-counts[c], oldest[c], c))
    return [(c, "", int(counts[c]), Decimal(0), _as_date(oldest[c])) for c in leaders], len(counts)


def _top_customers(session: Session, scope: Scope, rows: list[GroupRow] | None, limit: int,
                   ) -> tuple[list[tuple[int, Amounts, date]], int]:
    customer_count = None
    if rows is None:
        rows, customer_count = _ranked_customers(session, scope, limit * 5)
    counts: dict[int, int] = defaultdict(int)
    oldest: dict[int, date] = {}
    for customer, _currency, count, _balance, first_due in rows:
        counts[customer] += count
        oldest[customer] = min(oldest.get(customer, first_due), first_due)
    # month rows know the month, not the day: rank roughly, then exactly among the leaders
    leaders = sorted(counts, key=lambda c: (-counts[c], oldest[c], c))[: limit * 5]
    amounts: dict[int, Amounts] = defaultdict(dict)
    exact_oldest: dict[int, date] = {}
    if leaders:
        for key, currency, count, balance, first_due in session.execute(
            sa.select(Invoice.customer_id, Invoice.currency, func.count(), _amount_sum(Invoice.balance),  # type: ignore[call-overload]
                      func.min(Invoice.due_date))
            .where(*scope.overdue_conditions(), col(Invoice.customer_id).in_(leaders))
            .group_by(Invoice.customer_id, Invoice.currency)
        ):
            add_amount(amounts[key], currency, int(count), balance)
            exact_oldest[key] = min(exact_oldest.get(key, first_due), first_due)
    ranked = sorted(leaders, key=lambda c: (-counts[c], exact_oldest.get(c, oldest[c]), c))[:limit]
    return ([(c, dict(sorted(amounts[c].items())), exact_oldest.get(c, oldest[c])) for c in ranked],
            len(counts) if customer_count is None else customer_count)
