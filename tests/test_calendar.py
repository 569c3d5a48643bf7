"""The business calendar at its edges: wall-clock times that do not exist or happen twice, unknown
countries, people without a holiday calendar, and a person's working hours read from the team."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.store.models import Person, Role, Team
from scheduling.business_calendar import (
    UnknownCountry,
    WorkingHours,
    add_business_days,
    is_business_day,
    local_moment,
    next_working_slot,
)
from scheduling.working_hours import hours_of

OSLO = ZoneInfo("Europe/Oslo")
NEW_YORK = ZoneInfo("America/New_York")
CREATED = datetime(2026, 11, 1, tzinfo=timezone.utc)


def wall_clock(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


@pytest.mark.parametrize(("zone", "spring_day"), [(OSLO, date(2027, 3, 28)), (NEW_YORK, date(2027, 3, 14))],
                         ids=["oslo", "new-york"])
def test_a_step_planned_in_the_spring_gap_moves_forward_by_the_gap(zone: ZoneInfo, spring_day: date) -> None:
    moment = local_moment(spring_day, time(2, 30), str(zone))
    assert moment.tzinfo == timezone.utc
    assert wall_clock(moment, zone) == datetime.combine(spring_day, time(3, 30)), "02:30 does not exist; 03:30 does"


def test_an_ambiguous_autumn_time_is_the_first_of_the_two() -> None:
    first = local_moment(date(2027, 10, 31), time(2, 30), "Europe/Oslo")
    assert first == datetime(2027, 10, 31, 0, 30, tzinfo=timezone.utc), "02:30 summer time (UTC+2), not winter time"
    assert first.astimezone(OSLO).utcoffset() == timedelta(hours=2)


def test_midday_is_midday_local_on_both_sides_of_the_change() -> None:
    before = local_moment(date(2027, 3, 26), time(12, 0), "Europe/Oslo")
    after = local_moment(date(2027, 3, 29), time(12, 0), "Europe/Oslo")
    assert (before.hour, after.hour) == (11, 10), "UTC+1 before, UTC+2 after"


def test_an_unknown_country_is_refused_with_an_example_of_a_good_code() -> None:
    with pytest.raises(UnknownCountry, match="'Norway'.*ISO code like NO"):
        add_business_days(date(2027, 1, 4), 1, "Norway")
    with pytest.raises(UnknownCountry, match="'XX'"):
        is_business_day(date(2027, 1, 4), "XX")


def test_a_country_code_in_lower_case_is_understood() -> None:
    assert not is_business_day(date(2027, 5, 17), "no"), "Constitution Day"
    assert is_business_day(date(2027, 5, 17), "se")


def test_a_moment_inside_working_hours_is_kept_as_it_is() -> None:
    office = WorkingHours("Europe/Oslo", country="NO")
    moment = datetime(2027, 1, 5, 11, 17, 42, tzinfo=OSLO)
    slot = next_working_slot(moment, office)
    assert slot == moment and slot.tzinfo == timezone.utc
    end_of_day = datetime(2027, 1, 5, 17, 0, tzinfo=OSLO)
    assert wall_clock(next_working_slot(end_of_day, office), OSLO) == datetime(2027, 1, 6, 9, 0), "17:00 is already after hours"


def test_without_a_holiday_country_public_holidays_are_working_days() -> None:
    no_calendar = WorkingHours("Europe/Oslo", country=None)
    norwegian = WorkingHours("Europe/Oslo", country="NO")
    constitution_day = datetime(2027, 5, 17, 8, 0, tzinfo=OSLO)
    assert wall_clock(next_working_slot(constitution_day, no_calendar), OSLO) == datetime(2027, 5, 17, 9, 0)
    assert wall_clock(next_working_slot(constitution_day, norwegian), OSLO) == datetime(2027, 5, 18, 9, 0)


def test_a_new_york_working_day_follows_new_york_time_not_oslo_time() -> None:
    dave = WorkingHours("America/New_York", country="US")
    oslo_afternoon = datetime(2027, 1, 5, 14, 0, tzinfo=OSLO)  # 08:00 in New York
    assert wall_clock(next_working_slot(oslo_afternoon, dave), NEW_YORK) == datetime(2027, 1, 5, 9, 0)
    thanksgiving = datetime(2027, 11, 25, 10, 0, tzinfo=NEW_YORK)
    assert wall_clock(next_working_slot(thanksgiving, dave), NEW_YORK) == datetime(2027, 11, 26, 9, 0)


def person(**fields: object) -> Person:
    defaults: dict[str, object] = dict(id=7, team_id=1, handle="erin", display_name="Erin", role=Role.COLLECTOR,
                                       timezone="Europe/Stockholm", created_at=CREATED)
    return Person(**(defaults | fields))


def test_working_hours_come_from_the_person_and_holidays_from_their_country_or_the_team() -> None:
    team = Team(id=1, name="Acme", default_currency="NOK", default_timezone="Europe/Oslo", default_country="NO",
                created_at=CREATED)
    erin = person(work_start=time(13, 0), work_end=time(21, 0), workdays="0,1,2,3", holiday_country="SE")
    hours = hours_of(erin, team)
    assert hours == WorkingHours("Europe/Stockholm", time(13, 0), time(21, 0), frozenset({0, 1, 2, 3}), "SE")
    assert hours_of(person(), team).country == "NO", "no country of their own: the team's"
    assert hours_of(person(), None).country is None
