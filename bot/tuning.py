"""Throughput settings of one bot process, from the environment (bench/slack_load.py measures them).

The core runs each command in a worker thread (`asyncio.to_thread`), so the size of that pool is
how many commands one process works on at once. Python runs one thread at a time, but a thread
waiting for the database (a PostgreSQL round trip, SQLite's write lock) lets the others run: with
50 people typing, 16 threads served more commands per second than asyncio's default of
min(32, cores + 4) = 6 on a 2-core machine, on SQLite and on PostgreSQL (README, Performance).
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_POOL_SIZE = 10
DATABASE_POOL_OVERFLOW = 10
"""Connections per engine: enough for every worker thread and the scheduler's threads at once."""


class Tuning(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COLLECTBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    worker_threads: int = Field(16, ge=1, le=DATABASE_POOL_SIZE + DATABASE_POOL_OVERFLOW)


def use_worker_threads(loop: asyncio.AbstractEventLoop, tuning: Tuning | None = None) -> ThreadPoolExecutor:
    """Make `loop`'s default executor (what `asyncio.to_thread` uses) the bot's worker pool."""
    pool = ThreadPoolExecutor(max_workers=(tuning or Tuning()).worker_threads, thread_name_prefix="collectbot-worker")
    loop.set_default_executor(pool)
    return pool
