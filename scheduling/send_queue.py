"""One send queue per platform: due order, the platform's rate limits, merging, retries.

A person's steps that are waiting for the same chat go out as one message, so a burst (or the
catch-up after downtime) arrives merged rather than as a flood. A ping is rendered once: a retry
sends exactly the same parts, going on from the first part that has not arrived, and a part that
may have arrived (the platform did not answer in time) is resent marked as a repeat. A failed send
stays queued and is retried with growing pauses; a message the platform refuses for good (the
person blocked the bot) is given up with a visible event, and the chat's next ping goes out.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.floor.health import LoopHealth
from scheduling.notifier import NotDelivered, Notifier, Part, PartsNotifier, RateLimits, Undeliverable, parts_notifier

log = logging.getLogger(__name__)
RETRY_PAUSES = (1.0, 5.0, 30.0, 120.0, 600.0)
MAX_STEPS_PER_MESSAGE = 10
IDLE_BEAT = 30.0
"""An idle queue still reports that it is alive this often."""


@dataclass
class PreparedPing:
    """A ping rendered for one chat: its parts, and how many of them have arrived."""

    step_ids: list[int]
    parts: list[Part]
    sent: int = 0
    repeat: bool = False
    """Resend marked as a repeat: it may have arrived before (a timeout, a crashed instance)."""
    stored_id: int | None = None
    """The ping_message row that keeps a ping of several parts across a crash."""
    refused: str | None = None
    """The platform refused it for good; only the record of that is left to do."""
    in_flight: bool = False


@dataclass
class Outgoing:
    chat_id: str
    step_ids: list[int]
    due_at: datetime
    failures: int = 0
    not_before: float = 0.0
    prepared: PreparedPing | None = None


class PingBook(Protocol):
    """What the queue needs from the scheduler: the rendered ping and the records of delivery."""

    async def prepare(self, notifier: PartsNotifier, chat_id: str, step_ids: list[int],
                      failures: int) -> tuple[PreparedPing | None, list[int]]:
        """Re-check the steps and render (or find the stored) ping; also the steps left for a later message."""
        ...

    async def still_open(self, ping: PreparedPing) -> bool:
        """Whether every step of a ping rendered before may still go out (checked before a retry)."""
        ...

    async def progress(self, notifier: PartsNotifier, ping: PreparedPing) -> None: ...

    async def delivered(self, notifier: PartsNotifier, ping: PreparedPing) -> None: ...

    async def undeliverable(self, notifier: PartsNotifier, chat_id: str, ping: PreparedPing, reason: str) -> None: ...


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
    prepared: dict[tuple[int, ...], PreparedPing] = field(default_factory=dict)
    """Pings already rendered (a retry), by their steps: they go out as they are, never merged."""

    def add(self, item: Outgoing) -> None:
        entry = (item.due_at, tuple(item.step_ids))
        self.entries.append(entry)
        if item.prepared is not None:
            self.prepared[entry[1]] = item.prepared
        self.earliest_due = item.due_at if self.earliest_due is None else min(self.earliest_due, item.due_at)
        self.not_before = max(self.not_before, item.not_before)
        self.failures = max(self.failures, item.failures)


@dataclass
class SendQueue:
    notifier: Notifier
    limits: RateLimits
    book: PingBook
    retry_pauses: tuple[float, ...] = RETRY_PAUSES
    health: LoopHealth | None = None
    waiting: dict[str, Backlog] = field(default_factory=dict)
    _last_send: float = 0.0
    _last_by_chat: dict[str, float] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.parts = parts_notifier(self.notifier)

    @property
    def name(self) -> str:
        return f"send queue {self.notifier.platform}"

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
        entries, failures, ping = self._take_oldest(chat_id)
        step_ids = sorted({step for _, steps in entries for step in steps})
        self._last_send = self._last_by_chat[chat_id] = time.monotonic()
        try:
            if ping is not None and ping.sent == 0 and ping.refused is None and not await self.book.still_open(ping):
                ping = None  # paid, disputed or on hold meanwhile: what is left is rendered anew
            if ping is None:
                ping, later = await self.book.prepare(self.parts, chat_id, step_ids, failures)
                if later:
                    self.put(Outgoing(chat_id, later, entries[0][0], failures))
            if ping is not None:
                await self._deliver(chat_id, ping)
            if self.health is not None:
                self.health.beat(self.name)
        except Exception as error:  # noqa: BLE001 - any failure: keep the ping and retry later
            if ping is not None and ping.in_flight and not isinstance(error, NotDelivered):
                ping.repeat = True  # the part may have arrived: its resend says so
            if ping is not None:
                ping.in_flight = False
            if self.health is not None:
                self.health.failed(self.name, error)
            pause_s = self.retry_pauses[min(failures, len(self.retry_pauses) - 1)]
            log.warning("%s: sending to %s failed (%s); retrying in %.1f s", self.notifier.platform, chat_id,
                        f"{type(error).__name__}: {error}", pause_s, exc_info=log.isEnabledFor(logging.DEBUG))
            retry_ids = ping.step_ids if ping is not None else step_ids
            self.put(Outgoing(chat_id, retry_ids, entries[0][0], failures + 1, time.monotonic() + pause_s, ping))
        return True

    async def _deliver(self, chat_id: str, ping: PreparedPing) -> None:
        if ping.refused is None:
            try:
                while ping.sent < len(ping.parts):
                    part = ping.parts[ping.sent]
                    ping.in_flight = True
                    await self.parts.send_part(chat_id, self.parts.mark_repeat(part) if ping.repeat else part)
                    ping.in_flight = False
                    ping.sent += 1
                    ping.repeat = False
                    if ping.stored_id is not None and ping.sent < len(ping.parts):
                        await self.book.progress(self.parts, ping)
            except Undeliverable as refusal:
                ping.in_flight = False
                ping.refused = refusal.reason
                log.warning("%s: %s refuses the ping for steps %s for good: %s", self.notifier.platform, chat_id,
                            ping.step_ids, refusal.reason)
        if ping.refused is not None:
            await self.book.undeliverable(self.parts, chat_id, ping, ping.refused)
        else:
            await self.book.delivered(self.parts, ping)

    def _take_oldest(self, chat_id: str) -> tuple[list[Entry], int, PreparedPing | None]:
        """Up to MAX_STEPS_PER_MESSAGE of the chat's waiting steps, oldest first, and how often
        they failed before; the rest wait for the next message. A ping rendered before goes alone."""
        backlog = self.waiting.pop(chat_id)
        waiting = sorted(backlog.entries)
        taken: list[Entry] = []
        steps = 0
        prepared: PreparedPing | None = None
        rest_from = len(waiting)
        for index, entry in enumerate(waiting):
            if entry[1] in backlog.prepared:
                if not taken:
                    taken.append(entry)
                    prepared = backlog.prepared.pop(entry[1])
                    rest_from = index + 1
                else:
                    rest_from = index
                break
            if taken and steps + len(entry[1]) > MAX_STEPS_PER_MESSAGE:
                rest_from = index
                break
            taken.append(entry)
            steps += len(entry[1])
        rest = waiting[rest_from:]
        if rest:
            self.waiting[chat_id] = Backlog(entries=rest, earliest_due=rest[0][0], prepared=backlog.prepared,
                                            failures=backlog.failures if prepared is None else 0)
        return taken, backlog.failures, prepared

    async def flush(self) -> None:
        """Send everything that may go now (tests and shutdown)."""
        while await self.send_next():
            pass

    async def run(self) -> None:
        while True:
            if self.health is not None:
                self.health.alive(self.name)
            if await self.send_next():
                continue
            _, wait = self._ready_chat(time.monotonic())
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=min(wait, IDLE_BEAT))
            except TimeoutError:
                pass
