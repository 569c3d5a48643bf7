"""Learning of new earlier steps written by other instances: PostgreSQL LISTEN/NOTIFY.

`insert_steps` sends NOTIFY on commit; every listening instance re-arms its timer at once. The
scheduler's bounded sleep (`max_sleep`) remains the fallback while the listener reconnects.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import Engine

from scheduling.due_table import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


def listen_url(engine: Engine) -> str | None:
    """A libpq URL for the engine's database, or None when it is not PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return None
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_for_new_steps(engine: Engine, wake: Callable[[], None], retry_after: float = 2.0) -> None:
    url = listen_url(engine)
    if url is None:
        return
    import psycopg  # only here: a quarter of a second of start-up that SQLite does not need

    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                wake()  # anything written while we were not listening
                async for _ in connection.notifies():
                    wake()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep listening through database restarts
            log.warning("lost the PostgreSQL wake-up channel; retrying in %.0f s", retry_after, exc_info=True)
            await asyncio.sleep(retry_after)
