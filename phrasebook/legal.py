"""Each country's legal minimums that a draft's dates must respect (the rule itself lives with the
ladder's course, `scheduling/notice.py`, so a draft and the stored claim deadline always agree)."""
from __future__ import annotations

from datetime import date

from scheduling.business_calendar import add_business_days
from scheduling.notice import MINIMUM_NOTICE_DAYS, NOTICE_MARGIN_DAYS, claim_deadline, respects_minimum

__all__ = ["DEFAULT_FINAL_BUSINESS_DAYS", "MINIMUM_NOTICE_DAYS", "NOTICE_MARGIN_DAYS", "final_deadline", "respects_minimum"]

DEFAULT_FINAL_BUSINESS_DAYS = 10
"""The standard ladder's claim deadline, used when the invoice's ladder names none."""


def final_deadline(sent: date, business_days: int | None, country: str) -> date:
    """The deadline a final warning names: the ladder's own rule (business days from sending), never
    earlier than the country's minimum notice plus a margin, and on a business day."""
    return claim_deadline(sent, add_business_days(sent, business_days or DEFAULT_FINAL_BUSINESS_DAYS, country), country)
