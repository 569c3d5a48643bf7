"""Background loops that survive their failures: each failure is logged and recorded in the
liveness register (`bot.floor.health.LoopHealth`), then the loop is retried after a pause that doubles
up to a cap; a loop that ended anyway (cancelled at shutdown) is recorded as stopped."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.floor.health import LoopHealth

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    """Capped exponential pauses between retries: first, 2×first, 4×first … up to `cap`."""

    first: float = 0.5
    cap: float = 60.0
    failures: int = 0

    def failed(self) -> float:
        pause = min(self.cap, self.first * 2 ** self.failures)
        self.failures += 1
        return pause

    def reset(self) -> None:
        self.failures = 0


async def keep_running(name: str, loop: Callable[[], Awaitable[object]], health: LoopHealth,
                       backoff: Backoff | None = None) -> None:
    """Run `loop` (meant to run forever) until cancelled, restarting it whenever it fails or ends."""
    backoff = backoff or Backoff()
    health.started(name)
    try:
        while True:
            started = time.monotonic()
            try:
                await loop()
                raise RuntimeError(f"{name} ended by itself")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - a background loop must never die for good
                if time.monotonic() - started > backoff.cap:
                    backoff.reset()  # it ran well for a while: this is a new failure, not a streak
                pause = backoff.failed()
                health.failed(name, error)
                log.error("%s failed (%s: %s); restarting in %.1f s", name, type(error).__name__, error, pause,
                          exc_info=True)
            await asyncio.sleep(pause)
    finally:
        health.stopped(name)
