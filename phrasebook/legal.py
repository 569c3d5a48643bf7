"""Each country's legal minimums that a draft's dates must respect.

Norway (inkassoloven § 9): an inkassovarsel gives at least 14 days from the day it is sent before
collection may start; we add a margin of days so that a letter posted late in the day still holds.
"""
from __future__ import annotations

from datetime import date, timedelta

from scheduling.business_calendar import add_business_days, next_business_day

DEFAULT_FINAL_BUSINESS_DAYS = 10
"""The standard ladder's claim deadline, used when the invoice's ladder names none."""
MINIMUM_NOTICE_DAYS = {"NO": 14}
NOTICE_MARGIN_DAYS = 2


def final_deadline(sent: date, business_days: int | None, country: str) -> date:
    """The deadline a final warning names: the ladder's own rule (business days from sending), never
    earlier than the country's minimum notice plus a margin, and on a business day."""
    deadline = add_business_days(sent, business_days or DEFAULT_FINAL_BUSINESS_DAYS, country)
    minimum = MINIMUM_NOTICE_DAYS.get(country)
    if minimum is not None:
        deadline = max(deadline, next_business_day(sent + timedelta(days=minimum + NOTICE_MARGIN_DAYS), country))
    return deadline


def respects_minimum(sent: date, deadline: date, country: str) -> bool:
    return (deadline - sent).days >= MINIMUM_NOTICE_DAYS.get(country, 0)
