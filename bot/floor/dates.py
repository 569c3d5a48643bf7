"""Reading dates as people type them (`2026-12-01`, `01.12.2026`, `+30d`) and writing them back."""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from bot.floor.errors import UsageError

DATE_FORMS = "2026-12-01, 01.12.2026 or +30d (30 days from today)"
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_RELATIVE = re.compile(r"^\+(\d{1,4})d$", re.IGNORECASE)
_FURTHEST_YEARS = 10


def looks_like_date(text: str) -> bool:
    token = text.strip()
    return bool(_ISO.match(token) or _DOTTED.match(token) or _RELATIVE.match(token)) or token.lower() in ("today", "tomorrow")


def parse_date(text: str, today: date, example: str) -> date:
    """A calendar date in one of DATE_FORMS; impossible dates are explained, not corrected."""
    token = text.strip()
    lowered = token.lower()
    if lowered == "today":
        return today
    if lowered == "tomorrow":
        return today + timedelta(days=1)
    if match := _RELATIVE.match(token):
        return today + timedelta(days=int(match.group(1)))
    if match := _ISO.match(token):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DOTTED.match(token):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise UsageError(f"{token!r} is not a date I can read. Write it as {DATE_FORMS}.", example)
    if not 1 <= month <= 12:
        raise UsageError(f"{token!r} is not a real date: there is no month {month}.", example)
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        month_name = calendar.month_name[month]
        raise UsageError(
            f"{token!r} is not a real date: {month_name} {year} has {days_in_month} days.", example
        )
    parsed = date(year, month, day)
    if abs(parsed.year - today.year) > _FURTHEST_YEARS:
        raise UsageError(f"{token!r} is more than {_FURTHEST_YEARS} years away; check the year.", example)
    return parsed


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def show_date(day: date, locale: str = "en") -> str:
    return format_date(day, format="medium", locale=locale)


def show_moment(moment: datetime, timezone: str, locale: str = "en") -> str:
    return format_datetime(moment, format="EEE d MMM y, HH:mm", tzinfo=ZoneInfo(timezone), locale=locale)
