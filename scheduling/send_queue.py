"""One send queue per platform: due order, the platform's rate limits, merging, retries.

A person's steps that are waiting for the same chat go out as one message, so a burst (or the
catch-up after downtime) arrives merged rather than as a flood. A failed send stays queued and is
retried with growing pauses; nothing is dropped.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from handlers.reply import Reply
from scheduling.notifier import Notifier, RateLimits

log = logging.getLogger(__name__)
RETRY_PAUSES = (1.0, 5.0, 30.0, 120.0, 600.0)
MAX_STEPS_PER_MESSAGE = 10


@dataclass
class Outgoing:
    chat_id: str
    step_ids: list[int]
    due_at: datetime
    failures: int = 0
    not_before: float = 0.0


Compose = Callable[[list[int], int], Awaitable[Reply | None]]
"""Re-checks the steps and builds the message (None when nothing is left to say); gets the
number of failed attempts so far so it can say the message arrives late."""
Confirm = Callable[[list[int]], Awaitable[None]]


Entry = tuple[datetime, tuple[int, ...]]
"""(due at, step ids): plain tuples of untracked values, which Python's garbage collector stops
scanning, so a backlog of 100,000 steps adds no collection pauses."""


@dataclass(slots=True)
class Backlog:
    """What waits for one chat, with the facts the queue decides on kept up to date."""

    entries: list[Entry] = field(default_factory=list)
    earliest_due: datetime | None = None
    not_before: float = 0.0
    failures: int = 0

    def add(self, item: Outgoing) -> None:
        self.entries.append((item.due_at, tuple(item.step_ids)))
        self.earliest_due = item.due_at if self.earliest_due is None else min(self.earliest_due, item.due_at)
        self.not_before = max(self.not_before, item.not_before)
        self.failures = max(self.failures, item.failures)


@dataclass
class SendQueue:
    notifier: Notifier
    limits: RateLimits
    compose: Compose
    confirm: Confirm
    waiting: dict[str, Backlog] = field(default_factory=dict)
    _last_send: float = 0.0
    _last_by_chat: dict[str, float] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, item: Outgoing) -> None:
        self.waiting.setdefault(item.chat_id, Backlog()).add(item)
        self._wake.set()

    def __len__(self) -> int:
        return sum(len(backlog.entries) for backlog in self.waiting.values())

    def _ready_chat(self, now: float) -> tuple[str | None, float]:
        """The chat whose oldest step is most overdue among those allowed to send now, and how
        long to wait otherwise."""
        best: tuple[datetime, str] | None = None
        wait = float("inf")
        for chat_id, backlog in self.waiting.items():
            ready_at = max(backlog.not_before, self._last_by_chat.get(chat_id, 0.0) + self.limits.per_chat_interval)
            if ready_at <= now:
                assert backlog.earliest_due is not None
                if best is None or backlog.earliest_due < best[0]:
                    best = (backlog.earliest_due, chat_id)
            else:
                wait = min(wait, ready_at - now)
        return (best[1] if best else None), wait

    async def send_next(self) -> bool:
        """Send one (merged) message if one may go now; False when nothing could be sent."""
        now = time.monotonic()
        chat_id, _ = self._ready_chat(now)
        if chat_id is None:
            return False
        pause = self._last_send + 1.0 / self.limits.per_second - now
        if pause > 0:
            await asyncio.sleep(pause)
        entries, failures = self._take_oldest(chat_id)
        step_ids = sorted({step for _, steps in entries for step in steps})
        self._last_send = self._last_by_chat[chat_id] = time.monotonic()
        try:
            reply = await self.compose(step_ids, failures)
            if reply is not None:
                await self.notifier.send(chat_id, reply)
                await self.confirm(step_ids)
        except Exception:  # noqa: BLE001 - any failure: keep the ping and retry later
            pause_s = RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)]
            log.warning("%s: sending to %s failed; retrying in %.0f s", self.notifier.platform, chat_id, pause_s, exc_info=True)
            self.put(Outgoing(chat_id, step_ids, entries[0][0], failures + 1, time.monotonic() + pause_s))
        return True

    def _take_oldest(self, chat_id: str) -> tuple[list[Entry], int]:
        """Up to MAX_STEPS_PER_MESSAGE of the chat's waiting steps, oldest first, and how often
        they failed before; the rest wait for the next message."""
        backlog = self.waiting.pop(chat_id)
        waiting = sorted(backlog.entries)
        taken: list[Entry] = []
        steps = 0
        for index, entry in enumerate(waiting):
            if taken and steps + len(entry[1]) > MAX_STEPS_PER_MESSAGE:
                rest = Backlog(entries=waiting[index:], earliest_due=waiting[index][0])
                self.waiting[chat_id] = rest
                break
            taken.append(entry)
            steps += len(entry[1])
        return taken, backlog.failures

    async def flush(self) -> None:
        """Send everything that may go now (tests and shutdown)."""
        while await self.send_next():
            pass

    async def run(self) -> None:
        while True:
            if await self.send_next():
                continue
            _, wait = self._ready_chat(time.monotonic())
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=None if wait == float("inf") else wait)
            except TimeoutError:
                pass
