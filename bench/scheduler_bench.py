"""Scheduler benchmarks (issue 3). Prints the figures the README quotes.

    .venv/bin/python -m bench.scheduler_bench all          # or: firing | startup | cancel | burst | failover [--keep]

firing   100,000 steps due within 30 s on SQLite, the window opening only after the due times are
         written: hand-off lateness p50/p99/max, missed steps, µs per added step, memory growth
startup  process start to ready and resident memory, with 0 and with 1,000,000 pending steps on SQLite
cancel   a paid invoice's 10 pending steps cancelled among 1,000,000 as /paid in full does (course.close_course)
burst    2,000 steps for 200 people due at one instant under Telegram's limits: the time to send them
         all against the least time the limits allow for the messages sent (~10 s)
failover two instances on PostgreSQL, 20,000 steps, one killed with SIGKILL halfway and restarted; waits
         until every step reached the platform, then: duplicates, lost (marked sent but never delivered),
         repeats, steps per second, lateness from due time to delivery. The schema is kept when anything
         is wrong (or with --keep), so the rows can be inspected.
"""
from __future__ import annotations

import asyncio
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from bench.verdict import verdict
from bot.floor.clock import SystemClock
from bot.store.database import create_database_engine, upgrade_schema
from bot.store.models import ChatIdentity, Customer, Invoice, Person, Team
from bot.floor.reply import Reply
from handlers.pings import compose_ping
from scheduling import course, due_table
from scheduling.notifier import RateLimits
from bot.platforms.telegram.limits import TELEGRAM_LIMITS
from scheduling.scheduler import Scheduler

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=timezone.utc)


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def seed_people_and_invoices(engine: Engine, people: int, invoices: int) -> tuple[list[int], list[int]]:
    """A team with `people` members (each with a chat) and `invoices` invoices, by bulk insert."""
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        team_id = connection.execute(sa.insert(Team.__table__).returning(Team.__table__.c.id), dict(  # type: ignore[attr-defined]
            name="bench", default_currency="EUR", default_timezone="Europe/Oslo", default_country="NO",
            default_language="en", default_ladder="standard", created_at=now)).scalar_one()
        connection.execute(sa.insert(Person.__table__), [dict(  # type: ignore[attr-defined]
            team_id=team_id, handle=f"p{i}", display_name=f"p{i}", role="collector", is_admin=False,
            timezone="Europe/Oslo", language="en", work_start=datetime(2000, 1, 1, 9).time(),
            work_end=datetime(2000, 1, 1, 17).time(), workdays="0,1,2,3,4", active=True, created_at=now)
            for i in range(people)])
        person_ids = list(connection.execute(sa.select(Person.__table__.c.id).order_by("id")).scalars())  # type: ignore[attr-defined]
        connection.execute(sa.insert(ChatIdentity.__table__), [dict(  # type: ignore[attr-defined]
            person_id=pid, platform="bench", external_id=str(pid), chat_id=str(pid), created_at=now) for pid in person_ids])
        connection.execute(sa.insert(Customer.__table__), [dict(  # type: ignore[attr-defined]
            team_id=team_id, name=f"Customer {i}", name_key=f"customer {i}", country="NO", created_at=now)
            for i in range(invoices)])
        customer_ids = list(connection.execute(sa.select(Customer.__table__.c.id).order_by("id")).scalars())  # type: ignore[attr-defined]
        connection.execute(sa.insert(Invoice.__table__), [dict(  # type: ignore[attr-defined]
            team_id=team_id, number=f"INV-{i}", customer_id=customer_ids[i], amount=100, balance=100, currency="EUR",
            due_date=now.date(), owner_id=person_ids[i % people], collector_id=None, ladder="standard", status="open",
            created_at=now) for i in range(invoices)])
        invoice_ids = list(connection.execute(sa.select(Invoice.__table__.c.id).order_by("id")).scalars())  # type: ignore[attr-defined]
    return person_ids, invoice_ids


