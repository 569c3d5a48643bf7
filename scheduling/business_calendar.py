"""Business days and working hours: when a step may happen.

Business days skip weekends and the public holidays of a country (the `holidays` package). A
person's working slot is their working hours on their working days, in their own time zone, off
their country's holidays. Every function takes and returns timezone-aware datetimes; none reads
the clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays

WEEKEND = frozenset({5, 6})
SEARCH_DAYS = 400
"""How far ahead to look for a working day before concluding there is none (a year and a bit)."""


class UnknownCountry(ValueError):
    pass


@lru_cache(maxsize=64)
def public_holidays(country: str) -> holidays.HolidayBase:
    """The country's public holidays (years are filled in on demand)."""
    import holidays  # on first use: importing it costs start-up 20–40 ms

    try:
        return holidays.country_holidays(country.upper())
    except NotImplementedError as error:
        raise UnknownCountry(f"I have no public-holiday calendar for country {country!r}; use an ISO code like NO, SE, DE, US.") from error


def is_business_day(day: date, country: str) -> bool:
    return day.weekday() not in WEEKEND and day not in public_holidays(country)


def next_business_day(day: date, country: str) -> date:
    """`day` itself when it is a business day, else the first one after it."""
    while not is_business_day(day, country):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, count: int, country: str) -> date:
    """`count` business days after `day` (before it when negative). With 0, a non-business day
    moves to the next business day."""
    if count == 0:
        return next_business_day(day, country)
    step = 1 if count > 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_business_day(day, country):
            remaining -= 1
    return day


def local_moment(day: date, at: time, zone: str) -> datetime:
    """The instant the wall clock in `zone` shows `at` on `day`, in UTC. Across a DST change the
    wall-clock time is kept; a time skipped by the spring change moves forward by the gap; a time
    that happens twice in the autumn is the first."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


@dataclass(frozen=True)
class WorkingHours:
    zone: str
    start: time = time(9, 0)
    end: time = time(17, 0)
    workdays: frozenset[int] = frozenset(range(5))
    country: str | None = None
    """Whose public holidays are days off; None means none."""

    def works_on(self, day: date) -> bool:
        if day.weekday() not in self.workdays:
            return False
        return self.country is None or day not in public_holidays(self.country)


def next_working_slot(moment: datetime, hours: WorkingHours) -> datetime:
    """`moment` itself when it falls within the person's working hours, else the start of their
    next working slot."""
    zone = ZoneInfo(hours.zone)
    local = moment.astimezone(zone)
    day = local.date()
    for _ in range(SEARCH_DAYS):
        if hours.works_on(day):
            start = local_moment(day, hours.start, hours.zone)
            end = local_moment(day, hours.end, hours.zone)
            if moment < start:
                return start
            if moment < end:
                return moment.astimezone(timezone.utc)
        day += timedelta(days=1)
    raise ValueError(f"no working slot within {SEARCH_DAYS} days for working hours {hours}")


def add_working_time(moment: datetime, duration: timedelta, hours: WorkingHours) -> datetime:
    """The moment when `duration` of the person's working time has passed after `moment`
    (evenings, days off and holidays do not count)."""
    remaining = duration
    current = next_working_slot(moment, hours)
    for _ in range(SEARCH_DAYS * 2):
        day = current.astimezone(ZoneInfo(hours.zone)).date()
        end = local_moment(day, hours.end, hours.zone)
        available = end - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = next_working_slot(end, hours)
    raise ValueError(f"{duration} of working time does not fit within {SEARCH_DAYS} days for {hours}")
