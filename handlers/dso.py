"""Days sales outstanding by the countback method, per currency.

Countback: start from today's receivables and walk back month by month through the sales
(amounts invoiced); each month whose sales the receivables still exceed counts all its days,
the month that covers the rest counts the matching share of its days. The current month counts
only the days elapsed so far.
"""
from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

MAX_MONTHS = 24


@dataclass(frozen=True)
class Dso:
    days: Decimal
    complete: bool
    """False when 24 months of sales did not cover the receivables (DSO is then at least `days`)."""


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def countback_dso(receivables: Decimal, sales_by_month: Mapping[date, Decimal], today: date) -> Dso:
    remaining = receivables
    days = Decimal(0)
    month = today.replace(day=1)
    for _ in range(MAX_MONTHS):
        month_days = today.day if month == today.replace(day=1) else calendar.monthrange(month.year, month.month)[1]
        sales = sales_by_month.get(month, Decimal(0))
        if remaining <= 0:
            break
        if sales >= remaining:
            days += Decimal(month_days) * remaining / sales
            return Dso(days.quantize(Decimal("0.1"), ROUND_HALF_UP), True)
        remaining -= sales
        days += month_days
        month = previous_month(month)
    return Dso(days.quantize(Decimal("0.1"), ROUND_HALF_UP), remaining <= 0)
