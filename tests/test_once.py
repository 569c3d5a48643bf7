"""A request that may come twice (a replayed signed Slack request) runs once: the note that it ran
is part of the command's own transaction, on any instance."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.platforms.console.chat import console_sender
from bot.store.models import Invoice
from handlers.core import Core
from handlers.once import Once
from tests.support import ChatDriver

WINDOW = timedelta(minutes=10)


def balance(core: Core, number: str) -> Decimal:
    with Session(core.services.engine) as session:
        return session.exec(select(Invoice.balance).where(Invoice.number == number)).one()


def test_a_command_sent_twice_with_the_same_key_runs_once_and_the_repeat_gets_no_answer(team: ChatDriver) -> None:
    team.say("bob", "/add R-1 1000 EUR 2026-12-20 Acme")
    once = Once("slack-signature", "v0=replayed", WINDOW)
    first = team.core.handle_text_once(console_sender("bob"), "/paid R-1 100", once)
    assert first is not None and not first.is_error
    assert team.core.handle_text_once(console_sender("bob"), "/paid R-1 100", once) is None
    assert balance(team.core, "R-1") == Decimal("900"), "one payment of 100"


def test_the_same_key_arriving_at_eight_instances_at_once_runs_the_command_once(team: ChatDriver) -> None:
    team.say("bob", "/add R-2 1000 EUR 2026-12-20 Acme")
    once = Once("slack-signature", "v0=eight", WINDOW)
    instances = [Core(team.core.services) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda core: core.handle_text_once(console_sender("bob"), "/paid R-2 100", once), instances))
    assert sum(reply is not None for reply in replies) == 1
    assert balance(team.core, "R-2") == Decimal("900")


def test_a_command_that_failed_is_not_noted_and_a_key_is_forgotten_after_its_window(team: ChatDriver, clock: MovableClock) -> None:
    once = Once("slack-signature", "v0=failed", WINDOW)
    failed = team.core.handle_text_once(console_sender("bob"), "/paid NOPE-1 100", once)
    assert failed is not None and failed.is_error
    again = team.core.handle_text_once(console_sender("bob"), "/paid NOPE-1 100", once)
    assert again is not None and again.is_error, "nothing was saved, so nothing was noted"
    team.say("bob", "/add R-3 1000 EUR 2026-12-20 Acme")
    listed = Once("slack-signature", "v0=list", WINDOW)
    assert team.core.handle_text_once(console_sender("bob"), "/list", listed) is not None
    clock.advance(WINDOW + timedelta(seconds=1))
    assert team.core.handle_text_once(console_sender("bob"), "/list", listed) is not None
