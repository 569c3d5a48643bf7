"""A team member's working hours as the calendar needs them.

Settings are validated when they are stored (`/team add|set`); a value stored before that (or by
hand) that the calendar cannot use falls back to the team's default here, with a warning, so one
person's bad row never stops planning for the invoice or for anyone else.
"""
from __future__ import annotations

import logging
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


from bot.store.models import Person, Team
from scheduling.business_calendar import WorkingHours


log = logging.getLogger(__name__)
FALLBACK_ZONE = "UTC"
FALLBACK_WORKDAYS = frozenset(range(5))


@cache
def holiday_countries() -> frozenset[str]:
    """Two-letter codes the `holidays` package has a calendar for."""
    import holidays  # on first use: importing it costs start-up 20–40 ms

    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)


@cache
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zone(name: str | None) -> bool:
    if not name or name not in time_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def known_country(code: str | None) -> bool:
    return bool(code) and code in holiday_countries()


def hours_of(person: Person, team: Team | None) -> WorkingHours:
    zone = person.timezone
    if not known_zone(zone):
        zone = team.default_timezone if team and known_zone(team.default_timezone) else FALLBACK_ZONE
        log.warning("person %s has an unusable time zone %r; using %s", person.id, person.timezone, zone)
    country = person.holiday_country or (team.default_country if team else None)
    if country is not None and not known_country(country):
        fallback = team.default_country if team and known_country(team.default_country) else None
        log.warning("person %s has an unusable holiday country %r; using %s", person.id, country, fallback)
        country = fallback
    start, end = person.work_start, person.work_end
    workdays = frozenset(day for day in person.workday_numbers if 0 <= day <= 6) if _parsable(person.workdays) else frozenset()
    if end <= start or not workdays:
        log.warning("person %s has unusable working hours %s-%s on %r; using 09:00-17:00 mon-fri",
                    person.id, start, end, person.workdays)
        start, end, workdays = WorkingHours.start, WorkingHours.end, FALLBACK_WORKDAYS
    return WorkingHours(zone=zone, start=start, end=end, workdays=workdays, country=country)


def _parsable(workdays: str) -> bool:
    return all(part.strip().isdigit() for part in workdays.split(",") if part.strip())
