"""One rule for a country typed by a person (/add country=, /team set holidays=, an import's
customer country): a code the business calendar has public holidays for (`holidays`, through
scheduling.working_hours), since the ladder counts business days with it. Babel's territory list
only tells a wrong code ("not an ISO country code") from an ISO one without a calendar."""
from __future__ import annotations

import functools

from babel import Locale

from scheduling.working_hours import holiday_countries, known_country

SAME_CALENDAR = {"UK": "GB"}
"""Codes the calendar also accepts, stored as their ISO code."""


@functools.cache
def iso_countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes Babel knows, read from its locale data on first use (not at start-up)."""
    return frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())


def calendar_country(text: str) -> str | None:
    """The country code for `text` when the calendar has its public holidays, else None."""
    code = text.strip().upper()
    code = SAME_CALENDAR.get(code, code)
    return code if known_country(code) else None


def country_problem(text: str) -> str:
    """Why `text` is refused, and what would do (a code starting with the same letter)."""
    code = text.strip().upper()
    shown = repr(text if len(text) <= 40 else text[:39] + "…")
    iso = "" if code in iso_countries() else " (not an ISO country code)"
    near = sorted(c for c in holiday_countries() if code and c[0] == code[0] and c not in SAME_CALENDAR)[:8]
    hint = f" (starting with {code[0]}: {', '.join(near)})" if near else ""
    return f"{shown} is not a country I have public holidays for{iso}; use a two-letter ISO code such as NO, SE, DE, US{hint}"
