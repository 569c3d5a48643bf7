"""The one error a handler raises for bad input: what was wrong, a correct example, and which
argument it is about."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class UsageError(Exception):
    """Bad user input. Nothing is stored when it is raised: the command's transaction rolls back.

    `field` names the argument the problem is in (`/add`'s "number", "amount", "currency", "due",
    "customer", "owner", "collector", "ladder", "country"), so that a form can show it beside its
    own input, whatever language the problem is written in."""

    def __init__(self, problem: str, example: str | None = None, field: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.example = example
        self.field = field


@contextmanager
def about(field: str) -> Iterator[None]:
    """A `UsageError` raised inside is about `field`, unless it already names its own."""
    try:
        yield
    except UsageError as error:
        if error.field is None:
            error.field = field
        raise


class NotAllowed(Exception):
    """The person may not do this; the message says why and whom to ask."""
