"""Planning an invoice's steps beyond the common cases: the spring DST change in two time zones,
late invoices whose people live in different time zones, the legal handover after the claim's
deadline, and the order of steps for every shipped ladder over a whole year of due dates."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from scheduling.business_calendar import WorkingHours, add_business_days, is_business_day
from scheduling.planning import Assignee, PlannedStep, plan
from scheduling.policies import LadderPolicy, load_policies

OSLO = ZoneInfo("Europe/Oslo")
NEW_YORK = ZoneInfo("America/New_York")
POLICIES = load_policies()
STANDARD = POLICIES["standard"]
OSLO_OFFICE = WorkingHours("Europe/Oslo", country="NO")
NEW_YORK_OFFICE = WorkingHours("America/New_York", country="US")


def same_hours(hours: WorkingHours) -> dict[str, Assignee]:
    return {role: Assignee(index, hours) for index, role in enumerate(("owner", "collector", "manager", "lawyer"), start=1)}


def wall_clock(step: PlannedStep, zone: ZoneInfo = OSLO) -> datetime:
    return step.due_at.astimezone(zone).replace(tzinfo=None)


def plan_for(policy: LadderPolicy, due: date, now: datetime, people: dict[str, Assignee], country: str = "NO") -> list[PlannedStep]:
    return plan(policy, due_date=due, added_at=now, now=now, country=country, people=people)


@pytest.mark.parametrize(("zone", "country", "due"), [
    (OSLO, "NO", date(2027, 3, 24)),       # clocks go forward on Sunday 28 March; Easter follows
    (NEW_YORK, "US", date(2027, 3, 12)),   # clocks go forward on Sunday 14 March
], ids=["oslo", "new-york"])
def test_steps_keep_their_local_time_across_the_spring_change(zone: ZoneInfo, country: str, due: date) -> None:
    hours = WorkingHours(str(zone), country=country)
    steps = plan_for(STANDARD, due, datetime(2027, 3, 1, 9, tzinfo=zone), same_hours(hours), country)
    assert [wall_clock(s, zone).time() for s in steps] == [s.when.at for s in STANDARD.steps]
    due_call, written_demand = steps[1], steps[2]
    assert due_call.due_at.astimezone(zone).dst() == timedelta(0)
    assert written_demand.due_at.astimezone(zone).dst() == timedelta(hours=1), "the ladder crosses into summer time"
    assert due_call.due_at.astimezone(timezone.utc).hour == {OSLO: 11, NEW_YORK: 17}[zone]


def test_easter_is_skipped_for_a_norwegian_customer() -> None:
    steps = plan_for(STANDARD, date(2027, 3, 24), datetime(2027, 3, 1, 9, tzinfo=OSLO), same_hours(OSLO_OFFICE))
    assert wall_clock(steps[2]) == datetime(2027, 3, 30, 10, 0), \
        "the day after Wednesday 24 March is Tuesday 30 March: Maundy Thursday to Easter Monday are holidays"


def test_a_late_invoice_fires_its_current_step_in_the_responsible_persons_morning() -> None:
    """Owner in Oslo, collector in New York. At 13:00 in Oslo (07:00 in New York) the due-date
    call (12:00 New York yesterday) is the step the invoice has reached; it waits for New York's
    09:00, and the written demand keeps its own time later that morning."""
    people = {"owner": Assignee(1, OSLO_OFFICE), "collector": Assignee(2, NEW_YORK_OFFICE),
              "manager": Assignee(3, OSLO_OFFICE), "lawyer": Assignee(4, OSLO_OFFICE)}
    now = datetime(2026, 12, 8, 13, 0, tzinfo=OSLO)
    steps = plan_for(STANDARD, date(2026, 12, 7), now, people)
    assert [s.state for s in steps] == ["skipped"] + ["pending"] * 5 + ["waiting"], "the legal handover waits behind the claim"
    assert wall_clock(steps[1], NEW_YORK) == datetime(2026, 12, 8, 9, 0)
    assert wall_clock(steps[2], NEW_YORK) == datetime(2026, 12, 8, 10, 0)
    assert all(s.due_at >= now for s in steps if s.state == "pending")
    assert [s.responsible_id for s in steps] == [1, 2, 2, 2, 2, 3, 4]


def test_an_invoice_added_after_its_last_step_still_gets_one_step_not_a_burst() -> None:
    # Issue 12, finding 1: not the legal handover it reached by the calendar, but the ladder's
    # late-entry step (a first contact), from which it climbs.
    now = datetime(2027, 6, 1, 9, 30, tzinfo=OSLO)
    steps = plan_for(STANDARD, date(2027, 1, 4), now, same_hours(OSLO_OFFICE))
    assert [s.state for s in steps] == ["skipped"] * 2 + ["pending"] * 4 + ["waiting"]
    assert steps[2].due_at == now and steps[2].stage == "first_reminder"
    assert all(later.due_at > earlier.due_at for earlier, later in zip(steps[2:], steps[3:]))


def test_a_late_invoice_on_a_ladder_that_ignores_working_hours_fires_at_once() -> None:
    quick = STANDARD.model_copy(update={"working_hours": "ignore"})
    midnight = datetime(2026, 12, 9, 0, 5, tzinfo=OSLO)
    steps = plan_for(quick, date(2026, 12, 7), midnight, same_hours(OSLO_OFFICE))
    pending = [s for s in steps if s.state == "pending"]
    # Issue 12, finding 1: it starts at the late-entry step (the written demand), not the call it reached.
    assert pending[0].name == "Written demand" and pending[0].due_at == midnight
    assert pending[1].due_at - midnight == timedelta(hours=4), "the call follows at the ladder's spacing, 10:00 to 14:00"
    assert wall_clock(pending[2]) == datetime(2026, 12, 9, 10, 0), "the next step keeps its planned time"


@pytest.mark.parametrize("name", ["standard", "soft"])
def test_the_legal_handover_comes_on_the_first_business_day_after_the_claims_deadline(name: str) -> None:
    policy = POLICIES[name]
    steps = plan_for(policy, date(2027, 4, 30), datetime(2027, 4, 1, 9, tzinfo=OSLO), same_hours(OSLO_OFFICE))
    claim = next(s for s in steps if s.action == "claim")
    legal = next(s for s in steps if s.action == "legal")
    assert claim.deadline is not None
    assert wall_clock(legal).date() == add_business_days(claim.deadline, 1, "NO")
    assert wall_clock(legal).date() > claim.deadline


def test_ack_windows_and_deadlines_are_carried_to_the_planned_steps() -> None:
    steps = plan_for(STANDARD, date(2027, 4, 30), datetime(2027, 4, 1, 9, tzinfo=OSLO), same_hours(OSLO_OFFICE))
    assert {s.ack_within_seconds for s in steps} == {4 * 3600}
    assert [s.deadline is not None for s in steps] == [s.action == "claim" for s in steps]


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_shipped_ladder_keeps_its_steps_in_order_on_business_days_within_working_hours(name: str) -> None:
    policy = POLICIES[name]
    start = date(2027, 1, 1)
    for offset in range(0, 365, 3):
        due = start + timedelta(days=offset)
        now = datetime.combine(due - timedelta(days=30), time(9, 0), tzinfo=OSLO)
        steps = plan_for(policy, due, now, same_hours(OSLO_OFFICE))
        moments = [s.due_at for s in steps]
        assert moments == sorted(set(moments)), f"steps out of order for due date {due}"
        for step in steps:
            local = step.due_at.astimezone(OSLO)
            assert is_business_day(local.date(), "NO"), f"{step.name} on {local:%a %d %b %Y} (due {due})"
            assert time(9, 0) <= local.time() < time(17, 0), f"{step.name} at {local:%H:%M} (due {due})"


def test_an_invoice_due_on_a_saturday_gets_its_written_demand_the_business_day_after_the_due_date_call() -> None:
    steps = plan_for(STANDARD, date(2026, 12, 5), datetime(2026, 11, 24, 9, tzinfo=OSLO), same_hours(OSLO_OFFICE))
    assert wall_clock(steps[1]) == datetime(2026, 12, 7, 12, 0), "due Saturday: the due-date call is on Monday"
    assert wall_clock(steps[2]) == datetime(2026, 12, 8, 10, 0), "the written demand one business day later, not a minute later"
