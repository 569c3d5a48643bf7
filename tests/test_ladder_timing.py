"""When each step happens: business days, public holidays, time zones, DST, working hours, late
invoices and duration ladders; and ladder files that are refused with file, step and reason."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduling.business_calendar import WorkingHours, add_business_days, add_working_time, next_working_slot
from scheduling.planning import Assignee, PlannedStep, plan
from scheduling.policies import LadderPolicy, PolicyError, load_policies

OSLO = ZoneInfo("Europe/Oslo")
NEW_YORK = ZoneInfo("America/New_York")
ROLES = ("owner", "collector", "manager", "lawyer")
POLICIES = load_policies()
STANDARD = POLICIES["standard"]


def everyone(hours: WorkingHours) -> dict[str, Assignee]:
    return {role: Assignee(person_id=index, hours=hours) for index, role in enumerate(ROLES, start=1)}


def local(step: PlannedStep, zone: ZoneInfo = OSLO) -> datetime:
    return step.due_at.astimezone(zone).replace(tzinfo=None)


def standard_plan(due: date, now: datetime, hours: WorkingHours | None = None, country: str = "NO") -> list[PlannedStep]:
    hours = hours or WorkingHours("Europe/Oslo", country="NO")
    return plan(STANDARD, due_date=due, added_at=now, now=now, country=country, people=everyone(hours))


def test_standard_ladder_skips_the_weekend() -> None:
    steps = standard_plan(date(2026, 12, 7), datetime(2026, 11, 24, 9, tzinfo=OSLO))  # due on a Monday
    assert [local(s) for s in steps[:5]] == [
        datetime(2026, 12, 2, 10, 0),  # three business days before: Fri, Thu, Wed
        datetime(2026, 12, 7, 12, 0),
        datetime(2026, 12, 8, 10, 0),
        datetime(2026, 12, 8, 14, 0),
        datetime(2026, 12, 9, 10, 0),
    ]
    assert local(steps[5]) == datetime(2026, 12, 14, 10, 0), "formal claim three business days later, over the weekend"
    assert add_business_days(date(2026, 12, 14), 10, "NO") == date(2026, 12, 29), \
        "ten business days, skipping Christmas Day and Boxing Day"
    assert steps[5].deadline == date(2026, 12, 30), "but a Norwegian claim gives 14 full days and a margin of 2"
    assert [s.state for s in steps] == ["pending"] * 6 + ["waiting"], "the legal handover waits behind the claim (a gate)"


def test_a_norwegian_public_holiday_is_not_a_business_day() -> None:
    steps = standard_plan(date(2027, 5, 14), datetime(2027, 5, 1, 9, tzinfo=OSLO))  # Friday before 17 May
    assert local(steps[2]) == datetime(2027, 5, 18, 10, 0), "Monday 17 May (Constitution Day) is skipped"
    us_customer = standard_plan(date(2027, 5, 14), datetime(2027, 5, 1, 9, tzinfo=OSLO),
                                WorkingHours("Europe/Oslo", country=None), country="US")
    assert local(us_customer[2]) == datetime(2027, 5, 17, 10, 0), "the customer's country decides business days"


@pytest.mark.parametrize("zone", [OSLO, NEW_YORK], ids=["oslo", "new-york"])
def test_steps_keep_their_local_time_across_the_dst_change(zone: ZoneInfo) -> None:
    hours = WorkingHours(str(zone), country=None)
    steps = standard_plan(date(2027, 11, 1), datetime(2027, 10, 20, 9, tzinfo=zone), hours)
    policy_times = [s.when.at for s in STANDARD.steps]
    assert [local(s, zone).time() for s in steps] == policy_times
    offsets = {s.due_at.astimezone(zone).utcoffset() for s in steps}
    assert len(offsets) == 2, "the ladder spans the change from summer to winter time"
    due_call = steps[1].due_at.astimezone(timezone.utc)
    assert due_call.hour == {OSLO: 11, NEW_YORK: 16}[zone], "12:00 local in winter time (Oslo) / summer time (New York)"


def test_a_step_outside_working_hours_moves_to_the_start_of_the_next_slot() -> None:
    late_shift = WorkingHours("Europe/Oslo", start=time(13, 0), end=time(21, 0), country="NO")
    steps = standard_plan(date(2026, 12, 7), datetime(2026, 11, 24, 9, tzinfo=OSLO), late_shift)
    assert local(steps[0]) == datetime(2026, 12, 2, 13, 0)
    assert local(steps[1]) == datetime(2026, 12, 7, 13, 0)
    assert local(steps[3]) == datetime(2026, 12, 8, 14, 0), "already inside the slot: unchanged"


def test_a_step_on_a_day_off_moves_to_the_next_working_day() -> None:
    four_days = WorkingHours("Europe/Oslo", workdays=frozenset({0, 1, 2, 3}), country="NO")
    friday_morning = datetime(2026, 12, 4, 10, 0, tzinfo=OSLO)
    assert next_working_slot(friday_morning, four_days).astimezone(OSLO).replace(tzinfo=None) == datetime(2026, 12, 7, 9, 0)
    christmas_eve_evening = datetime(2026, 12, 24, 18, 0, tzinfo=OSLO)
    standard = WorkingHours("Europe/Oslo", country="NO")
    assert next_working_slot(christmas_eve_evening, standard).astimezone(OSLO).date() == date(2026, 12, 28)


def test_answer_windows_count_working_hours_across_a_weekend_and_a_holiday() -> None:
    oslo_office = WorkingHours("Europe/Oslo", country="NO")
    friday_afternoon = datetime(2027, 5, 14, 15, 0, tzinfo=OSLO)
    answer_by = add_working_time(friday_afternoon, timedelta(hours=4), oslo_office)
    assert answer_by.astimezone(OSLO).replace(tzinfo=None) == datetime(2027, 5, 18, 11, 0), \
        "2 h on Friday, the weekend and Monday 17 May (Constitution Day, Whit Monday) off, 2 h on Tuesday"
    evening = datetime(2026, 12, 10, 20, 0, tzinfo=OSLO)
    assert add_working_time(evening, timedelta(hours=1), oslo_office).astimezone(OSLO).replace(tzinfo=None) == datetime(2026, 12, 11, 10, 0)


def test_business_day_arithmetic_in_both_directions() -> None:
    assert add_business_days(date(2026, 12, 5), 0, "NO") == date(2026, 12, 7), "Saturday moves to Monday"
    assert add_business_days(date(2026, 12, 28), -1, "NO") == date(2026, 12, 24)
    assert add_business_days(date(2026, 12, 24), 1, "NO") == date(2026, 12, 28), "25 and 26 December are holidays"


def test_an_invoice_added_overdue_skips_past_steps_and_fires_the_current_one_now() -> None:
    # Issue 12, finding 1: an invoice entering overdue starts at the ladder's late-entry step (a
    # first contact: the written demand), never at the claim it would have reached by the calendar.
    now = datetime(2026, 11, 24, 9, 0, tzinfo=OSLO)
    steps = standard_plan(date(2026, 11, 16), now)
    assert [s.state for s in steps] == ["skipped"] * 2 + ["pending"] * 4 + ["waiting"]
    assert steps[2].name == "Written demand" and steps[2].due_at == now, "the first contact: at the next working slot, which is now"
    assert local(steps[3]) == datetime(2026, 11, 24, 13, 0), "then the ladder's spacing: the call four hours after the demand"
    assert local(steps[4]) == datetime(2026, 11, 25, 10, 0)
    assert local(steps[5]) == datetime(2026, 11, 30, 10, 0), "the claim three business days later"
    assert steps[6].due_at > steps[5].due_at


def test_an_invoice_added_overdue_at_night_waits_for_the_morning() -> None:
    night = datetime(2026, 11, 24, 22, 0, tzinfo=OSLO)
    steps = standard_plan(date(2026, 11, 16), night)
    assert local(steps[2]) == datetime(2026, 11, 25, 9, 0)


def duration_policy(ignore_hours: bool = True) -> LadderPolicy:
    return LadderPolicy.model_validate({
        "name": "quick", "description": "three pings a few seconds apart",
        "working_hours": "ignore" if ignore_hours else "respect",
        "steps": [{"name": f"Ping {n}", "when": {"after_previous": "PT5S"}, "action": "check-in", "responsible": "owner",
                   "stage": "first_reminder", "tone": "neutral", "instruction": "check"} for n in (1, 2, 3)],
    })


def test_duration_steps_chain_from_the_moment_the_invoice_was_added() -> None:
    added = datetime(2026, 11, 24, 3, 0, tzinfo=OSLO)  # at night: this ladder ignores working hours
    steps = plan(duration_policy(), due_date=date(2026, 12, 1), added_at=added, now=added, country="NO",
                 people=everyone(WorkingHours("Europe/Oslo", country="NO")))
    assert [s.due_at - added for s in steps] == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=15)]


def test_duration_steps_respect_working_hours_unless_told_otherwise() -> None:
    added = datetime(2026, 11, 24, 3, 0, tzinfo=OSLO)
    steps = plan(duration_policy(ignore_hours=False), due_date=date(2026, 12, 1), added_at=added, now=added,
                 country="NO", people=everyone(WorkingHours("Europe/Oslo", country="NO")))
    assert local(steps[0]) == datetime(2026, 11, 24, 9, 0)
    assert steps[1].due_at > steps[0].due_at


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_STEP = """
  - name: Call
    when: {business_days: 0, at: "12:00"}
    action: call
    responsible: collector
    stage: due_today
    tone: neutral
    instruction: Call them.
