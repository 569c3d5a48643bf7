"""One process, many platforms, one scheduler: what `collectbot run` starts.

Each platform adapter (Telegram, Slack, the console) receives messages its own way and hands
the scheduler a notifier for pings; all of them share the core and the scheduler.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.app.bootstrap import build_core, build_scheduler, build_services
from bot.floor.clock import Clock
from bot.app.digest_runner import start_digests
from bot.floor.config import Settings
from bot.floor.health import LoopHealth
from handlers.core import Core
from handlers.context import Services
from scheduling.notifier import Notifier, RateLimits
from scheduling.digests import Digests
from scheduling.scheduler import FIRING, Scheduler
from scheduling.supervision import keep_running
from scheduling.wakeups import listen_for_new_steps, listen_url

if TYPE_CHECKING:
    from bot.app.metrics import MetricsServer

log = logging.getLogger(__name__)


class Platform(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def notifier(self) -> Notifier: ...

    @property
    def limits(self) -> RateLimits: ...

    @property
    def catch_all(self) -> bool:
        """Also gets the pings of people with no chat on any running platform (the local console)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Runtime:
    services: Services
    core: Core
    scheduler: Scheduler
    metrics: "MetricsServer | None" = None
    """The health and metrics server while `serve` runs with METRICS_PORT set."""

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> "Runtime":
        services = build_services(settings, clock=clock)
        scheduler = build_scheduler(services)
        return cls(services, build_core(services), scheduler)

    @property
    def health(self) -> LoopHealth:
        """Liveness of every background loop of this process (for a health endpoint and `doctor`)."""
        return self.scheduler.health

    async def serve(self, platforms: Sequence[Platform], until: Awaitable[object] | None = None) -> None:
        """Start every platform and the scheduler; run until `until` completes (or forever)."""
        from bot.floor.tuning import use_worker_threads

        use_worker_threads(asyncio.get_running_loop())
        for platform in platforms:
            self.scheduler.attach(platform.notifier, platform.limits, catch_all=platform.catch_all)
        started: list[Platform] = []
        digests: Digests | None = None
        metrics = self.metrics = await self._start_metrics()
        background = [asyncio.create_task(keep_running(FIRING, self.scheduler.run, self.health), name="scheduler")]
        if listen_url(self.services.engine) is not None:  # PostgreSQL: other instances' new steps wake us
            background.append(asyncio.create_task(keep_running("wake-ups", lambda: listen_for_new_steps(
                self.services.engine, self.scheduler.poke, health=self.health), self.health), name="wakeups"))
        try:
            for platform in platforms:
                await platform.start()
                started.append(platform)
                log.info("%s is running", platform.name)
            digests = await start_digests(self.services, platforms, self.scheduler.instance)
            if until is not None:
                await until
            else:
                await asyncio.Event().wait()
        finally:
            if digests is not None:
                digests.stop()
            for platform in reversed(started):
                with contextlib.suppress(Exception):
                    await platform.stop()
            await cancel_until_stopped(background)
            await self.scheduler.stop()
            if metrics is not None:
                await metrics.stop()

    async def _start_metrics(self) -> "MetricsServer | None":
        """/healthz and /metrics on METRICS_HOST:METRICS_PORT, when METRICS_PORT is set (bot.app.metrics)."""
        from bot.app.metrics import start_metrics_if_configured

        return await start_metrics_if_configured(self.services.engine, self.health, self.scheduler.queues)


def platforms_from_settings(runtime: Runtime) -> list[Platform]:
    """Telegram when its token is set, Slack when its token is set."""
    settings = runtime.services.settings
    platforms: list[Platform] = []
    if settings.telegram_bot_token:
        from bot.platforms.telegram import build_platform as build_telegram

        platforms.append(build_telegram(runtime.core, settings))
    if settings.slack_bot_token:
        from bot.platforms.slack import build_platform as build_slack

        platforms.append(build_slack(runtime.core, settings))
    return platforms


async def cancel_until_stopped(tasks: Sequence[asyncio.Task[Any]], patience: float = 2.0) -> None:
    """Cancel the background loops and wait for them, cancelling again any that is still running
    after `patience` seconds: Python 3.11's `wait_for` can swallow a cancellation that arrives as
    its inner wait completes, and a supervised loop would then run on and keep the bot from exiting."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _done, pending = await asyncio.wait(pending, timeout=patience)
        if pending:
            log.warning("%d background loop(s) did not stop when cancelled; cancelling again", len(pending))
