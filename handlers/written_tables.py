"""Which tables a command's transaction wrote, so that work done after every commit (the digests
re-reading their subscriptions) runs only after the commands it concerns.

Recorded by two session events into `session.info`: each flush (the ORM's new, changed and
deleted objects) and each INSERT, UPDATE or DELETE statement run through the session. A statement
whose table cannot be told counts as `ANY_TABLE`, so a watcher errs on the side of running.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

WRITTEN = "collectbot.written_tables"
ANY_TABLE = "*"


def written_tables(session: Session) -> frozenset[str]:
    """The names of the tables this session wrote since it was opened."""
    return frozenset(session.info.get(WRITTEN, ()))


def _note(session: Any, names: set[str]) -> None:
    session.info.setdefault(WRITTEN, set()).update(names)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context: Any) -> None:
    objects = chain(session.new, session.dirty, session.deleted)
    _note(session, {getattr(getattr(type(item), "__table__", None), "name", ANY_TABLE) for item in objects})


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    _note(state.session, {str(getattr(table, "name", ANY_TABLE))})


@dataclass(frozen=True)
class WhenWritten:
    """An after-commit callback that runs only when the command wrote one of `tables`."""

    tables: frozenset[str]
    callback: Callable[[], None]

    def __call__(self, written: frozenset[str]) -> None:
        if ANY_TABLE in written or self.tables & written:
            self.callback()
