"""Digests on APScheduler 3: each person's /digest (daily or weekly, at a local time in their own
zone) and, for salespeople and collectors, the morning list of today's steps at the start of
their working day.

APScheduler fires recurring, calendar-shaped jobs (`CronTrigger` in the person's zone, so 08:30
stays 08:30 across a DST change); the exact-minute ladder steps stay on the due table, which
survives restarts and is claimed row by row. APScheduler 3 keeps its jobs in memory and does not
coordinate instances, so every run is claimed in the database first (`digest_run`, unique per
person, kind and period): with several instances each digest goes out once, and a digest missed
while no instance ran is sent once on start, marked late (a morning list is not: /today answers
once the day has begun).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.floor.clock import Clock
from bot.store.models import ChatIdentity, DigestRun, DigestSubscription, Person, Role
from bot.floor.reply import Reply
from scheduling.notifier import Notifier

log = logging.getLogger(__name__)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MORNING_ROLES = (Role.SALESPERSON, Role.COLLECTOR)

ComposeDigest = Callable[[Session, Person, str, datetime, datetime | None], Reply | None]
"""(session, person, kind, now, late_since) → the message; `late_since` is the missed time when
it goes out late. None: nothing to send."""


@dataclass(frozen=True)
class DigestPlan:
    """One recurring message for one person."""

    person_id: int
    kind: str
    """digest | morning"""
    weekdays: tuple[int, ...]
    """Monday = 0."""
    at: time
    timezone: str
    weekly: bool = False
    since: datetime | None = None
    """When it was asked for: nothing before counts as missed."""

    @property
    def job_id(self) -> str:
        return f"{self.kind}:{self.person_id}"

    def trigger(self) -> CronTrigger:
        return CronTrigger(day_of_week=",".join(WEEKDAYS[d] for d in self.weekdays), hour=self.at.hour,
                           minute=self.at.minute, timezone=ZoneInfo(self.timezone))

    def next_after(self, moment: datetime) -> datetime | None:
        return self.trigger().get_next_fire_time(None, moment + timedelta(microseconds=1))

    def last_due(self, now: datetime) -> datetime | None:
        """The latest scheduled time at or before `now` (within the last 8 days)."""
        trigger = self.trigger()
        moment = trigger.get_next_fire_time(None, now - timedelta(days=8))
        last = None
        while moment is not None and moment <= now:
            last = moment
            moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        return last

    def period(self, scheduled: datetime) -> str:
        local = scheduled.astimezone(ZoneInfo(self.timezone)).date()
        if self.weekly:
            year, week, _ = local.isocalendar()
            return f"{year}-W{week:02d}"
        return local.isoformat()


PLANNED_FROM = frozenset({"person", "digest_subscription"})
"""The tables `load_plans` reads: a command that wrote neither leaves every plan as it was."""


def load_plans(session: Session) -> list[DigestPlan]:
    plans = []
    for subscription, person in session.exec(
        select(DigestSubscription, Person).join(Person, col(Person.id) == DigestSubscription.person_id)
        .where(col(Person.active).is_(True))
    ):
        weekly = subscription.cadence == "weekly"
        plans.append(DigestPlan(person.id, "digest", (subscription.weekday,) if weekly else tuple(range(7)),  # type: ignore[arg-type]
                                subscription.at, person.timezone, weekly, subscription.created_at))
    for person in session.exec(select(Person).where(col(Person.active).is_(True), col(Person.role).in_(MORNING_ROLES))):
        if person.workday_numbers:
            plans.append(DigestPlan(person.id, "morning", tuple(sorted(person.workday_numbers)), person.work_start,  # type: ignore[arg-type]
                                    person.timezone, since=person.created_at))
    return plans


class Digests:
    def __init__(self, engine: Engine, clock: Clock, compose: ComposeDigest, instance: str) -> None:
        self.engine = engine
        self.clock = clock
        self.compose = compose
        self.instance = instance
        self.notifiers: dict[str, Notifier] = {}
        self.catch_all: str | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self._jobs: dict[str, DigestPlan] = {}

    def attach(self, notifier: Notifier, *, catch_all: bool = False) -> None:
        self.notifiers[notifier.platform] = notifier
        if catch_all:
            self.catch_all = notifier.platform

    async def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        self.scheduler.start()
        await asyncio.to_thread(self.refresh)
        await self.catch_up()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def refresh(self) -> None:
        """Bring the APScheduler jobs in line with the stored subscriptions and people (called
        after every committed command that wrote `PLANNED_FROM`; only what changed is rescheduled)."""
        if self.scheduler is None:
            return
        with Session(self.engine) as session:
            plans = {plan.job_id: plan for plan in load_plans(session)}
        for job_id in set(self._jobs) - set(plans):
            self.scheduler.remove_job(job_id)
            del self._jobs[job_id]
        for job_id, plan in plans.items():
            if self._jobs.get(job_id) == plan:
                continue
            self.scheduler.add_job(self.fire, plan.trigger(), args=[plan], id=job_id, replace_existing=True,
                                   misfire_grace_time=300, coalesce=True)
            self._jobs[job_id] = plan

    async def fire(self, plan: DigestPlan) -> bool:
        """APScheduler's job: send this period's message unless another instance already did."""
        now = self.clock.now()
        scheduled = plan.last_due(now + timedelta(seconds=1))
        if scheduled is None:
            return False
        return await self.deliver(plan, scheduled, late=False)

    async def catch_up(self) -> int:
        """On start: the latest digest that no instance sent, once, marked late (morning lists are
        not sent late)."""
        now = self.clock.now()
        with Session(self.engine) as session:
            plans = load_plans(session)
        sent = 0
        for plan in plans:
            if plan.kind == "morning":
                continue  # a list of today's steps sent after the day began is what /today is for
            scheduled = plan.last_due(now)
            if scheduled is None or (plan.since is not None and scheduled < plan.since):
                continue
            if await self.deliver(plan, scheduled, late=True):
                sent += 1
        return sent

    async def deliver(self, plan: DigestPlan, scheduled: datetime, *, late: bool) -> bool:
        claimed = await asyncio.to_thread(self._claim, plan, scheduled, late)
        if not claimed:
            return False
        try:
            message, targets = await asyncio.to_thread(self._compose, plan, scheduled if late else None)
            for platform, chat_id in targets:
                if message is not None:
                    await self.notifiers[platform].send(chat_id, message)
        except Exception:
            log.exception("the %s for person %s failed; it will be tried again on the next start", plan.kind, plan.person_id)
            await asyncio.to_thread(self._release, plan, scheduled)
            return False
        return True

    def _claim(self, plan: DigestPlan, scheduled: datetime, late: bool) -> bool:
        with Session(self.engine) as session:
            session.add(DigestRun(person_id=plan.person_id, kind=plan.kind, period=plan.period(scheduled),
                                  scheduled_for=scheduled, claimed_by=self.instance[:64], sent_at=self.clock.now(), late=late))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    def _release(self, plan: DigestPlan, scheduled: datetime) -> None:
        with Session(self.engine) as session:
            session.execute(sa.delete(DigestRun).where(
                col(DigestRun.person_id) == plan.person_id, col(DigestRun.kind) == plan.kind,
                col(DigestRun.period) == plan.period(scheduled)))
            session.commit()

    def _compose(self, plan: DigestPlan, late_since: datetime | None) -> tuple[Reply | None, list[tuple[str, str]]]:
        with Session(self.engine, expire_on_commit=False) as session:
            person = session.get(Person, plan.person_id)
            if person is None:
                return None, []
            targets = [(platform, chat_id) for platform, chat_id in session.execute(
                sa.select(ChatIdentity.platform, ChatIdentity.chat_id).where(  # type: ignore[call-overload]
                    ChatIdentity.person_id == person.id, col(ChatIdentity.platform).in_(list(self.notifiers))))
                if chat_id]
            if not targets and self.catch_all:
                targets = [(self.catch_all, person.handle)]
            if not targets:
                return None, []
            return self.compose(session, person, plan.kind, self.clock.now(), late_since), targets
