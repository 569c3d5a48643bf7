"""The step state machine: the only moves a step can make, and each one noted for the history."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import Session

from bot.store.models import LadderStep, StepState
from scheduling.step_machine import ALLOWED, IllegalTransition, bulk_move, move, take_transitions

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def a_step(state: StepState) -> LadderStep:
    return LadderStep(id=1, invoice_id=7, position=1, name="Due date call", action="call", responsible_role="collector",
                      stage="due_today", tone="neutral", due_at=NOW, state=state)


def test_finished_steps_never_move_again() -> None:
    for finished in (StepState.ACKNOWLEDGED, StepState.CANCELLED, StepState.SKIPPED):
        assert ALLOWED[finished] == frozenset()


@pytest.mark.parametrize(("before", "after"), [
    (StepState.SENT, StepState.PAUSED),        # a delivered ping is answered, not paused
    (StepState.WAITING, StepState.SENDING),    # nothing behind an unconfirmed gate is ever claimed
    (StepState.PAUSED, StepState.SENDING),     # nothing paused by a dispute goes out
    (StepState.CANCELLED, StepState.PENDING),  # a reopened invoice gets new steps; old ones stay in the history
])
def test_an_illegal_move_is_refused_and_nothing_is_noted(before: StepState, after: StepState) -> None:
    session = Session()
    step = a_step(before)
    with pytest.raises(IllegalTransition):
        move(session, step, after, NOW)
    assert step.state == before
    assert take_transitions(session) == []


def test_every_move_is_noted_once_with_its_outcome_and_a_rearmed_ping_forgets_its_delivery() -> None:
    session = Session()
    step = a_step(StepState.SENT)
    step.sent_at, step.attempts, step.claimed_by = NOW, 1, "vm:1"
    move(session, step, StepState.PENDING, NOW, "snoozed")
    move(session, step, StepState.ACKNOWLEDGED, NOW, "done early")
    assert (step.sent_at, step.attempts, step.claimed_by, step.acknowledged_at) == (None, 0, None, NOW)
    noted = take_transitions(session)
    assert [(t.before, t.after, t.outcome) for t in noted] == [
        (StepState.SENT, StepState.PENDING, "snoozed"), (StepState.PENDING, StepState.ACKNOWLEDGED, "done early")]
    assert take_transitions(session) == [], "taken once"


def test_the_due_tables_bulk_moves_are_only_those_the_machine_allows() -> None:
    from scheduling import due_table, step_machine

    assert due_table.CLAIM is step_machine.CLAIM
    assert bulk_move(StepState.SENDING, StepState.SENT).sources == ("sending",)
    with pytest.raises(IllegalTransition):
        bulk_move(StepState.ACKNOWLEDGED, StepState.PENDING)
    with pytest.raises(IllegalTransition):
        bulk_move((StepState.PENDING, StepState.CANCELLED), StepState.SENDING)
