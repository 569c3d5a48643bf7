"""Domain events: what happened to an invoice's course, as the course saw it.

The course records them on the session while a command runs; `handlers.history.dispatch` turns
them into history entries in the same transaction (so a change and its history entry are stored
together or not at all), and after the commit the scheduler is woken (`Services.after_commit`).
Each event carries the step transitions made for it, so every transition is in the history once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from scheduling.step_machine import Transition, take_transitions

EVENTS_KEY = "course_events"


@dataclass
class CourseEvent:
    kind: str
    team_id: int
    invoice_id: int | None
    actor_id: int | None
    at: datetime
    facts: dict[str, Any] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)


def record(session: Session, event: CourseEvent) -> CourseEvent:
    """Note an event; the step transitions of its invoice made since the last event go with it."""
    event.transitions.extend(take_transitions(session, event.invoice_id))
    session.info.setdefault(EVENTS_KEY, []).append(event)
    return event


def take_events(session: Session) -> list[CourseEvent]:
    events: list[CourseEvent] = session.info.pop(EVENTS_KEY, [])
    return events


def discard(session: Session) -> None:
    """A command failed: its notes go with its rolled-back transaction."""
    session.info.pop(EVENTS_KEY, None)
    take_transitions(session)
