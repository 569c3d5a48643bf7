"""From a ladder policy and an invoice's facts to the exact moment of every step.

Days count in the customer's country (business days, or calendar days when the ladder says so);
the time of day is the responsible person's local time, moved into their working hours unless the
ladder ignores them. Steps never come closer together than the ladder spaces them.

An invoice that enters the bot late does not fire its past steps in a burst: they are recorded as
skipped, and it starts at the step it has reached — but never further than the ladder's declared
late-entry step (a first contact), from which it climbs at the ladder's usual spacing.

Steps after a gate (a formal claim) are planned but wait: they are re-planned from the day the gate
is confirmed done (`follow_gate`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.business_calendar import WorkingHours, add_business_days, local_moment, next_business_day, next_working_slot
from scheduling.notice import claim_deadline
from scheduling.policies import LadderPolicy, StepPolicy

MIN_GAP = timedelta(minutes=1)
"""The least two steps are apart when the ladder puts them at the same moment."""
MIN_SPACING = timedelta(hours=1)
"""The least a step keeps from the one before when that one had to move (a late start)."""


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
    gate: bool = False


def add_days(policy: LadderPolicy, day: date, count: int, country: str) -> date:
    """`count` of the ladder's days after `day` (before, when negative)."""
    if policy.counts_calendar_days:
        return day + timedelta(days=count)
    return add_business_days(day, count, country)


def plan(
    policy: LadderPolicy,
    *,
    due_date: date,
    added_at: datetime,
    now: datetime,
    country: str,
    people: Mapping[str, Assignee],
    resume_at: int | None = None,
) -> list[PlannedStep]:
    """Every step of `policy` for one invoice. `people` maps each role (owner, collector,
    manager, lawyer) to who does it; the caller resolves fallbacks (no collector → owner …).
    `resume_at` (a 0-based index) starts the ladder there, earlier steps being done already."""
    moments: list[datetime] = []
    previous = added_at
    pushed = False
    for index, step in enumerate(policy.steps):
        hours = people[step.responsible].hours
        ideal = ideal_moment(policy, step, due_date, previous, country, hours)
        moment = into_hours(policy, ideal, hours)
        if moments:
            # A step the calendar pushed (a weekend, a holiday) keeps an hour from the next one.
            floor = into_hours(policy, moments[-1] + MIN_SPACING, hours) if pushed else moments[-1]
            moment = max(moment, not_before(policy, index, moments[-1], country, people), floor,
                         after_deadline_of_previous(policy, index, moments[-1], country, people))
        pushed = moment != ideal
        moments.append(moment)
        previous = moment
    planned = list(moments)
    start = resume_at if resume_at is not None else starting_index(policy, moments, now)
    states = ["skipped"] * start + ["pending"] * (len(moments) - start)
    if start < len(moments) and moments[start] < now:
        moments[start] = into_hours(policy, now, people[policy.steps[start].responsible].hours)
    moved = start < len(moments) and moments[start] != planned[start]
    for index in range(start + 1, len(moments)):
        # Steps whose time has passed climb at the ladder's full spacing; one behind a moved step
        # keeps its own time if it can, but at least MIN_SPACING after it.
        strict = moments[index] < now
        floor = moments[index - 1] + MIN_SPACING if moved else moments[index - 1]
        moments[index] = max(moments[index], not_before(policy, index, moments[index - 1], country, people, strict=strict),
                             into_hours(policy, floor, people[policy.steps[index].responsible].hours),
                             after_deadline_of_previous(policy, index, moments[index - 1], country, people))
        moved = moments[index] != planned[index]
    gate = next((index for index in range(start, len(moments)) if policy.steps[index].gate), None)
    if gate is not None:
        for index in range(gate + 1, len(moments)):
            states[index] = "waiting"
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
            deadline=deadline_of(policy, step, moment, people[step.responsible].hours, country),
            gate=step.gate,
        )
        for position, (step, moment, state) in enumerate(zip(policy.steps, moments, states, strict=True), start=1)
    ]


def starting_index(policy: LadderPolicy, moments: Sequence[datetime], now: datetime) -> int:
    """The step a new invoice starts at: the last one whose time has come, but never beyond the
    ladder's late-entry step."""
    past = [index for index, moment in enumerate(moments) if moment < now]
    if not past:
        return 0
    return min(past[-1], policy.late_entry_index)


def into_hours(policy: LadderPolicy, moment: datetime, hours: WorkingHours) -> datetime:
    return moment if policy.ignores_working_hours else next_working_slot(moment, hours)