def step_rows(invoice_ids: Sequence[int], person_ids: Sequence[int], per_invoice: int, due: list[datetime]) -> list[dict[str, object]]:
    rows = []
    for n, invoice_id in enumerate(invoice_ids):
        for position in range(1, per_invoice + 1):
            rows.append(dict(
                invoice_id=invoice_id, position=position, name=f"step-{position}", action="call",
                responsible_role="owner", responsible_id=person_ids[n % len(person_ids)], stage="due_today",
                tone="neutral", instruction="Call the customer", ack_within_seconds=14400,
                due_at=due[len(rows)], state="pending", attempts=0,
            ))
    return rows


def insert_timed(engine: Engine, rows: list[dict[str, object]], chunk: int = 20_000) -> float:
    """Seconds spent inserting `rows` (committed in chunks)."""
    started = time.perf_counter()
    for offset in range(0, len(rows), chunk):
        with engine.begin() as connection:
            due_table.insert_steps(connection, rows[offset:offset + chunk])
    return time.perf_counter() - started


class NullPlatform:
    """A platform that accepts every message at once."""

    platform = "bench"

    def __init__(self) -> None:
        self.messages = 0
        self.steps = 0

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.messages += 1
        self.steps += len(reply.step_ids)


async def run_until_handed_off(scheduler: Scheduler, total: int, timeout: float) -> tuple[float, float]:
    """Run the scheduler until `total` steps are handed off; the CPU seconds it took in all and on
    the event loop's thread (the bench's NullPlatform costs next to nothing)."""
    cpu, loop_cpu = time.process_time(), time.thread_time()
    task = asyncio.create_task(scheduler.run())
    deadline = time.monotonic() + timeout
    while scheduler.stats.handed_off < total and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return time.process_time() - cpu, time.thread_time() - loop_cpu


def spread_due_times(engine: Engine, ids: list[int], window: float, margin: float) -> datetime:
    """Give the steps due times spread uniformly over `window` seconds from a start `margin`
    seconds away; returns the start. Writing 100,000 due times takes a while (longer on a busy
    machine), so the caller checks the start is still ahead once the write is done."""
    start = datetime.now(timezone.utc) + timedelta(seconds=margin)
    random.seed(7)
    with engine.begin() as connection:
        connection.execute(
            sa.update(due_table.STEPS).where(due_table.STEPS.c.id == sa.bindparam("step")).values(due_at=sa.bindparam("due")),
            [{"step": step, "due": start + timedelta(seconds=random.uniform(0, window))} for step in ids],
        )
    return start


