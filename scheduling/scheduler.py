"""The firing loop: one timer armed at the earliest pending step; due steps are claimed in a
transaction and handed to the platforms' send queues.

Nothing lost: steps that fell due while no instance was running are claimed on start and go out
marked late; steps left in `sending` by a crashed instance are taken over once its heartbeat has
run out and go out marked as a repeat. Nothing doubled: a step is claimed by one instance only, and
stays its own while the instance's heartbeat (one row, renewed every quarter lease by its own thread)
is alive, however long sending takes.
"""
from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import heapq
import logging
import os
import socket
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.floor.clock import Clock
from bot.floor.health import LoopHealth
from bot.store.database import refresh_query_statistics
from bot.store.models import ChatIdentity, Invoice, LadderStep, Person, PingMessage, StepState, Team
from bot.store.row_locks import lock_invoices
from bot.floor.reply import Reply
from scheduling import course, due_table
from scheduling.business_calendar import next_working_slot
from scheduling.due_table import ClaimedStep
from scheduling.event_texts import invoice_event
from scheduling.follow_ups import ANSWERED_BY_FOLLOW_UP, escalate, follow_up_unanswered
from scheduling.notifier import Notifier, PartsNotifier, RateLimits
from scheduling.ping_port import ComposePing, DraftFor
from scheduling.send_queue import RETRY_PAUSES, Outgoing, PreparedPing, SendQueue
from scheduling.step_machine import move
from scheduling.step_texts import name_of
from scheduling.supervision import Backoff, keep_running
from scheduling.working_hours import hours_of

log = logging.getLogger(__name__)
STATISTICS_EVERY = timedelta(hours=1)
"""How often SQLite's query statistics are sampled again (bot.store.database.refresh_query_statistics)."""
GIL_SWITCH_INTERVAL = 0.0005
"""Python lets a busy thread hold the GIL for 5 ms by default; composing messages in worker threads
would then delay the timer by up to that much. A shorter interval keeps firing within a millisecond."""


