"""Reading dates as people type them and writing them back.

A date is typed the same way in every language (`2026-12-01`, `01.12.2026`, `+30d`), or as a word
of the person's own language: today (`today`, `i dag`, `сегодня`, `днес`), tomorrow (`tomorrow`,
`i morgen`, `завтра`, `утре`) and `+30д` for thirty days from today. Weekday names (`mon`,
`mandag`, `пн`, `понедельник`, `понеделник`) come from Babel's names for each language.

Texts are plain English literals, one per message, so that they can be wrapped for translation.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_day_names

from bot.floor.errors import UsageError
from bot.i18n import DEFAULT_LOCALES, N_, _, current_language

DATE_FORMS = N_("2026-12-01, 01.12.2026, +30d for 30 days from today, today or tomorrow")
"""How a date may be typed, for help texts and errors (the words work in every language, see DAY_WORDS)."""
LANGUAGES = ("en", "nb", "ru", "bg")
"""The languages whose date and weekday words are understood, whoever types them."""
DAY_WORDS: dict[str, int] = {
    # today
    "today": 0, "i dag": 0, "idag": 0, "сегодня": 0, "днес": 0,
    # tomorrow
    "tomorrow": 1, "i morgen": 1, "imorgen": 1, "завтра": 1, "утре": 1,
}
"""Words for a day counted from today, in English, Norwegian, Russian and Bulgarian."""
_TWO_WORD_DAYS = {tuple(word.split()) for word in DAY_WORDS if " " in word}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_RELATIVE = re.compile(r"^\+(\d{1,4})\s?[dд]$", re.IGNORECASE)
"""+30d, or +30д (день in Russian, ден in Bulgarian)."""
_FURTHEST_YEARS = 10
_ENGLISH_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def join_day_words(words: Iterable[str]) -> list[str]:
    """Keep a two-word date (`i morgen`, `i dag`) together as one word, as a command's grammar
    reads one word per date."""
    joined: list[str] = []
    for word in words:
        if joined and (joined[-1].lower(), word.lower()) in _TWO_WORD_DAYS:
            joined[-1] = f"{joined[-1]} {word}"
        else:
            joined.append(word)
    return joined


def looks_like_date(text: str) -> bool:
    token = text.strip()
    return bool(_ISO.match(token) or _DOTTED.match(token) or _RELATIVE.match(token)) or _normal(token) in DAY_WORDS


def parse_date(text: str, today: date, example: str | None = None) -> date:
    """A calendar date in one of DATE_FORMS; impossible dates are explained, not corrected.

    `example` is the calling command's own correct example; without one the core shows the
    example of the command that was run."""
    token = text.strip()
    if (days := DAY_WORDS.get(_normal(token))) is not None:
        return today + timedelta(days=days)
    if match := _RELATIVE.match(token):
        return today + timedelta(days=int(match.group(1)))
    if match := _ISO.match(token):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DOTTED.match(token):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise UsageError(_("{token!r} is not a date I can read. Write it as {forms}.", token=token, forms=_(DATE_FORMS)), example)
    if not 1 <= month <= 12:
        raise UsageError(_("{token!r} is not a real date: there is no month {month}.", token=token, month=month), example)
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        month_name = format_date(date(year, month, 1), "LLLL y", locale=current_locale())
        raise UsageError(
            _("{token!r} is not a real date: {month} has {days} days.", token=token, month=month_name, days=days_in_month),
            example)
    parsed = date(year, month, day)
    if abs(parsed.year - today.year) > _FURTHEST_YEARS:
        raise UsageError(_("{token!r} is more than {most} years away; check the year.", token=token, most=_FURTHEST_YEARS), example)
    return parsed


def _weekday_names() -> dict[str, int]:
    names: dict[str, int] = {}
    for language in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for number, name in get_day_names(width, "format", language).items():
                names[name.lower().rstrip(".")] = number
    return names


WEEKDAY_NAMES = _weekday_names()
"""Monday is 0: every language's full and short names (`fredag`, `fre`, `пятница`, `пт`, `петък`)."""


def weekday_number(word: str) -> int | None:
    """The weekday a word names (0 is Monday), in any of LANGUAGES; English may be any word
    starting with the day's first three letters (`fri`, `friday`, `fridays`)."""
    token = word.strip().lower().rstrip(".")
    if token[:3] in _ENGLISH_DAYS:
        return _ENGLISH_DAYS.index(token[:3])
    return WEEKDAY_NAMES.get(token)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def show_date(day: date, locale: str = "en") -> str:
    return format_date(day, format="medium", locale=locale)


def show_moment(moment: datetime, timezone: str, locale: str = "en") -> str:
    return format_datetime(moment, format="EEE d MMM y, HH:mm", tzinfo=ZoneInfo(timezone), locale=locale)


def current_locale() -> str:
    """The Babel locale of the language being spoken (for month names in messages)."""
    return DEFAULT_LOCALES[current_language()]
