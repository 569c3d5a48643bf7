"""Delivery under faults: the database going away mid-burst, platforms answering 500, 429 or not at
all, people who blocked the bot. Every step ends delivered exactly once (or once more, marked as a
repeat), nothing is marked sent that the platform did not get, and a stuck loop is visible."""
from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.platforms.console.chat import ConsoleChat
from bot.platforms.console.platform import ConsolePlatform
from bot.store.database import create_database_engine
from bot.floor.health import LoopHealth, LoopState
from bot.app.runtime import Runtime
from handlers.core import Core
from bot.floor.reply import Reply
from scheduling.ladder_keeper import LadderKeeper
from scheduling.notifier import CONSOLE_LIMITS
from scheduling.scheduler import FIRING, Scheduler
from scheduling.due_table import NOTIFY_CHANNEL
from scheduling.supervision import Backoff, keep_running
from scheduling.wakeups import WAKEUPS, listen_for_new_steps
from tests.conftest import POSTGRES_URL
from tests.outages import POSTGRES_PORT, Outage, TcpProxy
from tests.support import ChatDriver, RecordingNotifier
from tests.test_firing import NOON, add_steps, states

FAST_RETRIES = (0.05, 0.1, 0.2, 0.4)


@pytest.fixture
def hand_placed_steps_only(core: Core) -> None:
    """The steps of these stories are placed by hand (see test_firing); the planner is off."""
    core.services.invoice_hooks[:] = [hook for hook in core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]


async def until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)
    return result


def failing_loops(health: LoopHealth) -> dict[str, LoopState]:
    return {name: state for name, state in health.snapshot().items() if state.failures_in_a_row >= 2}


def fast_scheduler(engine: Engine, clock: MovableClock, **options: Any) -> Scheduler:
    return Scheduler(engine, clock, max_sleep=timedelta(seconds=0.2), backoff=Backoff(first=0.05, cap=0.4),
                     retry_pauses=FAST_RETRIES, lease=timedelta(seconds=3), **options)


def sent_once_each(texts: list[str], numbers: list[str]) -> dict[str, int]:
    """How many delivered messages name each invoice."""
    return {number: sum(number in text for text in texts) for number in numbers}


async def test_pings_caught_in_a_database_outage_mid_burst_all_go_out_once_after_it_and_new_steps_still_fire(
    team: ChatDriver, engine: Engine, clock: MovableClock, outage: Outage, hand_placed_steps_only: None
) -> None:
    numbers = [f"DB-{n:02d}" for n in range(1, 13)]
    steps: list[int] = []
    for index, number in enumerate(numbers):
        team.say("bob", f"/add {number} 100 EUR 2026-12-01 Customer {index}")
        steps += add_steps(engine, number, ("bob", "alice")[index % 2], NOON)
    clock.set(NOON)
    outage_begun = asyncio.Event()

    class CutOffAfterFirst(RecordingNotifier):
        async def send(self, chat_id: str, reply: Reply) -> None:
            await super().send(chat_id, reply)
            if not outage_begun.is_set():
                outage_begun.set()
                await outage.begin()  # the database goes away in the middle of the burst

    notifier = CutOffAfterFirst()
    scheduler = fast_scheduler(outage.engine, clock)
    scheduler.attach(notifier, CONSOLE_LIMITS)
    running = asyncio.create_task(scheduler.run())
    try:
        await until(outage_begun.is_set, 10, "the first ping went out")
        await until(lambda: "send queue console" in failing_loops(scheduler.health), 10,
                    "the queue that cannot record its deliveries shows it")
        stuck = failing_loops(scheduler.health)
        assert all(not state.healthy(datetime.now(timezone.utc), timedelta(minutes=1)) and state.last_error
                   for state in stuck.values()), "what went wrong is kept for the health check"
        await asyncio.sleep(0.5)
        await outage.end()
        await until(lambda: states(engine, steps) == ["sent"] * len(steps), 20, "every ping delivered after the outage")
        assert sent_once_each(notifier.texts(), numbers) == dict.fromkeys(numbers, 1), "nothing lost, nothing doubled"
        team.say("bob", "/add DB-NEW 100 EUR 2026-12-01 Newcomer")
        [new] = add_steps(engine, "DB-NEW", "bob", NOON + timedelta(minutes=1))
        clock.advance(timedelta(minutes=1))
        scheduler.poke()
        await until(lambda: states(engine, [new]) == ["sent"], 10, "a new invoice still fires")
        await until(lambda: not failing_loops(scheduler.health), 5, "every loop is healthy again")
        assert running.done() is False, "the loop never died"
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await outage.end()
    assert scheduler.health.snapshot()[FIRING].running is False


