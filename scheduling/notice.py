"""How long a claim must give the customer: each country's legal minimum notice, in one place.

Norway (inkassoloven § 9): an inkassovarsel gives at least 14 days from the day it is sent before
collection may start; we add a margin of days so that a letter posted late in the day, or read a
day later, still holds. Russia (ч. 5 ст. 4 АПК РФ): a dispute goes to the arbitrazh court only
30 calendar days after the pre-trial claim was sent (unless the contract sets another period), so
the claim's deadline — after which the case goes to court — is no earlier. The ladder's stored
claim deadline, the legal handover that waits for it, and the date a final-warning draft names all
come from `claim_deadline`.
"""
from __future__ import annotations

from datetime import date, timedelta

from scheduling.business_calendar import next_business_day

MINIMUM_NOTICE_DAYS: dict[str, int] = {"NO": 14, "RU": 30}
"""Full calendar days a claim must give from the day it is sent, per customer country."""
NOTICE_MARGIN_DAYS = 2


def earliest_deadline(sent: date, country: str) -> date | None:
    """The first deadline a claim sent on `sent` may name in `country` (minimum + margin, on a
    business day), or None where the law sets no minimum."""
    minimum = MINIMUM_NOTICE_DAYS.get(country)
    if minimum is None:
        return None
    return next_business_day(sent + timedelta(days=minimum + NOTICE_MARGIN_DAYS), country)


def claim_deadline(sent: date, ruled: date, country: str) -> date:
    """The ladder's own deadline (`ruled`), moved later where the country's minimum notice asks."""
    earliest = earliest_deadline(sent, country)
    return ruled if earliest is None else max(ruled, earliest)


def respects_minimum(sent: date, deadline: date, country: str) -> bool:
    return (deadline - sent).days >= MINIMUM_NOTICE_DAYS.get(country, 0)
