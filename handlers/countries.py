"""One rule for a country typed by a person (/add country=, /team set holidays=, an import's
customer country): a code the business calendar has public holidays for (`holidays`, through
scheduling.working_hours), since the ladder counts business days with it. Babel's territory list
only tells a wrong code ("not an ISO country code") from an ISO one without a calendar."""
from __future__ import annotations

import functools

from babel import Locale

from bot.i18n import _
from scheduling.working_hours import holiday_countries, known_country

SAME_CALENDAR = {"UK": "GB"}
"""Codes the calendar also accepts, stored as their ISO code."""


@functools.cache
def iso_countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes Babel knows, read from its locale data on first use (not at start-up)."""
    return frozenset(code for code in Locale("en").territories if isinstance(code, str) and len(code) == 2 and code.isalpha())


def calendar_country(text: str) -> str | None:
    """The country code for `text` when the calendar has its public holidays, else None."""
    code = text.strip().upper()
    code = SAME_CALENDAR.get(code, code)
    return code if known_country(code) else None


def country_problem(text: str) -> str:
    """Why `text` is refused, and what would do (a code starting with the same letter)."""
    code = text.strip().upper()
    shown = repr(text if len(text) <= 40 else text[:39] + "…")
    iso = code in iso_countries()
    near = sorted(c for c in holiday_countries() if code and c[0] == code[0] and c not in SAME_CALENDAR)[:8]
    codes = "NO, SE, DE, US"
    if near and iso:
        return _("{text} is not a country I have public holidays for; use a two-letter ISO code such as {codes} "
                 "(starting with {letter}: {near})", text=shown, codes=codes, letter=code[0], near=", ".join(near))
    if near:
        return _("{text} is not a country I have public holidays for (not an ISO country code); use a two-letter ISO code "
                 "such as {codes} (starting with {letter}: {near})", text=shown, codes=codes, letter=code[0], near=", ".join(near))
    if iso:
        return _("{text} is not a country I have public holidays for; use a two-letter ISO code such as {codes}",
                 text=shown, codes=codes)
    return _("{text} is not a country I have public holidays for (not an ISO country code); use a two-letter ISO code "
             "such as {codes}", text=shown, codes=codes)