async def test_the_wake_up_listener_survives_a_postgresql_restart_and_shows_the_outage_meanwhile(postgres_available: None) -> None:
    proxy = TcpProxy(POSTGRES_PORT)
    await proxy.start()
    engine = create_database_engine(f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test")
    woken = asyncio.Event()
    health = LoopHealth()
    listening = asyncio.create_task(listen_for_new_steps(engine, woken.set, retry_after=0.05, health=health))
    try:
        await until(lambda: woken.is_set() and WAKEUPS in health.snapshot(), 5, "listening")
        await proxy.go_down()
        await until(lambda: health.snapshot()[WAKEUPS].failures_in_a_row >= 2, 10, "the lost channel is visible")
        woken.clear()
        await proxy.come_back()
        await until(woken.is_set, 10, "back, it wakes the scheduler for whatever was written meanwhile")
        woken.clear()
        direct = create_database_engine(POSTGRES_URL)
        with direct.begin() as connection:
            connection.execute(sa.text(f"NOTIFY {NOTIFY_CHANNEL}"))
        direct.dispose()
        await until(woken.is_set, 5, "a new step written by another instance wakes it")
        assert health.snapshot()[WAKEUPS].failures_in_a_row == 0
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await proxy.stop()
        engine.dispose()
    assert health.snapshot()[WAKEUPS].running is False


async def test_a_loop_that_keeps_failing_is_restarted_with_growing_pauses_and_shows_in_health() -> None:
    health = LoopHealth()
    runs: list[float] = []

    async def flaky() -> None:
        runs.append(time.monotonic())
        if len(runs) <= 3:
            raise ConnectionError(f"database gone (try {len(runs)})")
        health.beat("flaky")
        await asyncio.Event().wait()

    supervised = asyncio.create_task(keep_running("flaky", flaky, health, Backoff(first=0.05, cap=0.15)))
    try:
        await until(lambda: "flaky" in health.snapshot() and health.snapshot()["flaky"].failures_in_a_row == 2, 5,
                    "failing, visibly")
        state = health.snapshot()["flaky"]
        assert state.running and "database gone (try 2)" in (state.last_error or "") and health.failing(timedelta(minutes=1))
        await until(lambda: len(runs) == 4, 5, "restarted after the failures")
        await until(lambda: not health.failing(timedelta(minutes=1)), 5, "healthy once it runs")
        pauses = [later - earlier for earlier, later in zip(runs, runs[1:])]
        assert pauses[1] >= pauses[0] * 1.5 and pauses[2] < 0.5, "doubling, up to the cap"
        assert health.snapshot()["flaky"].total_failures == 3
    finally:
        supervised.cancel()
        await asyncio.gather(supervised, return_exceptions=True)
    assert health.snapshot()["flaky"].running is False, "a stopped loop is not reported as running"


async def test_collectbot_run_exposes_the_liveness_of_every_background_loop(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'run.db'}")  # type: ignore[call-arg]
    runtime = Runtime.build(settings, clock=MovableClock(NOON))
    chat = ConsoleChat(runtime.core, "alice", io.StringIO())
    stop = asyncio.Event()
    serving = asyncio.create_task(runtime.serve([ConsolePlatform(chat)], until=stop.wait()))
    try:
        expected = {FIRING, "housekeeping", "send queue console"}
        await until(lambda: expected <= {name for name, state in runtime.health.snapshot().items() if state.running}, 10,
                    "every loop registered and running")
        assert FIRING not in runtime.health.failing(timedelta(minutes=1))
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
    assert not any(state.running for state in runtime.health.snapshot().values()), "all stopped with the process"