"""


@pytest.mark.parametrize(("body", "reason"), [
    ("steps:\n  - name: Call\n    when: {after_previous: PTX}\n    action: call\n    responsible: owner\n    stage: pre_due\n"
     "    tone: warm\n    instruction: x\n", "step 1 (Call): when.after_previous"),
    (GOOD_STEP.replace("action: call", "action: fax"), "step 1 (Call): action: Input should be 'call'"),
    (GOOD_STEP.replace(', at: "12:00"', ""), "step 1 (Call): when: business_days needs a local time of day"),
    (GOOD_STEP.replace('{business_days: 0, at: "12:00"}', '{business_days: 0, after_previous: PT1H}'),
     "step 1 (Call): when: give exactly one of"),
    (GOOD_STEP.replace("tone: neutral", "tone: rude"), "step 1 (Call): tone"),
    ("", "steps: List should have at least 1 item"),
])
def test_a_malformed_ladder_is_refused_with_file_step_and_reason(tmp_path: Path, body: str, reason: str) -> None:
    path = write(tmp_path, "broken", "name: broken\ndescription: test\nsteps:" + ("\n" + body.split("steps:", 1)[-1] if body else " []\n"))
    with pytest.raises(PolicyError) as refused:
        load_policies(tmp_path)
    assert str(path) in str(refused.value)
    assert reason in str(refused.value)


def test_invalid_yaml_and_a_name_that_does_not_match_the_file_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "syntax", "name: syntax\nsteps: [\n")
    write(tmp_path, "renamed", "name: other\ndescription: x\nsteps:" + GOOD_STEP)
    with pytest.raises(PolicyError) as refused:
        load_policies(tmp_path)
    problems = "\n".join(refused.value.problems)
    assert "syntax.yaml: not valid YAML" in problems
    assert "renamed.yaml: the ladder is named 'other'" in problems


def test_ladders_dir_adds_ladders_and_can_replace_a_built_in_one(tmp_path: Path) -> None:
    write(tmp_path, "standard", "description: our own\nsteps:" + GOOD_STEP)
    write(tmp_path, "quick", "description: quick\nworking_hours: ignore\nsteps:" + GOOD_STEP)
    policies = load_policies(tmp_path)
    assert len(policies["standard"].steps) == 1
    assert policies["quick"].ignores_working_hours
    assert {"soft", "subscription", "persistent-polite"} <= set(policies)


def test_shipped_ladders_follow_the_design_note() -> None:
    assert set(POLICIES) == {"standard", "soft", "subscription", "persistent-polite"}
    assert [s.responsible.value for s in STANDARD.steps] == ["owner", "collector", "collector", "collector", "collector", "manager", "lawyer"]
    assert [s.stage for s in STANDARD.steps] == ["pre_due", "due_today", "first_reminder", "repeat_reminder",
                                                 "repeat_reminder", "final_warning", "legal_handover"]
    polite = POLICIES["persistent-polite"]
    assert all(s.tone in ("warm", "neutral") for s in polite.steps[:-1]), "never pushy"


def run_check(tmp_path: Path, ladders_dir: Path | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    if ladders_dir:
        env["LADDERS_DIR"] = str(ladders_dir)
    return subprocess.run([sys.executable, "-m", "bot.app.cli", "ladders", "check"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60)


def test_collectbot_ladders_check_lists_good_ladders_and_reports_bad_ones(tmp_path: Path) -> None:
    good = run_check(tmp_path, None)
    assert good.returncode == 0, good.stderr
    assert "4 ladders OK." in good.stdout and "standard: 7 steps" in good.stdout
    bad_dir = tmp_path / "ladders"
    bad_dir.mkdir()
    write(bad_dir, "bad", "description: x\nsteps:" + GOOD_STEP.replace("responsible: collector", "responsible: intern"))
    bad = run_check(tmp_path, bad_dir)
    assert bad.returncode == 1
    assert "bad.yaml: step 1 (Call): responsible" in bad.stderr
