"""The one error a handler raises for bad input: what was wrong, and a correct example."""
from __future__ import annotations


class UsageError(Exception):
    """Bad user input. Nothing is stored when it is raised: the command's transaction rolls back."""

    def __init__(self, problem: str, example: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.example = example


class NotAllowed(Exception):
    """The person may not do this; the message says why and whom to ask."""
