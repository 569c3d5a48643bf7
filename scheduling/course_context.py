"""What the course and the ladder keeper need from a command's context, as a protocol.

`handlers.context.Context` satisfies it; scheduling names only this, so it never imports handlers."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlmodel import Session

from bot.store.models import Person

if TYPE_CHECKING:
    from scheduling.ladder_keeper import LadderKeeper
    from scheduling.policies import LadderPolicy


class CourseServices(Protocol):
    """The long-lived part: the ladders, and who is told when an invoice's course changes."""

    @property
    def invoice_hooks(self) -> Sequence[object]: ...

    @property
    def ladders(self) -> Mapping[str, LadderPolicy]: ...

    @property
    def ladder_keeper(self) -> LadderKeeper | None: ...


class CourseContext(Protocol):
    """One command's transaction, its time and who acts."""

    @property
    def session(self) -> Session: ...

    @property
    def services(self) -> CourseServices: ...

    @property
    def now(self) -> datetime: ...

    @property
    def actor(self) -> Person | None: ...

    @property
    def person(self) -> Person: ...