def bench_firing(steps: int = 100_000, window: float = 30.0) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_database_engine(f"sqlite:///{folder}/firing.db")
        upgrade_schema(engine)
        people, invoices = seed_people_and_invoices(engine, people=500, invoices=steps // 10)
        rows = step_rows(invoices, people, 10, [FAR_FUTURE] * steps)
        memory_before = rss_mb()
        seconds = insert_timed(engine, rows)
        del rows
        with engine.connect() as connection:
            ids = list(connection.execute(sa.select(due_table.STEPS.c.id)).scalars())
        margin = 2.0
        while True:  # the window must open after the due times are written and the scheduler runs
            writing = time.perf_counter()
            start = spread_due_times(engine, ids, window, margin)
            spent = time.perf_counter() - writing
            ahead = (start - datetime.now(timezone.utc)).total_seconds()
            if ahead >= 1.0:
                break
            print(f"  (writing the due times took {spent:.1f} s and the window would have opened {-ahead:.1f} s ago: again)")
            margin = spent * 2 + 2.0
        platform = NullPlatform()
        scheduler = Scheduler(engine, SystemClock(), compose=compose_ping, max_sleep=timedelta(seconds=1))
        scheduler.attach(platform, TELEGRAM_LIMITS)
        cpu, loop_cpu = asyncio.run(run_until_handed_off(scheduler, steps, timeout=window + ahead + 30))
        memory_after = rss_mb()
        lateness_ms = [delta.total_seconds() * 1000 for delta in scheduler.stats.lateness]
        missed = steps - scheduler.stats.handed_off
        print(f"firing: {steps:,} steps due within {window:.0f} s on SQLite, the window opening {ahead:.1f} s after the "
              f"due times were written (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
        print(f"  adding steps: {seconds * 1e6 / steps:.1f} µs per step ({steps:,} in {seconds:.2f} s)")
        print(f"  handed off: {scheduler.stats.handed_off:,}, missed {missed:,}; lateness p50 {percentile(lateness_ms, .5):.2f} ms, "
              f"p99 {percentile(lateness_ms, .99):.2f} ms, max {max(lateness_ms):.2f} ms")
        print(f"  CPU while firing: {cpu * 1e6 / steps:.0f} µs per step, {loop_cpu * 1e6 / steps:.0f} µs of it on the event loop's "
              f"thread ({cpu:.1f} s and {loop_cpu:.1f} s)")
        print(f"  messages sent meanwhile (Telegram limits, merged per person): {platform.messages:,} carrying {platform.steps:,} steps")
        print(f"  memory growth: {memory_after - memory_before:.1f} MB (RSS {memory_before:.0f} → {memory_after:.0f} MB)")
        p99, worst = percentile(lateness_ms, .99), max(lateness_ms)
        verdict("firing: lateness p99 ≤ 3 ms, max ≤ 30 ms, 0 missed", f"p99 {p99:.2f} ms, max {worst:.2f} ms, {missed:,} missed",
                p99 <= 3 and worst <= 30 and missed == 0)
        engine.dispose()


class TimedPlatform(NullPlatform):
    """NullPlatform noting when each message went out and to whom."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[float, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        await super().send(chat_id, reply)
        self.sent.append((time.perf_counter(), chat_id))


def minimum_seconds(sent: Sequence[tuple[float, str]], limits: RateLimits) -> float:
    """The least time the rate limits allow for these messages: the overall rate, or the busiest
    chat's messages one interval apart, whichever is longer."""
    per_chat: dict[str, int] = {}
    for _, chat in sent:
        per_chat[chat] = per_chat.get(chat, 0) + 1
    return max(len(sent) / limits.per_second, (max(per_chat.values(), default=1) - 1) * limits.per_chat_interval)


def bench_burst(people: int = 200, per_person: int = 10) -> None:
    """2,000 steps for 200 people due at one instant, sent under Telegram's limits: the time to send
    them all against the least time the limits allow for the messages sent (steps to one person
    merge, up to 10 a message)."""
    steps = people * per_person
    with tempfile.TemporaryDirectory() as folder:
        engine = create_database_engine(f"sqlite:///{folder}/burst.db")
        upgrade_schema(engine)
        person_ids, invoices = seed_people_and_invoices(engine, people=people, invoices=people)
        start = datetime.now(timezone.utc) + timedelta(seconds=3)
        insert_timed(engine, step_rows(invoices, person_ids, per_person, [start] * steps))
        platform = TimedPlatform()
        scheduler = Scheduler(engine, SystemClock(), max_sleep=timedelta(seconds=1), compose=compose_ping)
        scheduler.attach(platform, TELEGRAM_LIMITS)

        async def until_sent() -> None:
            task = asyncio.create_task(scheduler.run())
            deadline = time.monotonic() + 600
            while platform.steps < steps and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        asyncio.run(until_sent())
        due = time.perf_counter() - (datetime.now(timezone.utc) - start).total_seconds()
        took = (platform.sent[-1][0] - due) if platform.sent else float("nan")
        least = minimum_seconds(platform.sent, TELEGRAM_LIMITS)
        print(f"burst: {steps:,} steps for {people} people due at one instant, Telegram limits "
              f"({TELEGRAM_LIMITS.per_second:.0f} messages/s, one per chat per {TELEGRAM_LIMITS.per_chat_interval:.0f} s), SQLite")
        print(f"  {platform.steps:,} steps in {platform.messages:,} messages, the last {took:.1f} s after they fell due; "
              f"the limits allow {least:.1f} s for those messages: {took / least:.2f} × the minimum")
        verdict("burst: every step sent, within 1.1 × the least time the rate limits allow",
                f"{platform.steps:,} of {steps:,} in {took:.1f} s = {took / least:.2f} × {least:.1f} s",
                platform.steps == steps and took <= 1.1 * least)
        engine.dispose()


def seed_million(path: str, steps: int = 1_000_000) -> tuple[Engine, list[int]]:
    engine = create_database_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    people, invoices = seed_people_and_invoices(engine, people=1000, invoices=steps // 10)
    base = datetime.now(timezone.utc) + timedelta(days=1)
    for offset in range(0, len(invoices), 10_000):
        chunk = invoices[offset:offset + 10_000]
        due = [base + timedelta(seconds=offset * 10 + i) for i in range(len(chunk) * 10)]
        insert_timed(engine, step_rows(chunk, people, 10, due))
    return engine, invoices


STARTUP_PROBE = """
import sys
from bot.floor.config import Settings
from bot.app.runtime import Runtime
runtime = Runtime.build(Settings(_env_file=None, database_url=sys.argv[1]))
routed, next_due = runtime.scheduler._claim_and_route(runtime.scheduler.clock.now())
print("ready", next_due, flush=True)
print(open("/proc/self/status").read().split("VmRSS:")[1].split()[0], flush=True)
"""


def probe_startup(url: str, cache: str) -> tuple[float, float, float]:
    """Seconds from launching a Python process to the scheduler's first claim done (imports,
    settings, schema check, ladders, phrasebook, core and scheduler built), the CPU seconds it used
    (what the wall time would be on an idle core), and its RSS in MB."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    probe = subprocess.run([sys.executable, "-c", STARTUP_PROBE, url], capture_output=True, text=True, check=True,
                           env={**os.environ, "COLLECTBOT_CACHE_DIR": cache})
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return elapsed, cpu, int(probe.stdout.split()[-1]) / 1024


def report_startup(label: str, url: str, cache: str) -> tuple[float, float]:
    cold, cold_cpu, cold_rss = probe_startup(url, f"{cache}/cold-{label}")
    warm = [probe_startup(url, cache) for _ in range(6)][1:]
    seconds = [s for s, _, _ in warm]
    cpu = [c for _, c, _ in warm]
    print(f"  {label}: process start to ready best {min(seconds):.2f} s, median {statistics.median(seconds):.2f} s, "
          f"worst {max(seconds):.2f} s (CPU used: best {min(cpu):.2f} s, median {statistics.median(cpu):.2f} s); "
          f"RSS at ready {max(r for _, _, r in warm):.0f} MB")
    print(f"    first start, no phrasebook cache yet: {cold:.2f} s (CPU {cold_cpu:.2f} s), {cold_rss:.0f} MB")
    return statistics.median(seconds), max(r for _, _, r in warm)


def bench_startup_and_cancel() -> None:
    with tempfile.TemporaryDirectory() as folder:
        empty = f"sqlite:///{folder}/empty.db"
        upgrade_schema(create_database_engine(empty))
        path = f"{folder}/million.db"
        seeding = time.perf_counter()
        engine, invoices = seed_million(path)
        print(f"startup (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores): seeded 1,000,000 pending steps "
              f"in {time.perf_counter() - seeding:.1f} s")
        report_startup("0 pending steps", empty, f"{folder}/cache")
        ready, rss = report_startup("1,000,000 pending steps", f"sqlite:///{path}", f"{folder}/cache")
        verdict("start-up to ready ≤ 1 s, RSS ≤ 100 MB, with 1,000,000 pending steps",
                f"median {ready:.2f} s, {rss:.0f} MB", ready <= 1.0 and rss <= 100)
        random.seed(11)
        cancel_ms, cancel_cpu_ms = [], []
        for invoice_id in random.sample(invoices, 1000):
            started, cpu_started = time.perf_counter(), time.process_time()
            with Session(engine) as session:  # what /paid in full does to the steps, in its transaction
                invoice = session.get(Invoice, invoice_id)
                assert invoice is not None
                cancelled = course.close_course(session, invoice, "paid", datetime.now(timezone.utc))
                session.commit()
            cancel_ms.append((time.perf_counter() - started) * 1000)
            cancel_cpu_ms.append((time.process_time() - cpu_started) * 1000)
            assert cancelled == 10
        print(f"cancel: a paid invoice's 10 pending steps among 1,000,000 (1,000 invoices, with commit; "
              f"load average {os.getloadavg()[0]:.1f}): p50 {statistics.median(cancel_ms):.3f} ms, "
              f"p99 {percentile(cancel_ms, .99):.3f} ms, max {max(cancel_ms):.3f} ms; CPU per cancel p50 "
              f"{statistics.median(cancel_cpu_ms):.3f} ms, p99 {percentile(cancel_cpu_ms, .99):.3f} ms")
        verdict("cancel a paid invoice's steps among 1,000,000: p99 ≤ 1 ms", f"p99 {percentile(cancel_ms, .99):.3f} ms",
                percentile(cancel_ms, .99) <= 1.0)
        engine.dispose()


class DeliveryLog:
    """A platform whose deliveries are rows in PostgreSQL, so a killed process loses none of them."""

    platform = "bench"

    def __init__(self, engine: Engine, instance: str) -> None:
        self.engine = engine
        self.instance = instance

    async def send(self, chat_id: str, reply: Reply) -> None:
        rows = [dict(step_id=step, instance=self.instance, repeat=reply.repeat or step in reply.repeated_step_ids,
                     at=datetime.now(timezone.utc)) for step in reply.step_ids]
        await asyncio.to_thread(self._write, rows)

    def _write(self, rows: list[dict[str, object]]) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO bench_delivery (step_id, instance, repeat, at) "
                                       "VALUES (:step_id, :instance, :repeat, :at)"), rows)


def failover_worker(schema: str, name: str) -> None:
    engine = create_database_engine(POSTGRES_URL, schema=schema)
    scheduler = Scheduler(engine, SystemClock(), compose=compose_ping, instance=name, lease=timedelta(seconds=3),
                          max_sleep=timedelta(seconds=1))
    scheduler.attach(DeliveryLog(engine, name), RateLimits(per_second=2000, per_chat_interval=0.0))
    asyncio.run(scheduler.run())


def delivered_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(DISTINCT step_id) FROM bench_delivery")).scalar_one()


def wait_for_every_step(engine: Engine, steps: int, patience: float = 60.0, limit: float = 900.0) -> bool:
    """Wait until every step has reached the platform; give up only when nothing new arrived for
    `patience` seconds (or after `limit`). True when all arrived."""
    started = last_progress = time.monotonic()
    seen = -1
    while time.monotonic() - last_progress < patience and time.monotonic() - started < limit:
        arrived = delivered_count(engine)
        if arrived == steps:
            return True
        if arrived != seen:
            seen, last_progress = arrived, time.monotonic()
        time.sleep(0.5)
    return False


def bench_failover(steps: int = 20_000, window: float = 20.0, keep: bool = False) -> None:
    schema = f"bench_{os.getpid()}"
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    clean = False
    try:
        engine = create_database_engine(POSTGRES_URL, schema=schema)
        upgrade_schema(engine)
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE bench_delivery (step_id int, instance text, repeat bool, at timestamptz)"))
        people, invoices = seed_people_and_invoices(engine, people=200, invoices=steps // 10)
        random.seed(5)
        offsets = sorted(random.uniform(0, window) for _ in range(steps))
        random.shuffle(offsets)
        writing = time.perf_counter()
        start = datetime.now(timezone.utc) + timedelta(seconds=4)
        insert_timed(engine, step_rows(invoices, people, 10, [start + timedelta(seconds=o) for o in offsets]))
        if datetime.now(timezone.utc) > start - timedelta(seconds=1):  # slow machine: open the window later
            shift = datetime.now(timezone.utc) + timedelta(seconds=2 + time.perf_counter() - writing) - start
            with engine.begin() as connection:
                connection.execute(sa.update(due_table.STEPS).values(due_at=due_table.STEPS.c.due_at + sa.literal(shift, sa.Interval())))
            start += shift
        command = [sys.executable, "-m", "bench.scheduler_bench", "_worker", schema]
        workers = {name: subprocess.Popen([*command, name]) for name in ("one", "two")}
        time.sleep(max(0.0, (start - datetime.now(timezone.utc)).total_seconds() + window / 2))
        workers["one"].send_signal(signal.SIGKILL)
        workers["one"].wait()
        killed_at = datetime.now(timezone.utc)
        workers["one-restarted"] = subprocess.Popen([*command, "one-restarted"])
        everything = wait_for_every_step(engine, steps)
        for worker in workers.values():
            worker.terminate()
            worker.wait()
        with engine.connect() as connection:
            per_step = dict(connection.execute(sa.text(
                "SELECT s.id, count(d.step_id) FROM ladder_step s LEFT JOIN bench_delivery d ON d.step_id = s.id GROUP BY s.id")).all())
            states = dict(connection.execute(sa.text("SELECT id, state FROM ladder_step")).all())
            unannounced = connection.execute(sa.text(
                "SELECT count(*) FROM (SELECT step_id FROM bench_delivery GROUP BY step_id "
                "HAVING count(*) - count(*) FILTER (WHERE repeat) > 1) twice")).scalar_one()
            repeats = connection.execute(sa.text("SELECT count(*) FROM bench_delivery WHERE repeat")).scalar_one()
            lateness = [row[0] * 1000 for row in connection.execute(sa.text(
                "SELECT extract(epoch FROM min(d.at) - s.due_at) FROM ladder_step s JOIN bench_delivery d ON d.step_id = s.id "
                "GROUP BY s.id, s.due_at")).all()]
            by_instance = dict(connection.execute(sa.text("SELECT instance, count(*) FROM bench_delivery GROUP BY instance")).all())
            last_delivery = connection.execute(sa.text("SELECT max(at) FROM bench_delivery")).scalar_one()
        redelivered = sum(1 for count in per_step.values() if count > 1)
        lost = sum(1 for step, count in per_step.items() if count == 0 and states[step] in ("sent", "acknowledged"))
        undelivered = sum(1 for step, count in per_step.items() if count == 0 and states[step] not in ("sent", "acknowledged"))
        span = (last_delivery - start).total_seconds() if last_delivery else float("nan")
        print(f"failover: {steps:,} steps due within {window:.0f} s, two instances on PostgreSQL, one SIGKILLed at "
              f"{killed_at:%H:%M:%S} and restarted (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
        print(f"  duplicates (sent twice with no repeat mark): {unannounced}  lost (marked sent, never reached the platform): "
              f"{lost}  not delivered when the bench stopped waiting: {undelivered}"
              + ("" if everything else " (nothing new arrived for 60 s)"))
        print(f"  re-sent marked \"repeat: delivery not confirmed\": {repeats}, of which {redelivered} had reached the platform "
              "just before the kill (the crash fell between sending and recording it)")
        print(f"  deliveries by instance: {by_instance}")
        print(f"  throughput: {len(lateness):,} steps delivered {span:.1f} s after the window opened: "
              f"{len(lateness) / span:.0f} steps/s")
        if lateness:
            print(f"  lateness due → delivered: p50 {percentile(lateness, .5):.1f} ms, p99 {percentile(lateness, .99):.1f} ms, "
                  f"max {max(lateness):.1f} ms (the max includes the 3 s lease before the killed instance's claims are taken over)")
        clean = unannounced == 0 and lost == 0 and undelivered == 0
        verdict("fail-over: 0 duplicates, 0 lost, every step delivered",
                f"{unannounced} duplicates, {lost} lost, {undelivered} undelivered, {len(lateness) / span:.0f} steps/s", clean)
        engine.dispose()
    finally:
        if clean and not keep:
            with admin.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        else:
            print(f"  kept schema {schema} for inspection (ladder_step, bench_delivery); drop it with DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def main(argv: list[str]) -> None:
    which = argv[1] if len(argv) > 1 else "all"
    if which == "_worker":
        failover_worker(argv[2], argv[3])
        return
    if which in ("firing", "all"):
        bench_firing()
    if which in ("startup", "cancel", "all"):
        bench_startup_and_cancel()
    if which in ("burst", "all"):
        bench_burst()
    if which in ("failover", "all"):
        bench_failover(keep="--keep" in argv)


if __name__ == "__main__":
    main(sys.argv)
