"""Digests: /digest daily or weekly at a local time in each person's zone (across DST changes),
the morning list at the start of the working day, a missed digest sent once on start marked late,
and never twice with two instances."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.store.database import create_database_engine
from bot.store.models import DigestRun, Person
from handlers.core import Core
from handlers.digest_content import compose_digest
from handlers.written_tables import WhenWritten
from scheduling.digests import PLANNED_FROM, Digests, DigestPlan, load_plans
from tests.support import ChatDriver, RecordingNotifier

OSLO = ZoneInfo("Europe/Oslo")
NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc


def digests_for(core: Core, notifier: RecordingNotifier, engine: Engine | None = None, instance: str = "one") -> Digests:
    digests = Digests(engine or core.services.engine, core.services.clock, compose_digest(core.services), instance)
    digests.attach(notifier, catch_all=True)
    return digests


def plan_of(core: Core, handle: str, kind: str = "digest") -> DigestPlan:
    with Session(core.services.engine) as session:
        person = session.exec(select(Person).where(Person.handle == handle)).one()
        return next(p for p in load_plans(session) if p.person_id == person.id and p.kind == kind)


def test_digest_command_sets_shows_and_stops_the_digest(team: ChatDriver) -> None:
    reply = team.say("alice", "/digest daily 08:30")
    assert "every day at 08:30 (Europe/Oslo); next: Wed 25 Nov 2026, 08:30" in reply
    assert "every Mon at 08:30" in team.say("alice", "/digest weekly monday 08:30")
    assert "next: Mon 30 Nov 2026, 08:30" in team.say("alice", "/digest")
    assert "needs a day" in team.say("alice", "/digest weekly 08:30")
    assert "HH:MM" in team.say("alice", "/digest daily 25:00")
    assert "daily, weekly or off" in team.say("alice", "/digest hourly")
    assert "Digest off" in team.say("alice", "/digest off")
    assert "No digest" in team.say("alice", "/digest")


def test_digest_time_is_local_to_each_person_in_two_zones(team: ChatDriver, core: Core) -> None:
    team.say("alice", "/digest daily 08:30")
    team.say("dave", "/digest daily 08:30")  # New York
    now = datetime(2026, 11, 24, 9, 0, tzinfo=OSLO)  # 08:00 UTC
    assert plan_of(core, "alice").next_after(now) == datetime(2026, 11, 25, 7, 30, tzinfo=UTC)
    assert plan_of(core, "dave").next_after(now) == datetime(2026, 11, 24, 13, 30, tzinfo=UTC)


def test_digest_stays_at_0830_local_across_the_dst_changes(team: ChatDriver, core: Core) -> None:
    team.say("alice", "/digest daily 08:30")
    team.say("dave", "/digest weekly sun 08:30")
    oslo, new_york = plan_of(core, "alice"), plan_of(core, "dave")
    # Oslo leaves summer time on Sunday 25 October 2026
    assert oslo.next_after(datetime(2026, 10, 24, 0, 0, tzinfo=UTC)) == datetime(2026, 10, 24, 6, 30, tzinfo=UTC)
    assert oslo.next_after(datetime(2026, 10, 24, 6, 30, tzinfo=UTC)) == datetime(2026, 10, 25, 7, 30, tzinfo=UTC)
    # New York leaves daylight time on Sunday 1 November 2026; a weekly digest on Sundays
    assert new_york.next_after(datetime(2026, 10, 20, tzinfo=UTC)) == datetime(2026, 10, 25, 12, 30, tzinfo=UTC)
    assert new_york.next_after(datetime(2026, 10, 26, tzinfo=UTC)) == datetime(2026, 11, 1, 13, 30, tzinfo=UTC)
    assert oslo.period(datetime(2026, 10, 25, 7, 30, tzinfo=UTC)) == "2026-10-25"
    assert new_york.period(datetime(2026, 11, 1, 13, 30, tzinfo=UTC)) == "2026-W44"


async def test_a_digest_goes_out_at_its_time_once(team: ChatDriver, core: Core, clock: MovableClock) -> None:
    team.say("bob", "/add B-1 1000 EUR 2026-11-20 Acme")
    team.say("alice", "/digest daily 08:30")
    notifier = RecordingNotifier()
    digests = digests_for(core, notifier)
    clock.set(datetime(2026, 11, 25, 8, 30, tzinfo=OSLO))
    assert await digests.fire(plan_of(core, "alice"))
    assert not await digests.fire(plan_of(core, "alice")), "the same period is never sent twice"
    [(chat, reply)] = [(c, r) for c, r in notifier.sent if c == "alice"]
    assert reply.title == "Digest · Overdue for the team: 1 invoice"
    assert "Late" not in notifier.texts("alice")[0]


async def test_a_digest_missed_while_down_is_sent_once_on_start_marked_late(team: ChatDriver, core: Core,
                                                                          clock: MovableClock) -> None:
    team.say("bob", "/add B-1 1000 EUR 2026-11-20 Acme")
    team.say("alice", "/digest daily 08:30")
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=OSLO))  # down on the 25th and the 26th at 08:30
    notifier = RecordingNotifier()
    digests = digests_for(core, notifier)
    assert await digests.catch_up() == 1
    assert notifier.texts("bob") == [], "a morning list is not sent late"
    alice = notifier.texts("alice")
    assert len(alice) == 1
    assert "Late: this was due Thu 26 Nov 2026, 08:30, while I was not running." in alice[0]
    assert await digests_for(core, notifier, instance="two").catch_up() == 0
    assert len(notifier.texts("alice")) == 1


async def test_the_morning_list_comes_at_the_start_of_the_working_day(team: ChatDriver, core: Core,
                                                                     clock: MovableClock) -> None:
    team.say("bob", "/add B-1 1000 EUR 2026-11-27 Acme")  # the friendly call: 3 business days before, 10:00
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=OSLO))
    morning = plan_of(core, "bob", "morning")
    assert morning.next_after(datetime(2026, 11, 23, 17, 0, tzinfo=OSLO)) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert morning.next_after(datetime(2026, 11, 27, 10, 0, tzinfo=OSLO)) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC), \
        "not at weekends"
    notifier = RecordingNotifier()
    assert await digests_for(core, notifier).fire(morning)
    [text] = notifier.texts("bob")
    assert text.startswith("Good morning — Your ladder steps today (1)") and "B-1" in text and "10:00" in text
    with Session(core.services.engine) as session:
        assert not any(p.kind == "morning" for p in load_plans(session) if p.person_id == 1), "managers get no morning list"


async def test_two_instances_send_each_digest_once(team: ChatDriver, core: Core, clock: MovableClock,
                                                   database_url: tuple[str, str | None]) -> None:
    for handle in ("alice", "bob", "carol", "dave"):
        team.say(handle, "/digest daily 07:00")
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=OSLO))
    url, schema = database_url
    first, second = RecordingNotifier(), RecordingNotifier()
    other_engine = create_database_engine(url, schema=schema)
    try:
        one = digests_for(core, first, instance="one")
        two = digests_for(core, second, engine=other_engine, instance="two")
        sent = await asyncio.gather(one.catch_up(), two.catch_up(), one.catch_up(), two.catch_up())
    finally:
        other_engine.dispose()
    digests = [chat for chat, reply in first.sent + second.sent if reply.title and reply.title.startswith("Digest")]
    assert sorted(digests) == ["alice", "bob", "carol", "dave"]
    assert sum(sent) == len(first.sent) + len(second.sent)
    with Session(core.services.engine) as session:
        assert session.exec(select(func.count()).select_from(DigestRun).where(DigestRun.kind == "digest")).one() == 4


async def test_apscheduler_holds_one_cron_job_per_plan_in_the_persons_zone(team: ChatDriver, core: Core) -> None:
    team.say("dave", "/digest weekly fri 16:45")
    digests = digests_for(core, RecordingNotifier())
    await digests.start()
    try:
        assert digests.scheduler is not None
        job = digests.scheduler.get_job(plan_of(core, "dave").job_id)
        assert job is not None and str(job.trigger.timezone) == "America/New_York"
        assert "day_of_week='fri', hour='16', minute='45'" in str(job.trigger)
        team.say("dave", "/digest off")
        digests.refresh()
        assert digests.scheduler.get_job(plan_of(core, "dave", "morning").job_id) is not None
        assert digests.scheduler.get_job(f"digest:{plan_of(core, 'dave', 'morning').person_id}") is None
    finally:
        digests.stop()


def test_the_digest_plans_are_read_again_after_a_command_that_changed_people_or_digests_not_after_every_command(
        team: ChatDriver) -> None:
    rereads: list[int] = []
    team.core.services.after_writing.append(WhenWritten(PLANNED_FROM, lambda: rereads.append(1)))
    for text in ("/add B-1 1000 EUR 2026-12-20 Acme", "/list", "/show B-1", "/paid B-1"):
        assert "went wrong" not in team.say("bob", text)
    assert rereads == [], "invoices, payments and lists leave every digest plan as it was"
    assert "every day at 08:30" in team.say("bob", "/digest daily 08:30")
    assert len(rereads) == 1
    assert "joined the team" in team.say("alice", "/team add @erin salesperson")
    assert len(rereads) == 2
    team.say("bob", "/digest off")
    assert len(rereads) == 3
