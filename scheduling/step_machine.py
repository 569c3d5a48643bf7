"""The states a ladder step goes through and the only moves allowed between them.

Every move the course makes goes through `move`, which refuses an illegal one and notes the
transition on the session, so that the domain event it belongs to carries it into the history
(exactly once). The scheduler's claim/sent bookkeeping (pending → sending → sent) is done in bulk
SQL by the due table, whose UPDATEs are built from the `BulkMove`s declared here (checked against
the machine), so no code outside this module decides which state a step may go to.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session

from bot.store.models import LadderStep, StepState

P, SE, S, A, C, K, PA, W, U = (StepState.PENDING, StepState.SENDING, StepState.SENT, StepState.ACKNOWLEDGED,
                               StepState.CANCELLED, StepState.SKIPPED, StepState.PAUSED, StepState.WAITING,
                               StepState.UNDELIVERABLE)

ALLOWED: dict[StepState, frozenset[StepState]] = {
    P: frozenset({SE, A, C, K, PA}),  # claimed; done early; cancelled (paid, replanned); paused by a dispute
    W: frozenset({P, C}),             # its gate was confirmed; cancelled
    PA: frozenset({P, C}),            # the dispute was resolved; paid meanwhile
    SE: frozenset({S, C, P, U}),      # delivered; invoice closed before delivery; re-armed; refused for good
    S: frozenset({A, P}),             # answered; re-armed (snooze, no answer, a new person)
    U: frozenset({A, P}),             # answered all the same; re-armed (e.g. for a colleague taking over)
    A: frozenset(),
    C: frozenset(),
    K: frozenset(),
}
OPEN_STATES = (P, SE, PA, W)
"""Steps still to come: cancelled when the invoice closes."""
TRANSITIONS_KEY = "course_transitions"


class IllegalTransition(RuntimeError):
    pass


@dataclass(frozen=True)
class Transition:
    step_id: int
    invoice_id: int
    name: str
    before: StepState
    after: StepState
    at: datetime
    outcome: str | None

    def as_history(self) -> dict[str, object]:
        return {"step": self.step_id, "name": self.name, "from": self.before.value, "to": self.after.value,
                "outcome": self.outcome}


@dataclass(frozen=True)
class BulkMove:
    """A move the due table makes in one UPDATE over many steps (claim, confirm, cancel): checked
    against the machine when it is declared, so the bookkeeping of delivery can only make moves
    the machine allows."""

    sources: tuple[str, ...]
    target: str


def bulk_move(before: StepState | tuple[StepState, ...], to: StepState) -> BulkMove:
    sources = (before,) if isinstance(before, StepState) else before
    for state in sources:
        if to not in ALLOWED[state]:
            raise IllegalTransition(f"no step may go from {state.value} to {to.value}")
    return BulkMove(tuple(state.value for state in sources), to.value)


CLAIM = bulk_move(P, SE)
"""The scheduler claims a due step."""
CANCEL_DUE = bulk_move(P, C)
"""A due step of an invoice closed meanwhile is cancelled instead of claimed."""
HAND_BACK = bulk_move(SE, P)
"""A claimed step is to wait after all."""
CANCEL_CLAIMED = bulk_move(SE, C)
"""A claimed step of an invoice closed before its minute."""
CONFIRM_SENT = bulk_move(SE, S)
"""The platform took the ping."""
CANCEL_OPEN = bulk_move((P, SE, PA, W), C)
"""Everything still to come of a closed invoice."""


def move(session: Session, step: LadderStep, to: StepState, at: datetime, outcome: str | None = None) -> None:
    before = step.state
    if to not in ALLOWED[before]:
        raise IllegalTransition(f"step {step.id} ({step.name}) cannot go from {before.value} to {to.value}")
    if step.id is None:
        session.flush()
    step.state = to
    if outcome is not None:
        step.outcome = outcome
    if to == A:
        step.acknowledged_at = at
    if to == P and before in (S, SE, U):
        step.attempts, step.claimed_by, step.claimed_at, step.sent_at = 0, None, None, None
    session.add(step)
    assert step.id is not None
    session.info.setdefault(TRANSITIONS_KEY, []).append(
        Transition(step.id, step.invoice_id, step.name, before, to, at, outcome))


def moved_during(session: Session, work: Callable[[], object]) -> set[int]:
    """The ids of the steps `work` moved (by `move`)."""
    noted: list[Transition] = session.info.setdefault(TRANSITIONS_KEY, [])
    before = len(noted)
    work()
    return {transition.step_id for transition in session.info[TRANSITIONS_KEY][before:]}


def move_all(session: Session, steps: Sequence[StepRow], bulk: BulkMove, at: datetime, outcome: str | None = None) -> int:
    """`move` for many steps read as plain rows, in one UPDATE (closing an invoice cancels all its
    steps to come): no ORM objects built or flushed; copies the session holds are read again when
    next used. The caller holds the steps' invoice (bot.store.row_locks), so the states read are
    still theirs. Returns how many moved."""
    moving = [step for step in steps if step.state in bulk.sources]
    if not moving:
        return 0
    session.flush()
    session.connection().execute(_move_by_ids(), {"ids": [step.id for step in moving], "to": bulk.target, "why": outcome})
    ids = {step.id for step in moving}
    for held in [item for item in session.identity_map.values() if isinstance(item, LadderStep) and item.id in ids]:
        session.expire(held)
    session.info.setdefault(TRANSITIONS_KEY, []).extend(
        Transition(step.id, step.invoice_id, step.name, StepState(step.state), StepState(bulk.target), at, outcome)
        for step in moving)
    return len(moving)


@functools.cache
def _move_by_ids() -> sa.Update:
    """`move_all`'s statement, built once (closing an invoice runs it; building it cost as much as running it)."""
    table: sa.Table = LadderStep.__table__  # type: ignore[attr-defined]
    return table.update().where(table.c.id.in_(sa.bindparam("ids", expanding=True))).values(
        state=sa.bindparam("to"), outcome=sa.bindparam("why"))


class StepRow(Protocol):
    """What `move_all` needs of a step: a row of a plain SELECT will do."""

    id: int
    invoice_id: int
    name: str
    state: str


def take_transitions(session: Session, invoice_id: int | None = None) -> list[Transition]:
    """The transitions noted so far (of one invoice), removed from the session's notes."""
    noted: list[Transition] = session.info.get(TRANSITIONS_KEY, [])
    taken = [t for t in noted if invoice_id is None or t.invoice_id == invoice_id]
    session.info[TRANSITIONS_KEY] = [t for t in noted if t not in taken]
    return taken
