"""Throughput settings of one bot process, from the environment (bench/slack_load.py measures them).

The core runs each command in a worker thread (`asyncio.to_thread`), so the size of that pool is
how many commands one process works on at once. Python runs one thread at a time, so more threads
help only while some wait for the database (a PostgreSQL round trip, SQLite's write lock). Measured
with 50 people typing on a busy 2-core machine, 16 threads answered more commands per second than
asyncio's default of min(32, cores + 4) but with a longer tail on SQLite, whose waiting writers
back off and retry; the default stays asyncio's until a quiet machine says otherwise (README,
Performance).
"""
from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_POOL_SIZE = 10
DATABASE_POOL_OVERFLOW = 22
"""Connections per engine: enough for every worker thread and the scheduler's threads at once."""


class Tuning(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COLLECTBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    worker_threads: int = Field(min(32, (os.cpu_count() or 1) + 4), ge=1, le=DATABASE_POOL_SIZE + DATABASE_POOL_OVERFLOW)


def use_worker_threads(loop: asyncio.AbstractEventLoop, tuning: Tuning | None = None) -> ThreadPoolExecutor:
    """Make `loop`'s default executor (what `asyncio.to_thread` uses) the bot's worker pool."""
    pool = ThreadPoolExecutor(max_workers=(tuning or Tuning()).worker_threads, thread_name_prefix="collectbot-worker")
    loop.set_default_executor(pool)
    return pool
