"""Test helpers shared by the fixtures in conftest.py and the tests themselves."""
from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, func, select, update

import bot.platforms.telegram.tables  # noqa: F401  (Telegram's table is among the tables counted below)
from bot.floor.clock import MovableClock
from bot.floor.reply import Reply
from bot.platforms.console.chat import console_sender
from bot.platforms.text import render_text
from bot.store.models import Invoice, LadderStep, Person, StepState
from handlers.core import Core
from scheduling import due_table

if TYPE_CHECKING:
    from scheduling.scheduler import Scheduler


class ChatDriver:
    """Push a console message as someone, pop the reply as text."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.last: Reply | None = None

    def say(self, who: str, text: str) -> str:
        self.last = self.core.handle_text(console_sender(who), text)
        return render_text(self.last)

    def press(self, who: str, action: str) -> str:
        self.last = self.core.press(console_sender(who), action)
        return render_text(self.last)


CONVERSATION_TABLES = frozenset({"interaction_state", "lease"})
"""Where the bot keeps conversations going (a checked CSV awaiting its confirmation, a question
awaiting its answer): not the team's records; tests of those count them by themselves."""


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows per table of the team's records: a bad command must leave every count as it was."""
    with Session(engine) as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables if table.name not in CONVERSATION_TABLES
        }


def load_migration(filename: str) -> ModuleType:
    """A migration module by its file name in bot/store/migrations/versions (they are not a package)."""
    path = Path(__file__).resolve().parent.parent / "bot" / "store" / "migrations" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RecordingNotifier:
    """A platform that records what it was asked to send; it can be told to fail a few times."""

    def __init__(self, platform: str = "console", failures: int = 0) -> None:
        self.platform = platform
        self.failures = failures
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform unavailable")
        self.sent.append((chat_id, reply))

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [render_text(reply) for chat, reply in self.sent if chat_id in (None, chat)]


def refused(driver: ChatDriver, who: str, line: str, *expected: str, example: str = "Example:") -> str:
    """`who` says `line`: the reply says each of `expected` and shows a correct example (starting
    with `example`), and not a row of the team's records changed. Returns the reply."""
    engine = driver.core.services.engine
    before = count_rows(engine)
    reply = driver.say(who, line)
    for words in (*expected, example):
        assert words in reply, (line, words, reply)
    assert count_rows(engine) == before, f"nothing stored: {line!r}"
    return reply


# -- delivery: link, add, fire, flush, assert ------------------------------------------------------

def add_steps(engine: Engine, number: str, handle: str, *due: datetime) -> list[int]:
    """Hand-placed steps (one call each, at these moments) on invoice `number`, for `handle`."""
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == number)).one()
        person = session.exec(select(Person).where(Person.handle == handle)).one()
        rows = [
            dict(invoice_id=invoice.id, position=index, name=f"step-{index}", action="call", responsible_role="owner",
                 responsible_id=person.id, stage="due_today", tone="neutral", instruction=f"Call about {number}",
                 ack_within_seconds=4 * 3600, due_at=moment, state=StepState.PENDING.value, attempts=0)
            for index, moment in enumerate(due, start=1)
        ]
        due_table.insert_steps(session.connection(), rows)
        session.commit()
        return list(session.exec(select(LadderStep.id).where(LadderStep.invoice_id == invoice.id).order_by(col(LadderStep.position))))


def invoice_with_steps(driver: ChatDriver, number: str, *due: datetime, customer: str = "Acme", owner: str = "bob") -> list[int]:
    """`owner` adds invoice `number` (100 EUR, due 1 December 2026) and it gets a step at each of `due`."""
    reply = driver.say(owner, f"/add {number} 100 EUR 2026-12-01 {customer}")
    assert f"Added invoice {number}" in reply, reply
    return add_steps(driver.core.services.engine, number, owner, *due)


async def fire_at(scheduler: "Scheduler", clock: MovableClock, moment: datetime) -> int:
    """The clock reaches `moment`: what is due is fired and the queues flushed; how many fired."""
    clock.set(moment)
    fired = await scheduler.fire_due()
    await scheduler.flush()
    return fired


def claimed_by_a_stopped_instance(engine: Engine, step: int) -> None:
    """An instance claimed the step and stopped before it knew: its ping is composed saying it may be a repeat."""
    with Session(engine) as session:
        session.exec(update(LadderStep).where(col(LadderStep.id) == step).values(attempts=1))  # type: ignore[call-overload]
        session.commit()


def states(engine: Engine, ids: list[int]) -> list[str]:
    with Session(engine) as session:
        return [session.get(LadderStep, step_id).state.value for step_id in ids]  # type: ignore[union-attr]


# -- PostgreSQL row locks -------------------------------------------------------------------------

def backend_pid(connection: sa.Connection) -> int:
    """The PostgreSQL backend serving `connection`: whoever holds a lock taken through it."""
    return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def waiting_behind(engine: Engine, holder: int, count: int = 1) -> bool:
    """True once `count` backends wait, directly or in a queue, for a lock the backend `holder` holds (within 10 s)."""
    deadline = time.monotonic() + 10
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(sa.text(
                "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).all()
            watcher.rollback()  # pg_stat_activity is read once per transaction: each look needs a new one
            if len(_queued_behind(holder, waiting)) >= count:
                return True
            time.sleep(0.05)
    return False


def _queued_behind(holder: int, waiting: Sequence[Sequence[Any]]) -> set[int]:
    """The backends among `waiting` (pid, the pids blocking it) that wait for `holder`, directly or behind another waiter."""
    behind: set[int] = set()
    grown = True
    while grown:
        before = len(behind)
        behind |= {pid for pid, blockers in waiting if ({holder} | behind) & set(blockers)}
        grown = len(behind) > before
    return behind


on_sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For a test of something only SQLite has (a file to copy); it is not run, and not skipped, on PostgreSQL."""

on_postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
"""For a test of something only PostgreSQL has (row locks); it is not run, and not skipped, on SQLite."""
