"""From a ladder policy and an invoice's facts to the exact moment of every step.

Business-day offsets count in the customer's country; the time of day is the responsible
person's local time, moved into their working hours unless the ladder ignores them. An invoice
added late does not fire its past steps in a burst: they are recorded as skipped, and the step
the invoice has reached fires at the next working slot.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.business_calendar import WorkingHours, add_business_days, local_moment, next_business_day, next_working_slot
from scheduling.policies import LadderPolicy, StepPolicy

MIN_GAP = timedelta(minutes=1)
"""Steps keep their order: one planned at or before its predecessor moves to just after it."""


@dataclass(frozen=True)
class Assignee:
    person_id: int
    hours: WorkingHours


@dataclass(frozen=True)
class PlannedStep:
    position: int
    name: str
    action: str
    responsible_role: str
    responsible_id: int
    stage: str
    tone: str
    instruction: str
    ack_within_seconds: int
    due_at: datetime
    state: str
    deadline: date | None


def plan(
    policy: LadderPolicy,
    *,
    due_date: date,
    added_at: datetime,
    now: datetime,
    country: str,
    people: Mapping[str, Assignee],
) -> list[PlannedStep]:
    """Every step of `policy` for one invoice. `people` maps each role (owner, collector,
    manager, lawyer) to who does it; the caller resolves fallbacks (no collector → owner …)."""
    moments: list[datetime] = []
    previous = added_at
    for step in policy.steps:
        moment = ideal_moment(step, due_date, previous, country, people[step.responsible].hours)
        if not policy.ignores_working_hours:
            moment = next_working_slot(moment, people[step.responsible].hours)
        if moments and moment <= moments[-1]:
            moment = moments[-1] + MIN_GAP
        moments.append(moment)
        previous = moment
    states = ["pending"] * len(moments)
    past = [index for index, moment in enumerate(moments) if moment < now]
    if past:
        current = past[-1]
        for index in past[:-1]:
            states[index] = "skipped"
        hours = people[policy.steps[current].responsible].hours
        moments[current] = now if policy.ignores_working_hours else next_working_slot(now, hours)
        for index in range(current + 1, len(moments)):
            if moments[index] <= moments[index - 1]:
                moments[index] = moments[index - 1] + MIN_GAP
    return [
        PlannedStep(
            position=position,
            name=step.name,
            action=step.action.value,
            responsible_role=step.responsible.value,
            responsible_id=people[step.responsible].person_id,
            stage=step.stage,
            tone=step.tone,
            instruction=step.instruction,
            ack_within_seconds=int(step.ack_within.total_seconds()),
            due_at=moment,
            state=state,
            deadline=deadline_of(step, moment, people[step.responsible].hours, country),
        )
        for position, (step, moment, state) in enumerate(zip(policy.steps, moments, states, strict=True), start=1)
    ]


def ideal_moment(step: StepPolicy, due_date: date, previous: datetime, country: str, hours: WorkingHours) -> datetime:
    when = step.when
    if when.after_previous is not None:
        return previous + when.after_previous
    assert when.at is not None
    if when.business_days is not None:
        # After a due date on a weekend or holiday, "1 business day after" counts from the next
        # business day, where the "on the due date" step lands; otherwise both fall on one day.
        base = next_business_day(due_date, country) if when.business_days > 0 else due_date
        day = add_business_days(base, when.business_days, country)
    else:
        assert when.after_previous_business_days is not None
        previous_day = previous.astimezone(ZoneInfo(hours.zone)).date()
        day = add_business_days(previous_day, when.after_previous_business_days, country)
    return local_moment(day, when.at, hours.zone)


def deadline_of(step: StepPolicy, moment: datetime, hours: WorkingHours, country: str) -> date | None:
    if step.deadline_business_days is None:
        return None
    return add_business_days(moment.astimezone(ZoneInfo(hours.zone)).date(), step.deadline_business_days, country)
