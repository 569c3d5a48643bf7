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


@dataclass
class SendQueue:
    notifier: Notifier
    limits: RateLimits
    compose: Compose
    confirm: Confirm
    waiting: dict[str, list[Outgoing]] = field(default_factory=dict)
    _last_send: float = 0.0
    _last_by_chat: dict[str, float] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, item: Outgoing) -> None:
        self.waiting.setdefault(item.chat_id, []).append(item)
        self._wake.set()

    def __len__(self) -> int:
        return sum(len(items) for items in self.waiting.values())

    def _ready_chat(self, now: float) -> tuple[str | None, float]:
        """The chat whose oldest step is most overdue among those allowed to send now, and how
        long to wait otherwise."""
        best: tuple[datetime, str] | None = None
        wait = float("inf")
        for chat_id, items in self.waiting.items():
            ready_at = max(
                max(item.not_before for item in items),
                self._last_by_chat.get(chat_id, 0.0) + self.limits.per_chat_interval,
            )
            if ready_at <= now:
                due = min(item.due_at for item in items)
                if best is None or due < best[0]:
                    best = (due, chat_id)
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
        items = self.waiting.pop(chat_id)
        step_ids = sorted({step for item in items for step in item.step_ids})
        failures = max(item.failures for item in items)
        self._last_send = self._last_by_chat[chat_id] = time.monotonic()
        try:
            reply = await self.compose(step_ids, failures)
            if reply is not None:
                await self.notifier.send(chat_id, reply)
                await self.confirm(step_ids)
        except Exception:  # noqa: BLE001 - any failure: keep the ping and retry later
            pause_s = RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)]
            log.warning("%s: sending to %s failed; retrying in %.0f s", self.notifier.platform, chat_id, pause_s, exc_info=True)
            retry = Outgoing(chat_id, step_ids, min(item.due_at for item in items), failures + 1, time.monotonic() + pause_s)
            self.waiting.setdefault(chat_id, []).append(retry)
        return True

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
