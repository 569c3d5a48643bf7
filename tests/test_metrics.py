"""Operators see the bot's pulse over HTTP: /healthz says whether every background loop is alive,
/metrics gives Prometheus the pings sent, late and failed, the backlog and the loops."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from bot.floor.clock import MovableClock
from bot.floor.health import LoopHealth
from bot.app.metrics import MetricsServer
from handlers.core import Core
from scheduling.ladder_keeper import LadderKeeper
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier
from tests.test_firing import add_steps, scheduler_for

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=OSLO)


@pytest.fixture(autouse=True)
def hand_placed_steps_only(core: Core) -> None:
    core.services.invoice_hooks[:] = [hook for hook in core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]


@pytest.fixture
def health() -> LoopHealth:
    return LoopHealth()


@pytest.fixture
async def server(engine: Engine, health: LoopHealth, clock: MovableClock) -> AsyncIterator[MetricsServer]:
    server = MetricsServer(engine, health, lambda: {"console": 2}, clock=clock, min_interval=0)
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


async def get(server: MetricsServer, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{server.port}{path}") as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def test_health_is_ok_while_every_loop_beats_and_503_when_one_fails(server: MetricsServer, health: LoopHealth,
                                                                          clock: MovableClock) -> None:
    health.started("firing loop", clock.now())
    health.beat("send queue telegram", clock.now())
    status, body = await get(server, "/healthz")
    assert status == 200 and '"status": "ok"' in body
    health.failed("send queue telegram", ConnectionError("api.telegram.org unreachable"))
    status, body = await get(server, "/healthz")
    assert status == 503 and '"status": "unhealthy"' in body
    assert "ConnectionError: api.telegram.org unreachable" in body


async def test_a_loop_silent_for_minutes_is_unhealthy(server: MetricsServer, health: LoopHealth, clock: MovableClock) -> None:
    health.beat("housekeeping", clock.now())
    clock.advance(timedelta(minutes=5))
    status, body = await get(server, "/healthz")
    assert status == 503
    metrics = samples((await get(server, "/metrics"))[1])
    assert metrics[("collectbot_loop_healthy", (("loop", "housekeeping"),))] == 0
    assert metrics[("collectbot_loop_last_beat_age_seconds", (("loop", "housekeeping"),))] == 300
    assert metrics[("collectbot_loops_alive", ())] == 0


async def test_metrics_count_pings_sent_late_and_the_backlog(server: MetricsServer, health: LoopHealth, team: ChatDriver,
                                                             engine: Engine, clock: MovableClock) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-01 Acme")
    on_time, late, waiting = add_steps(engine, "INV-1", "bob", NOON, NOON + timedelta(minutes=1), NOON + timedelta(hours=1))
    scheduler = scheduler_for(engine, clock, RecordingNotifier())
    clock.set(NOON)
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    clock.set(NOON + timedelta(minutes=5))  # the second step goes out 4 minutes late
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    clock.set(NOON + timedelta(hours=2))  # the third is due, not yet fired
    health.beat("firing loop", clock.now())
    status, text = await get(server, "/metrics")
    assert status == 200
    metrics = samples(text)
    assert metrics[("collectbot_pings_sent_total", ())] == 2
    assert metrics[("collectbot_pings_late_total", ())] == 1
    assert metrics[("collectbot_pings_failed_total", ())] == 0
    assert metrics[("collectbot_queue_depth", ())] == 1
    assert metrics[("collectbot_steps", (("state", "pending"),))] == 1
    assert metrics[("collectbot_send_queue_depth", (("platform", "console"),))] == 2
    assert metrics[("collectbot_loop_healthy", (("loop", "firing loop"),))] == 1
    assert metrics[("collectbot_database_up", ())] == 1


async def test_a_ping_nobody_can_receive_counts_as_failed(server: MetricsServer, team: ChatDriver, engine: Engine,
                                                          clock: MovableClock) -> None:
    team.say("bob", "/add INV-2 100 EUR 2026-12-01 Acme")
    add_steps(engine, "INV-2", "bob", NOON)
    scheduler = scheduler_for(engine, clock, RecordingNotifier(platform="telegram"))  # bob has no Telegram chat
    clock.set(NOON)
    await scheduler.fire_due()
    metrics = samples((await get(server, "/metrics"))[1])
    assert metrics[("collectbot_pings_failed_total", ())] == 1


async def test_collectbot_run_serves_health_and_metrics_when_a_port_is_set(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import io

    from bot.floor.config import Settings
    from bot.platforms.console.chat import ConsoleChat
    from bot.platforms.console.platform import ConsolePlatform
    from bot.app.runtime import Runtime

    monkeypatch.setenv("METRICS_PORT", "0")
    runtime = Runtime.build(Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'run.db'}"))  # type: ignore[call-arg]
    stop = asyncio.Event()
    serving = asyncio.create_task(runtime.serve([ConsolePlatform(ConsoleChat(runtime.core, "alice", io.StringIO()))],
                                                until=stop.wait()))
    try:
        for _ in range(100):
            if runtime.metrics is not None and runtime.metrics.port:
                break
            await asyncio.sleep(0.05)
        assert runtime.metrics is not None
        status, text = await get(runtime.metrics, "/metrics")
        assert status == 200 and "collectbot_pings_sent_total 0.0" in text
        status, _ = await get(runtime.metrics, "/healthz")
        assert status == 200, "every loop of a freshly started bot is healthy"
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
    assert runtime.metrics is not None
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(runtime.metrics, "/healthz")