Routed = tuple[ClaimedStep, list[tuple[str, str]]]
Timed = tuple[float, int, ClaimedStep, list[tuple[str, str]]]
"""A routed step with its moment on the event loop's clock, and its id."""
CLOCK_RESOLUTION = time.get_clock_info("monotonic").resolution
"""asyncio runs a timer this close to its moment (its own rule), so its steps go with it."""
FOLLOW_UP_EVERY = timedelta(minutes=1)
CATCH_UP_AFTER = timedelta(minutes=15)
"""A step this late fell due while nobody could send it (downtime, an outage), not in a busy
moment: outside its person's working hours it waits for their next working slot."""
FIRING = "firing loop"
HOUSEKEEPING = "housekeeping"
HEARTBEAT = "heartbeat"
BEATS_PER_LEASE = 4
"""Each beat makes the heartbeat last a lease and comes a quarter lease after the last, so three
beats in a row may be late or fail before another instance takes this one's claims over."""


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
        compose: ComposePing,
        instance: str | None = None,
        lease: timedelta = timedelta(minutes=2),
        max_sleep: timedelta = timedelta(seconds=30),
        batch: int = 1000,
        lookahead: timedelta = timedelta(milliseconds=500),
        draft_for: DraftFor | None = None,
        round_the_clock: frozenset[str] = frozenset(),
        health: LoopHealth | None = None,
        backoff: Backoff | None = None,
        retry_pauses: tuple[float, ...] = RETRY_PAUSES,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.instance = instance or new_instance_id()
        self.lease = lease
        self.max_sleep = max_sleep
        self.batch = batch
        self.lookahead = lookahead
        self.compose = compose
        """Turns due steps into a ping (handlers.pings.compose_ping, handed over by the wiring)."""
        self.draft_for = draft_for
        self.round_the_clock = round_the_clock
        """Ladders that ignore working hours: their answer windows run round the clock."""
        self.health = health or LoopHealth()
        """Liveness of every background loop this scheduler runs (read by health checks)."""
        self.backoff = backoff or Backoff()
        self.retry_pauses = retry_pauses
        self.queues: dict[str, SendQueue] = {}
        self.catch_all: str | None = None
        self.stats = HandoffStats()
        self._unrouted: list[ClaimedStep] = []
        """Claimed by us but not yet handed to a queue (the database failed in between)."""
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timed: list[Timed] = []
        """Claimed steps waiting for their moment (a heap on the loop's clock), under one timer."""
        self._timer: asyncio.TimerHandle | None = None
        self._beating: ThreadPoolExecutor | None = None
        """The heartbeat's own thread, so a backlog of work in the shared pool never delays a beat."""

    def attach(self, notifier: Notifier, limits: RateLimits, *, catch_all: bool = False) -> SendQueue:
        """Send pings through `notifier`. A catch-all platform (the local console) also gets the
        pings of people with no chat on any running platform, addressed by their handle."""
        queue = SendQueue(notifier, limits, self, retry_pauses=self.retry_pauses, health=self.health)
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

    async def beat(self) -> None:
        """Tell the other instances this one is alive for another lease (one small UPDATE)."""
        if self._beating is None:
            self._beating = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collectbot-heartbeat")
        alive_until = self.clock.now() + self.lease
        await asyncio.get_running_loop().run_in_executor(
            self._beating, due_table.beat, self.engine, self.instance, alive_until)

    async def recover(self) -> int:
        """Take over steps stuck in `sending` whose claimer stopped beating (crashed)."""
        stale = await asyncio.to_thread(due_table.take_over_stale, self.engine, self.clock.now(), self.instance, self.lease)
        if stale:
            log.warning("taking over %d step(s) left unconfirmed by a stopped instance", len(stale))
            for step, targets in await asyncio.to_thread(self._route_claimed, stale):
                self._hand_off(step, targets)
        return len(stale)

    async def flush(self) -> None:
        for queue in self.queues.values():
            await queue.flush()

    async def stop(self, flush_for: float = 5.0) -> None:
        """A clean stop, once `run` has ended: send what may still go (for up to `flush_for`
        seconds), then release this instance's heartbeat and unconfirmed claims so another
        instance takes them over at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), timeout=flush_for)
        try:
            released = await asyncio.to_thread(due_table.release, self.engine, self.instance)
        except Exception as error:
            log.warning("could not release this instance's claims (%s: %s); they are taken over once its heartbeat "
                        "runs out", type(error).__name__, error)
            return
        if released:
            log.info("handed %d unconfirmed step(s) back for the other instances", released)

    async def run(self) -> None:
        """Fire steps at their minute until cancelled.

        Steps due within `lookahead` are claimed (and their chats looked up) ahead of time in a
        worker thread, then handed to the send queues at their exact moment by the event loop's
        timer, so database work never delays a hand-off. A failed pass (the database is down or
        locked) is logged, shows in `health`, and is tried again after a growing pause; the send
        queues and housekeeping run supervised beside it.
        """
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL))
        gc.freeze()  # everything built at start-up lives for good: keep it out of collection pauses
        tasks = [asyncio.create_task(keep_running(queue.name, queue.run, self.health)) for queue in self.queues.values()]
        tasks.append(asyncio.create_task(keep_running(HOUSEKEEPING, self._housekeeping, self.health)))
        tasks.append(asyncio.create_task(keep_running(HEARTBEAT, self._heartbeat, self.health)))
        self.health.started(FIRING)
        recovered = False
        try:
            while True:
                self._wake.clear()
                try:
                    if not recovered:
                        await self.beat()  # alive before claiming anything
                        await self.recover()
                        await asyncio.to_thread(refresh_query_statistics, self.engine)
                        recovered = True
                    horizon = self.clock.now() + self.lookahead
                    routed, next_due = await asyncio.to_thread(self._claim_and_time, horizon)
                except Exception as error:
                    pause = self.backoff.failed()
                    self.health.failed(FIRING, error)
                    log.error("firing pass failed (%s: %s); retrying in %.1f s", type(error).__name__, error, pause,
                              exc_info=log.isEnabledFor(logging.DEBUG))
                    await self._sleep(pause)
                    continue
                if self.backoff.failures:
                    log.warning("firing pass works again after %d failure(s)", self.backoff.failures)
                self.backoff.reset()
                self.health.beat(FIRING)
                self._time_hand_offs(routed)
                delay = self.max_sleep.total_seconds()
                if next_due is not None:
                    # Steps falling due back to back are claimed every half lookahead, each at least
                    # that long before its moment, rather than in a pass after every hand-off.
                    delay = min(delay, max(self.lookahead.total_seconds() / 2,
                                           (next_due - self.lookahead - self.clock.now()).total_seconds()))
                if delay > 0:
                    await self._sleep(delay)
        finally:
            self.health.stopped(FIRING)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._beating is not None:
                self._beating.shutdown(wait=False)
                self._beating = None

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def _heartbeat(self) -> None:
        """Beat every quarter lease; a failed beat is retried at the same pace (not backed off: a
        few missed beats in a row and the other instances take this one's claims over)."""
        interval = max(self.lease.total_seconds() / BEATS_PER_LEASE, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.beat()
            except Exception as error:
                self.health.failed(HEARTBEAT, error)
                log.warning("heartbeat failed (%s: %s); beating again in %.1f s", type(error).__name__, error, interval)
                continue
            self.health.beat(HEARTBEAT)

    async def _housekeeping(self) -> None:
        """Take over the claims of stopped instances every third of a lease; look for unanswered
        pings once a minute (answer windows are hours long; scanning them is not free); sample
        SQLite's query statistics again every hour."""
        interval = max(self.lease.total_seconds() / 3, 0.05)
        followed_up = analysed = self.clock.now()
        backoff = Backoff(first=min(interval, self.backoff.first), cap=self.backoff.cap)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.recover()
                if self.clock.now() - followed_up >= FOLLOW_UP_EVERY:
                    followed_up = self.clock.now()
                    if await self.follow_up():
                        self.poke()
                if self.clock.now() - analysed >= STATISTICS_EVERY:
                    analysed = self.clock.now()
                    await asyncio.to_thread(refresh_query_statistics, self.engine)
            except Exception as error:
                pause = backoff.failed()
                self.health.failed(HOUSEKEEPING, error)
                log.warning("scheduler housekeeping failed (%s: %s); retrying in %.1f s", type(error).__name__, error, pause)
                await asyncio.sleep(pause)
                continue
            backoff.reset()
            self.health.beat(HOUSEKEEPING)

    async def follow_up(self) -> int:
        """Repeat unanswered pings once, then escalate them to a manager (see follow_ups)."""
        return await asyncio.to_thread(follow_up_unanswered, self.engine, self.clock.now(), self.round_the_clock)

    def _claim_and_time(self, horizon: datetime) -> tuple[list[Timed], datetime | None]:
        """`_claim_and_route`, each step with the event-loop time of its moment, in due order
        (worker thread work, so that the event loop only files them)."""
        routed, next_due = self._claim_and_route(horizon)
        assert self._loop is not None
        loop_now, now = self._loop.time(), self.clock.now()
        timed = [(loop_now + (step.due_at - now).total_seconds(), step.id, step, targets) for step, targets in routed]
        timed.sort(key=lambda entry: entry[:2])
        return timed, next_due

    def _time_hand_offs(self, timed: list[Timed]) -> None:
        """Hand off what is due now; file the rest for one timer, armed at the earliest. (A timer per
        step put every step through asyncio's own timer heap, compared in Python, on the loop that
        hands the others off at their moment; the filing itself is one C-level heapify, not a push
        per step, so a pass of thousands of steps does not hold up the steps falling due.)"""
        assert self._loop is not None
        first_later = bisect.bisect_right(timed, self._loop.time(), key=lambda entry: entry[0])
        for _, _, step, targets in timed[:first_later]:
            self._hand_off(step, targets)
        if first_later == len(timed):
            return
        self._timed.extend(timed[first_later:])
        heapq.heapify(self._timed)
        self._arm()

    def _arm(self) -> None:
        assert self._loop is not None
        if not self._timed:
            return
        when = self._timed[0][0]
        if self._timer is not None:
            if self._timer.when() <= when:
                return
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._hand_off_due)

    def _hand_off_due(self) -> None:
        """The timer: hand off every filed step whose moment has come, then re-arm."""
        assert self._loop is not None
        self._timer = None
        timed, clock = self._timed, self._loop.time
        try:
            while timed and timed[0][0] < clock() + CLOCK_RESOLUTION:
                _, _, step, targets = heapq.heappop(timed)
                self._hand_off(step, targets)
        finally:  # a failed hand-off (the loop logs it) does not hold up the others
            self._arm()

    def _claim_and_route(self, horizon: datetime) -> tuple[list[Routed], datetime | None]:
        """Claim every pending step due by `horizon` and find where each goes; also the next due
        time. Steps claimed before a failure are kept and routed on the next pass."""
        claimed, self._unrouted = self._unrouted, []
        try:
            while True:
                batch = due_table.claim_due(self.engine, horizon, self.instance, self.batch)
                claimed.extend(batch)
                if len(batch) < self.batch:
                    break
            routed = self._route_claimed(claimed)
            with self.engine.connect() as connection:
                return routed, due_table.earliest_pending(connection)
        except BaseException:
            self._unrouted = claimed
            raise

    def _route_claimed(self, claimed: Sequence[ClaimedStep]) -> list[Routed]:
        return self._route(self._defer_late_steps_to_working_hours(claimed))

    def _defer_late_steps_to_working_hours(self, claimed: Sequence[ClaimedStep]) -> list[ClaimedStep]:
        """Catch-up after downtime: a step that fell due while nobody could send it goes out at its
        person's next working slot, not in the middle of their night (unless its ladder ignores
        working hours); it is handed back as pending, due then."""
        now = self.clock.now()
        late = [step for step in claimed if step.due_at < now - CATCH_UP_AFTER]
        if not late:
            return list(claimed)
        deferred: dict[int, datetime] = {}
        with Session(self.engine) as session:
            invoices = {invoice.id: invoice for invoice in session.exec(
                select(Invoice).where(col(Invoice.id).in_({step.invoice_id for step in late})))}
            people_ids = {step.responsible_id or invoices[step.invoice_id].owner_id for step in late if step.invoice_id in invoices}
            people = {person.id: person for person in session.exec(select(Person).where(col(Person.id).in_(people_ids)))}
            teams = {team.id: team for team in session.exec(
                select(Team).where(col(Team.id).in_({invoice.team_id for invoice in invoices.values()})))}
            slots: dict[int, datetime] = {}
            for step in late:
                invoice = invoices.get(step.invoice_id)
                if invoice is None or invoice.ladder in self.round_the_clock:
                    continue
                person = people.get(step.responsible_id or invoice.owner_id)
                if person is None or person.id is None:
                    continue
                if person.id not in slots:
                    slots[person.id] = next_working_slot(now, hours_of(person, teams.get(invoice.team_id)))
                if slots[person.id] > now:
                    deferred[step.id] = slots[person.id]
        if deferred:
            due_table.hand_back(self.engine, self.instance, deferred)
            log.info("%d late step(s) wait for their people's working hours", len(deferred))
        return [step for step in claimed if step.id not in deferred]

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
        with Session(self.engine) as session:
            due_table.mark_sent_in(session.connection(), [step.id for step in steps], now, self.instance)
            for step in steps:
                invoice = session.get(Invoice, step.invoice_id)
                if invoice is None:
                    continue
                session.add(invoice_event(invoice, "ping_unreachable", now, step_id=step.id))
            session.commit()

    # -- the ping book: what the send queues ask of the scheduler -------------------------------
    async def prepare(self, notifier: PartsNotifier, chat_id: str, step_ids: list[int],
                      failures: int) -> tuple[PreparedPing | None, list[int]]:
        """The ping for these steps as rendered before (stored after a crash), or rendered now."""
        found = await asyncio.to_thread(self._find_or_compose, notifier.platform, chat_id, step_ids, failures)
        if isinstance(found, PreparedPing):
            return found, sorted(set(step_ids) - set(found.step_ids))
        if found is None:
            return None, []
        deliverable, reply = found
        parts = await notifier.render(chat_id, reply)
        ping = PreparedPing(step_ids=list(reply.step_ids) or deliverable, parts=parts)
        ping.stored_id = await asyncio.to_thread(self._store, notifier.platform, chat_id, ping)  # rendered once
        return ping, []

    def _find_or_compose(self, platform: str, chat_id: str, step_ids: list[int],
                         failures: int) -> PreparedPing | tuple[list[int], Reply] | None:
        """The stored ping of these steps, or else the steps still to deliver and their ping
        composed now (one trip to a worker thread), or None when nothing is left to send."""
        found = self._find_prepared(platform, chat_id, step_ids)
        if isinstance(found, PreparedPing):
            return found
        if not found:
            return None
        reply = self._compose_sync(found, failures)
        return (found, reply) if reply is not None else None

    def _find_prepared(self, platform: str, chat_id: str, step_ids: list[int]) -> PreparedPing | list[int]:
        """A stored ping of these steps still to finish, or else the steps still to deliver."""
        deliverable = sorted(self._still_deliverable(step_ids))
        with Session(self.engine) as session:
            stored = session.exec(select(PingMessage).where(
                PingMessage.platform == platform, PingMessage.chat_id == chat_id, col(PingMessage.finished_at).is_(None),
            ).order_by(col(PingMessage.id))).all()
            found: PreparedPing | None = None
            for row in stored:
                steps = set(row.step_ids)
                if not steps & set(step_ids):
                    continue
                if found is None and steps <= set(deliverable):
                    assert row.id is not None
                    found = PreparedPing(step_ids=sorted(steps), parts=row.parts, sent=row.parts_sent,
                                         repeat=row.composed_by != self.instance, stored_id=row.id)
                elif not steps <= set(deliverable):
                    row.finished_at, row.outcome = self.clock.now(), "superseded"
                    session.add(row)
            session.commit()
        return found if found is not None else deliverable

    def _still_deliverable(self, step_ids: list[int]) -> set[int]:
        """The re-check just before sending (see due_table.still_deliverable); a ladder step that a
        promise recorded meanwhile has put on hold goes back to wait behind the promise."""
        deliverable = due_table.still_deliverable(self.engine, step_ids, self.instance)
        if not deliverable:
            return deliverable
        with Session(self.engine) as session:
            released = course.held_by_promise(session, deliverable, self.clock.now())
            session.commit()
        return deliverable - released

    async def still_open(self, ping: PreparedPing) -> bool:
        return await asyncio.to_thread(self._still_open_sync, ping)

    def _still_open_sync(self, ping: PreparedPing) -> bool:
        if self._still_deliverable(ping.step_ids) == set(ping.step_ids):
            return True
        if ping.stored_id is not None:
            with self.engine.begin() as connection:
                connection.execute(sa.update(PingMessage.__table__).where(  # type: ignore[attr-defined]
                    sa.column("id") == ping.stored_id).values(finished_at=self.clock.now(), outcome="superseded"))
        return False

    def _store(self, platform: str, chat_id: str, ping: PreparedPing) -> int:
        with Session(self.engine) as session:
            row = PingMessage(platform=platform, chat_id=chat_id, step_ids=ping.step_ids, parts=ping.parts,
                              composed_by=self.instance[:64], composed_at=self.clock.now())
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    async def progress(self, notifier: PartsNotifier, ping: PreparedPing) -> None:
        await asyncio.to_thread(self._progress_sync, ping)

    def _progress_sync(self, ping: PreparedPing) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.update(PingMessage.__table__).where(  # type: ignore[attr-defined]
                sa.column("id") == ping.stored_id).values(parts_sent=ping.sent))

    async def delivered(self, notifier: PartsNotifier, ping: PreparedPing) -> None:
        await asyncio.to_thread(self._finish, ping, "delivered")
        log.debug("sent steps %s", ping.step_ids)

    def _finish(self, ping: PreparedPing, outcome: str) -> None:
        now = self.clock.now()
        with self.engine.begin() as connection:
            due_table.mark_sent_in(connection, ping.step_ids, now, self.instance)
            if ping.stored_id is not None:
                connection.execute(sa.update(PingMessage.__table__).where(  # type: ignore[attr-defined]
                    sa.column("id") == ping.stored_id).values(parts_sent=ping.sent, finished_at=now, outcome=outcome))

    async def undeliverable(self, notifier: PartsNotifier, chat_id: str, ping: PreparedPing, reason: str) -> None:
        await asyncio.to_thread(self._undeliverable_sync, notifier.platform, ping, reason)

    def _undeliverable_sync(self, platform: str, ping: PreparedPing, reason: str) -> None:
        """The platform refuses the ping for good (the person blocked the bot): no more retries; the
        history says so, and the step is escalated to the person's manager at once (a reminder to
        someone we cannot reach would not arrive either), so somebody is told."""
        now = self.clock.now()
        with Session(self.engine) as session:
            lock_invoices(session.connection(), sa.select(due_table.STEPS.c.invoice_id).where(due_table.STEPS.c.id.in_(ping.step_ids)))
            steps = session.exec(select(LadderStep).where(
                col(LadderStep.id).in_(ping.step_ids), LadderStep.state == StepState.SENDING)).all()
            for step in steps:
                invoice = session.get(Invoice, step.invoice_id)
                assert invoice is not None
                person = session.get(Person, step.responsible_id or invoice.owner_id)
                assert person is not None
                session.add(invoice_event(invoice, "ping_undeliverable", now, step_id=step.id, name=name_of(step),
                                          person=person.handle, platform=platform, reason=reason))
                move(session, step, StepState.UNDELIVERABLE, now, outcome="undeliverable")
                if step.kind not in ANSWERED_BY_FOLLOW_UP and step.nudges < 2:
                    step.nudges = 2
                    escalate(session, invoice, step, person, now)
                session.add(step)
            if ping.stored_id is not None:
                row = session.get(PingMessage, ping.stored_id)
                if row is not None:
                    row.finished_at, row.outcome, row.parts_sent = now, "undeliverable", ping.sent
                    session.add(row)
            session.commit()
        self.poke()

    def _compose_sync(self, step_ids: list[int], failures: int) -> Reply | None:
        with Session(self.engine, expire_on_commit=False) as session:
            reply = self.compose(session, sorted(step_ids), self.clock.now(), failures, self.draft_for)
            session.commit()  # the drafts picked are recorded in the history
            return reply
