"""Ladder policy files: the shipped ladders say what the design note says, and the schema takes
what a team may write (durations, .yml files) and refuses the rest with file, step and reason."""
from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from scheduling.policies import LadderPolicy, PolicyError, load_policies

POLICIES = load_policies()


def offsets(policy: LadderPolicy) -> list[tuple[str, int | None, int | None, time | None]]:
    return [(s.responsible.value, s.when.business_days, s.when.after_previous_business_days, s.when.at) for s in policy.steps]


def test_the_standard_ladder_is_the_seven_steps_of_the_design_note() -> None:
    standard = POLICIES["standard"]
    assert offsets(standard) == [
        ("owner", -3, None, time(10)), ("collector", 0, None, time(12)), ("collector", 1, None, time(10)),
        ("collector", 1, None, time(14)), ("collector", 2, None, time(10)), ("manager", None, 3, time(10)),
        ("lawyer", None, 11, time(10)),
    ]
    assert [s.action.value for s in standard.steps] == ["call", "call", "letter", "call", "call", "claim", "legal"]
    assert [s.tone for s in standard.steps] == ["warm", "neutral", "formal", "firm", "firm", "formal", "formal"]
    claim = standard.steps[5]
    assert claim.deadline_business_days == 10, "the legal handover (11 business days later) follows the deadline"
    assert (standard.working_hours, standard.promise_grace_business_days) == ("respect", 1)


def test_the_subscription_ladder_warns_at_5_charges_a_fee_at_10_and_suspends_at_20() -> None:
    steps = POLICIES["subscription"].steps
    by_stage = {s.name: s.when.business_days for s in steps}
    assert by_stage["Overdue warning"] == 5 and by_stage["Late fee notice"] == 10 and by_stage["Service suspended"] == 20
    assert steps[-1].responsible.value == "manager" and steps[-1].deadline_business_days


def test_the_persistent_polite_ladder_checks_in_every_other_business_day_eight_times_then_asks_the_manager() -> None:
    steps = POLICIES["persistent-polite"].steps
    check_ins = [s for s in steps if s.name.startswith("Check-in")]
    assert len(check_ins) == 8
    assert all(s.when.after_previous_business_days == 2 for s in check_ins[1:])
    assert all(s.tone == "neutral" and "instalment" in s.instruction and "Never blame" in s.instruction for s in check_ins)
    assert steps[-1].responsible.value == "manager" and steps[-1].name == "Manager review"
    assert not any(s.action.value in ("claim", "legal") for s in steps)


def test_the_soft_ladder_has_more_reminders_before_its_claim_and_a_later_claim() -> None:
    def before_claim(policy: LadderPolicy) -> int:
        return next(i for i, s in enumerate(policy.steps) if s.action.value == "claim")

    soft, standard = POLICIES["soft"], POLICIES["standard"]
    assert before_claim(soft) > before_claim(standard)
    assert soft.steps[before_claim(soft)].when.business_days == 30
    assert soft.steps[0].when.business_days < standard.steps[0].when.business_days, "starts earlier, spreads wider"


def write(directory: Path, name: str, text: str, suffix: str = ".yaml") -> Path:
    path = directory / f"{name}{suffix}"
    path.write_text(text, encoding="utf-8")
    return path


def step(name: str = "Ping", when: str = "{after_previous: PT5S}", extra: str = "") -> str:
    return (f"  - name: {name}\n    when: {when}\n    action: check-in\n    responsible: owner\n"
            f"    stage: first_reminder\n    tone: neutral\n    instruction: Check.\n{extra}")


def test_a_duration_ladder_in_a_yml_file_loads_with_its_answer_windows(tmp_path: Path) -> None:
    write(tmp_path, "hourly", "description: hourly pings\nworking_hours: ignore\nsteps:\n"
          + step("First", "{after_previous: PT5S}", "    ack_within: PT30M\n")
          + step("Second", "{after_previous: PT2H}") + step("Third", "{after_previous: P1D}"), suffix=".yml")
    hourly = load_policies(tmp_path)["hourly"]
    assert [s.when.after_previous for s in hourly.steps] == [timedelta(seconds=5), timedelta(hours=2), timedelta(days=1)]
    assert [s.ack_within for s in hourly.steps] == [timedelta(minutes=30), timedelta(hours=4), timedelta(hours=4)]
    assert hourly.ignores_working_hours


@pytest.mark.parametrize(("second_step", "reason"), [
    (step("Late", "{after_previous: PT1H, at: \"10:00\"}"), "step 2 (Late): when: after_previous is a duration (e.g. PT2H); it takes no 'at' time"),
    (step("Back", "{after_previous: -PT1H}"), "step 2 (Back): when: after_previous must not be negative"),
    (step("Never", extra="    ack_within: PT0S\n"), "step 2 (Never): ack_within: ack_within must be a positive duration"),
    (step("Typo", extra="    responsable: manager\n"), "step 2 (Typo): responsable: Extra inputs are not permitted"),
    (step("Noon", "{business_days: 1, at: \"25:00\"}"), "step 2 (Noon): when.at"),
    (step("Far", "{business_days: 1000, at: \"10:00\"}"), "step 2 (Far): when.business_days"),
    (step("", ""), "step 2: name"),
])
def test_a_bad_second_step_is_named_by_its_position_and_name(tmp_path: Path, second_step: str, reason: str) -> None:
    path = write(tmp_path, "team", "description: ours\nsteps:\n" + step("Good") + second_step)
    with pytest.raises(PolicyError) as refused:
        load_policies(tmp_path)
    assert any(problem.startswith(f"{path}: ") and reason in problem for problem in refused.value.problems), refused.value.problems


def test_every_bad_file_is_reported_at_once_and_the_good_ones_are_not_blamed(tmp_path: Path) -> None:
    write(tmp_path, "good", "description: fine\nsteps:\n" + step())
    write(tmp_path, "hours", "description: x\nworking_hours: sometimes\nsteps:\n" + step())
    write(tmp_path, "list", "- just a list\n")
    with pytest.raises(PolicyError) as refused:
        load_policies(tmp_path)
    problems = refused.value.problems
    assert any("hours.yaml: working_hours: Input should be 'respect' or 'ignore'" in p for p in problems)
    assert any("list.yaml: a ladder file holds a mapping" in p for p in problems)
    assert not any("good.yaml" in p for p in problems)


def test_a_ladders_dir_that_is_not_a_directory_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(PolicyError, match="LADDERS_DIR is not a directory"):
        load_policies(missing)