def ideal_moment(policy: LadderPolicy, step: StepPolicy, due_date: date, previous: datetime, country: str,
                 hours: WorkingHours) -> datetime:
    when = step.when
    if when.after_previous is not None:
        return previous + when.after_previous
    assert when.at is not None
    if when.business_days is not None:
        # After a due date on a weekend or holiday, "1 business day after" counts from the next
        # business day, where the "on the due date" step lands; otherwise both fall on one day.
        base = due_date
        if when.business_days > 0 and not policy.counts_calendar_days:
            base = next_business_day(due_date, country)
        day = add_days(policy, base, when.business_days, country)
    else:
        assert when.after_previous_business_days is not None
        previous_day = previous.astimezone(ZoneInfo(hours.zone)).date()
        day = add_days(policy, previous_day, when.after_previous_business_days, country)
    return local_moment(day, when.at, hours.zone)


def spacing_after(policy: LadderPolicy, index: int, previous: datetime, country: str, hours: WorkingHours,
                  *, strict: bool = False) -> datetime:
    """The earliest moment step `index` may take after step `index - 1` took `previous`: the
    ladder's own spacing between the two: its duration, or (`strict`, for a ladder climbing from a
    moved step) its days and the hours between two steps on one day. Otherwise steps on days keep
    their own planned time and only their order."""
    step, before = policy.steps[index], policy.steps[index - 1]
    when = step.when
    if when.after_previous is not None:
        return previous + when.after_previous
    assert when.at is not None
    if not strict:
        return previous + MIN_GAP
    previous_day = previous.astimezone(ZoneInfo(hours.zone)).date()
    if when.after_previous_business_days is not None:
        days = when.after_previous_business_days
    elif before.when.business_days is not None:
        days = when.business_days - before.when.business_days  # type: ignore[operator]
    else:
        days = 0
    if days <= 0:
        gap = MIN_GAP
        if before.when.at is not None and before.when.business_days is not None and when.at > before.when.at:
            gap = (datetime.combine(previous_day, when.at) - datetime.combine(previous_day, before.when.at))
        return previous + gap
    return local_moment(add_days(policy, previous_day, days, country), when.at, hours.zone)


def not_before(policy: LadderPolicy, index: int, previous: datetime, country: str, people: Mapping[str, Assignee],
               *, strict: bool = False) -> datetime:
    hours = people[policy.steps[index].responsible].hours
    return into_hours(policy, spacing_after(policy, index, previous, country, hours, strict=strict), hours)


def deadline_of(policy: LadderPolicy, step: StepPolicy, moment: datetime, hours: WorkingHours, country: str) -> date | None:
    if step.deadline_business_days is None:
        return None
    return gate_deadline(policy, step, moment.astimezone(ZoneInfo(hours.zone)).date(), country)


def gate_deadline(policy: LadderPolicy, step: StepPolicy, sent: date, country: str) -> date | None:
    """The deadline a gate (a formal claim) sent on `sent` gives: the ladder's days, never less than
    the customer's country requires (Norway: 14 full days from sending, plus a margin)."""
    if step.deadline_business_days is None:
        return None
    return claim_deadline(sent, add_days(policy, sent, step.deadline_business_days, country), country)


def after_deadline_of_previous(policy: LadderPolicy, index: int, previous: datetime, country: str,
                               people: Mapping[str, Assignee]) -> datetime:
    """The earliest moment for step `index` when the step before it (at `previous`) gives the
    customer a deadline: the day after that deadline, at the step's time. `previous` otherwise."""
    before = policy.steps[index - 1]
    deadline = deadline_of(policy, before, previous, people[before.responsible].hours, country)
    if deadline is None:
        return previous
    return after_deadline(policy, policy.steps[index], deadline, country, people)


def after_deadline(policy: LadderPolicy, step: StepPolicy, deadline: date, country: str,
                   people: Mapping[str, Assignee]) -> datetime:
    hours = people[step.responsible].hours
    return into_hours(policy, local_moment(add_days(policy, deadline, 1, country), step.when.at or time(10, 0), hours.zone), hours)


def follow_gate(policy: LadderPolicy, gate_index: int, confirmed_at: datetime, deadline: date | None, country: str,
                people: Mapping[str, Assignee]) -> list[datetime]:
    """Moments of the steps after the gate at `gate_index`, which was confirmed done at
    `confirmed_at`: the ladder's spacing counts from the confirmation, and the step right after a
    gate with a deadline never falls on or before that deadline."""
    moments: list[datetime] = []
    previous = confirmed_at
    for index in range(gate_index + 1, len(policy.steps)):
        moment = not_before(policy, index, previous, country, people, strict=True)
        step = policy.steps[index]
        if index == gate_index + 1 and deadline is not None:
            moment = max(moment, after_deadline(policy, step, deadline, country, people))
        moments.append(moment)
        previous = moment
    return moments
