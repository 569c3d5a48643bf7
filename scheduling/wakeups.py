"""Learning of new earlier steps written by other instances: PostgreSQL LISTEN/NOTIFY.

`insert_steps` sends NOTIFY on commit; every listening instance re-arms its timer at once. The
scheduler's bounded sleep (`max_sleep`) remains the fallback while the listener reconnects.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import Engine

from bot.floor.health import LoopHealth
from scheduling.due_table import NOTIFY_CHANNEL
from scheduling.supervision import Backoff

log = logging.getLogger(__name__)


def listen_url(engine: Engine) -> str | None:
    """A libpq URL for the engine's database, or None when it is not PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return None
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


WAKEUPS = "wake-ups listener"
IDLE_ROUND = 30.0


async def listen_for_new_steps(engine: Engine, wake: Callable[[], None], retry_after: float = 2.0,
                               health: LoopHealth | None = None) -> None:
    url = listen_url(engine)
    if url is None:
        return
    import psycopg  # only here: a quarter of a second of start-up that SQLite does not need

    health = health or LoopHealth()
    backoff = Backoff(first=retry_after, cap=max(retry_after, 30.0))
    health.started(WAKEUPS)
    try:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    backoff.reset()
                    health.beat(WAKEUPS)
                    wake()  # anything written while we were not listening
                    while True:  # in rounds, so an idle listener still shows it is alive
                        async for _ in connection.notifies(timeout=IDLE_ROUND):
                            wake()
                        await connection.execute("SELECT 1")  # a dead connection shows here
                        health.beat(WAKEUPS)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep listening through database restarts
                pause = backoff.failed()
                health.failed(WAKEUPS, error)
                log.warning("lost the PostgreSQL wake-up channel (%s); retrying in %.0f s", type(error).__name__, pause)
                await asyncio.sleep(pause)
    finally:
        health.stopped(WAKEUPS)
