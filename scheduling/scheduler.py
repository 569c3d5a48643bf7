"""The firing loop: one timer armed at the earliest pending step; due steps are claimed in a
transaction and handed to the platforms' send queues.

Nothing lost: steps that fell due while no instance was running are claimed on start and go out
marked late; steps left in `sending` by a crashed instance are taken over once their lease runs
out and go out marked as a repeat. Nothing doubled: a step is claimed by one instance only.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import sys
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.models import ChatIdentity, Event, Invoice, Person
from handlers.pings import DraftFor, compose_ping
from handlers.reply import Reply
from scheduling import due_table
from scheduling.due_table import ClaimedStep
from scheduling.follow_ups import follow_up_unanswered
from scheduling.notifier import Notifier, RateLimits
from scheduling.send_queue import Outgoing, SendQueue

log = logging.getLogger(__name__)
GIL_SWITCH_INTERVAL = 0.0005
"""Python lets a busy thread hold the GIL for 5 ms by default; composing messages in worker threads
would then delay the timer by up to that much. A shorter interval keeps firing within a millisecond."""


Routed = tuple[ClaimedStep, list[tuple[str, str]]]
FOLLOW_UP_EVERY = timedelta(minutes=1)


def new_instance_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class HandoffStats:
    """Lateness of each step from its scheduled time to its hand-off to a send queue."""

    lateness: list[timedelta] = field(default_factory=list)
    handed_off: int = 0


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        instance: str | None = None,
        lease: timedelta = timedelta(minutes=2),
        max_sleep: timedelta = timedelta(seconds=30),
        batch: int = 1000,
        lookahead: timedelta = timedelta(milliseconds=500),
        draft_for: DraftFor | None = None,
        round_the_clock: frozenset[str] = frozenset(),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.instance = instance or new_instance_id()
        self.lease = lease
        self.max_sleep = max_sleep
        self.batch = batch
        self.lookahead = lookahead
        self.draft_for = draft_for
        self.round_the_clock = round_the_clock
        """Ladders that ignore working hours: their answer windows run round the clock."""
        self.queues: dict[str, SendQueue] = {}
        self.catch_all: str | None = None
        self.stats = HandoffStats()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, notifier: Notifier, limits: RateLimits, *, catch_all: bool = False) -> SendQueue:
        """Send pings through `notifier`. A catch-all platform (the local console) also gets the
        pings of people with no chat on any running platform, addressed by their handle."""
        queue = SendQueue(notifier, limits, self._compose, self._confirm)
        self.queues[notifier.platform] = queue
        if catch_all:
            self.catch_all = notifier.platform
        return queue

    def poke(self) -> None:
        """New steps were stored: re-arm the timer (safe to call from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def fire_due(self) -> int:
        """Claim what is due now and hand it to the send queues at once; returns how many steps."""
        routed, _ = await asyncio.to_thread(self._claim_and_route, self.clock.now())
        for step, targets in routed:
            self._hand_off(step, targets)
        return len(routed)

    async def recover(self) -> int:
        """Take over steps stuck in `sending` whose claimer stopped renewing (crashed)."""
        stale = await asyncio.to_thread(due_table.take_over_stale, self.engine, self.clock.now(), self.instance, self.lease)
        if stale:
            log.warning("taking over %d step(s) left unconfirmed by a stopped instance", len(stale))
            for step, targets in await asyncio.to_thread(self._route, stale):
                self._hand_off(step, targets)
        return len(stale)

    async def flush(self) -> None:
        for queue in self.queues.values():
            await queue.flush()

    async def run(self) -> None:
        """Fire steps at their minute until cancelled.

        Steps due within `lookahead` are claimed (and their chats looked up) ahead of time in a
        worker thread, then handed to the send queues at their exact moment by the event loop's
        timer, so database work never delays a hand-off.
        """
        loop = self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL))
        gc.freeze()  # everything built at start-up lives for good: keep it out of collection pauses
        tasks = [asyncio.create_task(queue.run()) for queue in self.queues.values()]
        tasks.append(asyncio.create_task(self._housekeeping()))
        try:
            await self.recover()
            while True:
                self._wake.clear()
                routed, next_due = await asyncio.to_thread(self._claim_and_route, self.clock.now() + self.lookahead)
                now = self.clock.now()
                for step, targets in routed:
                    wait = (step.due_at - now).total_seconds()
                    if wait > 0:
                        loop.call_at(loop.time() + wait, self._hand_off, step, targets)
                    else:
                        self._hand_off(step, targets)
                delay = self.max_sleep.total_seconds()
                if next_due is not None:
                    delay = min(delay, max(0.0, (next_due - self.lookahead - self.clock.now()).total_seconds()))
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=delay)
                    except TimeoutError:
                        pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _housekeeping(self) -> None:
        """Renew our claims and take over stale ones every third of a lease; look for unanswered
        pings once a minute (answer windows are hours long; scanning them is not free)."""
        interval = max(self.lease.total_seconds() / 3, 0.05)
        followed_up = self.clock.now()
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(due_table.renew_claims, self.engine, self.instance, self.clock.now())
                await self.recover()
                if self.clock.now() - followed_up >= FOLLOW_UP_EVERY:
                    followed_up = self.clock.now()
                    if await self.follow_up():
                        self.poke()
            except Exception:  # noqa: BLE001 - housekeeping must survive a database hiccup
                log.warning("scheduler housekeeping failed; will retry", exc_info=True)

    async def follow_up(self) -> int:
        """Repeat unanswered pings once, then escalate them to a manager (see follow_ups)."""
        return await asyncio.to_thread(follow_up_unanswered, self.engine, self.clock.now(), self.round_the_clock)

    def _claim_and_route(self, horizon: datetime) -> tuple[list[Routed], datetime | None]:
        """Claim every pending step due by `horizon` and find where each goes; also the next due time."""
        routed: list[Routed] = []
        while True:
            claimed = due_table.claim_due(self.engine, horizon, self.instance, self.batch)
            routed.extend(self._route(claimed))
            if len(claimed) < self.batch:
                break
        with self.engine.connect() as connection:
            return routed, due_table.earliest_pending(connection)

    def _hand_off(self, step: ClaimedStep, targets: list[tuple[str, str]]) -> None:
        for platform, chat_id in targets:
            self.queues[platform].put(Outgoing(chat_id, [step.id], step.due_at))
        self.stats.lateness.append(self.clock.now() - step.due_at)
        self.stats.handed_off += 1

    def _route(self, claimed: Sequence[ClaimedStep]) -> list[Routed]:
        """Each step with the chats (on running platforms) where its person can be reached."""
        if not claimed:
            return []
        recipients = self._recipients(claimed)
        targets: dict[int, list[tuple[str, str]]] = defaultdict(list)
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(ChatIdentity.person_id, ChatIdentity.platform, ChatIdentity.chat_id).where(  # type: ignore[call-overload]
                    ChatIdentity.person_id.in_(set(recipients.values())),  # type: ignore[attr-defined]
                    ChatIdentity.platform.in_(list(self.queues)),  # type: ignore[attr-defined]
                )
            ).all()
            for person_id, platform, chat_id in rows:
                if chat_id:
                    targets[person_id].append((platform, chat_id))
            orphans = set(recipients.values()) - set(targets)
            if self.catch_all and orphans:
                for person_id, handle in connection.execute(
                    sa.select(Person.id, Person.handle).where(Person.id.in_(orphans))  # type: ignore[call-overload,union-attr]
                ):
                    targets[person_id].append((self.catch_all, handle))
        routed = [(step, targets.get(recipients[step.id], [])) for step in claimed]
        unreachable = [step for step, step_targets in routed if not step_targets]
        if unreachable:
            self._record_unreachable(unreachable, self.clock.now())
        return routed

    def _recipients(self, claimed: Sequence[ClaimedStep]) -> dict[int, int]:
        missing = {step.invoice_id for step in claimed if step.responsible_id is None}
        owners: dict[int, int] = {}
        if missing:
            with self.engine.connect() as connection:
                owners = dict(connection.execute(
                    sa.select(Invoice.id, Invoice.owner_id).where(Invoice.id.in_(missing))  # type: ignore[call-overload,union-attr]
                ).all())
        return {step.id: step.responsible_id or owners[step.invoice_id] for step in claimed}

    def _record_unreachable(self, steps: Sequence[ClaimedStep], now: datetime) -> None:
        """No chat linked on a running platform: the step counts as sent and is noted in the
        invoice's history, and /today still lists it."""
        due_table.mark_sent(self.engine, [step.id for step in steps], now)
        with Session(self.engine) as session:
            for step in steps:
                invoice = session.get(Invoice, step.invoice_id)
                if invoice is None:
                    continue
                session.add(Event(
                    team_id=invoice.team_id, invoice_id=invoice.id, kind="ping_unreachable",
                    summary="reminder not delivered: the responsible person has no linked chat", at=now,
                    details={"step_id": step.id},
                ))
            session.commit()

    async def _compose(self, step_ids: list[int], failures: int) -> Reply | None:
        return await asyncio.to_thread(self._compose_sync, step_ids, failures)

    def _compose_sync(self, step_ids: list[int], failures: int) -> Reply | None:
        deliverable = due_table.still_deliverable(self.engine, step_ids, self.instance)
        if not deliverable:
            return None
        with Session(self.engine, expire_on_commit=False) as session:
            reply = compose_ping(session, sorted(deliverable), self.clock.now(), failures, self.draft_for)
            session.commit()  # the drafts picked are recorded in the history
            return reply

    async def _confirm(self, step_ids: list[int]) -> None:
        await asyncio.to_thread(due_table.mark_sent, self.engine, step_ids, self.clock.now())
        log.debug("sent steps %s", step_ids)


