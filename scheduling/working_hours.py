"""A team member's working hours as the calendar needs them."""
from __future__ import annotations

from bot.models import Person, Team
from scheduling.business_calendar import WorkingHours


def hours_of(person: Person, team: Team | None) -> WorkingHours:
    return WorkingHours(
        zone=person.timezone,
        start=person.work_start,
        end=person.work_end,
        workdays=person.workday_numbers,
        country=person.holiday_country or (team.default_country if team else None),
    )
