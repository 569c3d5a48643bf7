"""A real `collectbot run` killed with SIGKILL in the middle of a burst of pings, then started
again: every step ends delivered exactly once, or once more marked as a repeat."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.store.models import ChatIdentity, Person
from handlers.core import Core
from scheduling import due_table
from scheduling.ladder_keeper import LadderKeeper
from tests.support import ChatDriver
from tests.telegram_standin import TelegramStandIn
from tests.test_delivery_faults import until
from tests.test_firing import add_steps, states

ROOT = Path(__file__).resolve().parent.parent
BOOT_TIME = timedelta(seconds=8)
"""The burst starts once `collectbot run` is up (it arms its timer at the first step)."""
PEOPLE = {"alice": 201, "bob": 202, "carol": 203, "dave": 204}


@pytest.fixture(autouse=True)
def hand_placed_steps_only(core: Core) -> None:
    core.services.invoice_hooks[:] = [hook for hook in core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]


@pytest.fixture
async def standin() -> AsyncIterator[TelegramStandIn]:
    server = TelegramStandIn()
    await server.start()
    yield server
    await server.stop()


def link_on_telegram(engine: Engine) -> None:
    with Session(engine) as session:
        for handle, user_id in PEOPLE.items():
            person = session.exec(select(Person).where(Person.handle == handle)).one()
            session.add(ChatIdentity(person_id=person.id, platform="telegram", external_id=str(user_id),  # type: ignore[arg-type]
                                     chat_id=str(user_id), created_at=datetime.now(timezone.utc)))
        session.commit()


def collectbot_run(database: tuple[str, str | None], standin: TelegramStandIn, tmp_path: Path) -> subprocess.Popen[bytes]:
    url, schema = database
    if schema:
        url += f"?options=-csearch_path%3D{schema}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "DATABASE_"))}
    env.update(DATABASE_URL=url, TELEGRAM_BOT_TOKEN=standin.token, TELEGRAM_API_BASE_URL=standin.base_url,
               TELEGRAM_FILE_BASE_URL=standin.file_base_url, TELEGRAM_POLL_TIMEOUT="1", PYTHONPATH=str(ROOT))
    log = (tmp_path / "run.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], cwd=tmp_path, env=env, stdout=log, stderr=log)


def pings(standin: TelegramStandIn) -> list[str]:
    return [m["text"] for user_id in PEOPLE.values() for m in standin.sent_to(user_id) if "SIG-" in m.get("text", "")]


async def test_a_collectbot_run_killed_mid_burst_and_started_again_delivers_every_step_once_or_marked_repeat(
    team: ChatDriver, engine: Engine, database_url: tuple[str, str | None], standin: TelegramStandIn, tmp_path: Path
) -> None:
    link_on_telegram(engine)
    start = datetime.now(timezone.utc) + BOOT_TIME
    numbers = [f"SIG-{n:02d}" for n in range(1, 25)]
    steps: list[int] = []
    for index, number in enumerate(numbers):
        team.say("alice", f"/add {number} 100 EUR 2026-12-01 Customer {index}")
        steps += add_steps(engine, number, list(PEOPLE)[index % len(PEOPLE)], start + timedelta(seconds=index * 0.5))
    standin.delay_next += [("sendMessage", 0.3)] * 200  # Telegram is slow today: sends are in flight when it dies
    first = collectbot_run(database_url, standin, tmp_path)
    try:
        await until(lambda: len(pings(standin)) >= 5 or first.poll() is not None, 60, "the burst is under way")
        assert first.poll() is None, (tmp_path / "run.log").read_text()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert states(engine, steps).count("sent") < len(steps), "killed in the middle of the burst"
    with engine.begin() as connection:  # the dead instance's lease runs out (two minutes, as time is data)
        connection.execute(sa.update(due_table.STEPS).where(due_table.STEPS.c.state == "sending")
                           .values(claimed_at=datetime.now(timezone.utc) - timedelta(minutes=10)))
    second = collectbot_run(database_url, standin, tmp_path)
    try:
        await until(lambda: states(engine, steps) == ["sent"] * len(steps), 60, "every step delivered after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=10)
        except subprocess.TimeoutExpired:
            second.kill()
    texts = pings(standin)
    for number in numbers:
        plain = [text for text in texts if number in text and "Repeat" not in text]
        repeats = [text for text in texts if number in text and "Repeat" in text]
        assert len(plain) <= 1 and len(plain) + len(repeats) >= 1, f"{number}: {len(plain)} plain, {len(repeats)} repeats"
        assert len(plain) + len(repeats) <= 2, f"{number} at most once more, marked"
