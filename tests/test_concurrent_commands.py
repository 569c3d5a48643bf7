"""Commands that meet each other in the database: the first two people on a fresh bot, and writes
that conflict (a customer created at the same moment, SQLite busy, a PostgreSQL serialization
failure) — retried transparently, shown only when they keep failing."""
from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg.errors
from sqlalchemy import delete
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from bot.platforms.console.chat import console_sender
from bot.platforms.text import render_text
from bot.store.models import ChatIdentity, Customer, Event, Invoice, Person, Team
from handlers.context import Context
from handlers.core import ATTEMPTS, Core
from bot.floor.reply import Reply
from tests.support import ChatDriver, count_rows

ROUNDS = 6


def at_once(count: int, work: Callable[[int], Reply]) -> list[str]:
    """Run `work(i)` in `count` threads released together; the rendered replies, in order."""
    barrier = threading.Barrier(count)
    replies: list[str] = [""] * count

    def run(index: int) -> None:
        barrier.wait()
        replies[index] = render_text(work(index))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return replies


def forget_everyone(core: Core, *, team_too: bool) -> None:
    """Back to a fresh bot (or to a team nobody has joined yet)."""
    with Session(core.services.engine) as session:
        for table in (ChatIdentity, Event, Person, *((Team,) if team_too else ())):
            session.execute(delete(table))
        session.commit()


def test_two_first_messages_at_the_same_moment_make_one_team_and_one_admin(core: Core) -> None:
    for round_ in range(ROUNDS):
        forget_everyone(core, team_too=round_ % 2 == 0)
        replies = at_once(2, lambda index: core.handle_text(console_sender(("ann", "ben")[index]), "/start"))
        with Session(core.services.engine) as session:
            assert session.exec(select(func.count()).select_from(Team)).one() == 1
            admins = session.exec(select(Person).where(Person.is_admin)).all()
            assert len(admins) == 1, replies
        assert sum("You are an admin" in reply for reply in replies) == 1, replies
        loser = next(reply for reply in replies if "You are an admin" not in reply)
        assert "Ask an admin to add you" in loser and "Something went wrong" not in loser, loser
        assert "All open invoices" in render_text(core.handle_text(console_sender(admins[0].handle), "/list")), "no crash"


def test_adds_naming_the_same_new_customer_at_once_all_succeed_with_one_customer(team: ChatDriver) -> None:
    core = team.core
    replies = at_once(4, lambda index: core.handle_text(console_sender("bob"), f"/add C-{index} 100 EUR 2026-12-10 Fresh Fish AS"))
    assert all("Added invoice C-" in reply for reply in replies), replies
    with Session(core.services.engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 1
        assert session.exec(select(func.count()).select_from(Invoice)).one() == 4


class FailsFirst:
    """An invoice hook that fails like a conflicting database write the first `times` calls."""

    def __init__(self, error: Exception, times: int) -> None:
        self.error = error
        self.times = times
        self.calls = 0

    def invoice_changed(self, ctx: Context, invoice: Invoice) -> None:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error


def busy() -> OperationalError:
    return OperationalError("INSERT INTO invoice …", {}, Exception("database is locked"))


def serialization_failure() -> OperationalError:
    return OperationalError("UPDATE invoice …", {}, psycopg.errors.SerializationFailure("could not serialize access"))


def test_sqlite_busy_and_postgresql_serialization_failures_are_retried_transparently(team: ChatDriver) -> None:
    for number, error in (("R-1", busy()), ("R-2", serialization_failure())):
        hook = FailsFirst(error, times=ATTEMPTS - 1)
        team.core.services.invoice_hooks.insert(0, hook)
        reply = team.say("bob", f"/add {number} 100 EUR 2026-12-10 Acme")
        team.core.services.invoice_hooks.remove(hook)
        assert f"Added invoice {number}" in reply, reply
        assert hook.calls == ATTEMPTS
    with Session(team.core.services.engine) as session:
        assert session.exec(select(func.count()).select_from(Invoice)).one() == 2, "each stored once"


def test_a_conflict_that_keeps_happening_is_shown_and_nothing_is_saved(team: ChatDriver) -> None:
    hook = FailsFirst(busy(), times=ATTEMPTS)
    team.core.services.invoice_hooks.insert(0, hook)
    before = count_rows(team.core.services.engine)
    reply = team.say("bob", "/add R-3 100 EUR 2026-12-10 Acme")
    assert "Someone changed the same thing at the same moment" in reply and "Example: /add" in reply, reply
    assert hook.calls == ATTEMPTS
    assert count_rows(team.core.services.engine) == before
