"""Telegram under load: 2,000 commands from 50 people at once against `collectbot run` (a separate
process, long polling) and the local Bot API stand-in.

Each person cycles through /add, /list, /show and /paid on their own invoices and sends the next
command once the answer to the last has arrived, as a person does: 50 commands in flight.
Printed: answer latency (the update queued at the stand-in → the bot's sendMessage arriving
there), commands answered per second, the bot's CPU per command, and each target with pass/fail.

Telegram lets a bot send about 30 messages per second in all, and the bot keeps to that
(TELEGRAM_MESSAGES_PER_SECOND): with 50 people waiting for answers, each then waits at least
50 / 30 ≈ 1.7 s whatever the bot does. So the bench lifts that limit by default to measure the
bot; `--telegram-limit` keeps it (what users of a real bot see at this load).

    .venv/bin/python -m bench.telegram_load                     # SQLite and PostgreSQL, ~1 min
    .venv/bin/python -m bench.telegram_load sqlite --commands 500
    .venv/bin/python -m bench.telegram_load postgresql --telegram-limit
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from typing import Any

from sqlmodel import Session, select

from bench.slack_load import cpu_seconds, drop_schema, percentile, postgres_schema, sqlite_url, stop_bots
from bench.verdict import load_note, verdict
from bot.app.bootstrap import build_core, build_services
from bot.floor.config import Settings
from bot.store.models import Person
from handlers.context import Sender
from handlers.people import link_identity
from tests.telegram_standin import TelegramStandIn, User

ADMIN_ID = 1
FIRST_USER = 1000
TARGETS = {"sqlite": 2.0, "postgresql": 1.0}
"""Answers p99, seconds."""


class TimedTelegram(TelegramStandIn):
    """The stand-in, noting when the bot's answer reaches each chat."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, asyncio.Event] = {}
        self.errors: list[str] = []

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        sent = super()._m_sendMessage(params, files)
        text = str(params.get("text", ""))
        if "went wrong" in text or "changed the same thing" in text:
            self.errors.append(text[:200])
        event = self.waiting.get(int(params["chat_id"]))
        if event is not None:
            event.set()
        return sent


def telegram_sender(user_id: int, name: str) -> Sender:
    return Sender(platform="telegram", external_id=str(user_id), display_name=name, chat_id=str(user_id))


def seed_team(url: str, clients: int) -> None:
    """An admin and one salesperson per client, each linked to a Telegram user."""
    core = build_core(build_services(Settings(_env_file=None, database_url=url)))  # type: ignore[call-arg]
    admin = telegram_sender(ADMIN_ID, "admin")
    core.handle_text(admin, "/start")
    for n in range(clients):
        reply = core.handle_text(admin, f"/team add @u{n} salesperson")
        assert not reply.is_error, reply
    with Session(core.services.engine) as session:
        for n in range(clients):
            person = session.exec(select(Person).where(Person.handle == f"u{n}")).one()
            link_identity(session, person, telegram_sender(FIRST_USER + n, f"u{n}"), datetime.now(timezone.utc))
        session.commit()
    core.services.engine.dispose()


def command_for(client: int, n: int) -> str:
    number = f"T{client}-{n // 4}"
    return [f"/add {number} 100 EUR 2027-03-10 Acme {number}", "/list", f"/show {number}", f"/paid {number}"][n % 4]


async def client_loop(standin: TimedTelegram, client: int, count: int, latencies: list[float]) -> None:
    user = User(FIRST_USER + client, f"u{client}")
    for n in range(count):
        answered = standin.waiting[user.id] = asyncio.Event()
        started = time.perf_counter()
        await standin.say(user, command_for(client, n))
        await asyncio.wait_for(answered.wait(), timeout=120)
        latencies.append(time.perf_counter() - started)


async def wait_until_polling(standin: TimedTelegram, bot: subprocess.Popen[bytes], timeout: float = 60) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if bot.poll() is not None:
            raise RuntimeError(f"the bot exited with {bot.returncode}")
        if standin.calls_of("getUpdates"):
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not start polling")


async def load(database: str, url: str, commands: int, clients: int, telegram_limit: bool) -> None:
    standin = TimedTelegram()
    await standin.start()
    environment = {**os.environ, "DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": standin.token,
                   "TELEGRAM_API_BASE_URL": standin.base_url, "TELEGRAM_FILE_BASE_URL": standin.file_base_url,
                   "TELEGRAM_POLL_TIMEOUT": "10", "SLACK_BOT_TOKEN": ""}
    if not telegram_limit:
        environment["TELEGRAM_MESSAGES_PER_SECOND"] = "100000"
    bots: list[subprocess.Popen[bytes]] = []
    latencies: list[float] = []
    try:
        bots.append(bot := subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], env=environment,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        ready = await wait_until_polling(standin, bot)
        await asyncio.sleep(0.5)  # the first long poll is out
        note = load_note()
        cpu_before, loop_before, own_before = cpu_seconds(bot.pid), cpu_seconds(bot.pid, bot.pid), time.process_time()
        polls_before = len(standin.calls_of("getUpdates"))
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(standin, c, commands // clients, latencies) for c in range(clients)))
        elapsed = time.perf_counter() - started
        bot_cpu, own_cpu = cpu_seconds(bot.pid) - cpu_before, time.process_time() - own_before
        loop_cpu = cpu_seconds(bot.pid, bot.pid) - loop_before
        polls = len(standin.calls_of("getUpdates")) - polls_before
    finally:
        errors = stop_bots(bots)
        await standin.stop()
    limit = "Telegram's 30 messages/s kept" if telegram_limit else "the 30 messages/s limit lifted"
    print(f"telegram load on {database}: {len(latencies):,} commands from {clients} people (add/list/show/paid), "
          f"each sending the next after the answer, long polling, {limit}; bot polling {ready:.1f} s after launch; {note}")
    print(f"  answers (update queued → sendMessage at the stand-in): p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, .99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    print(f"  {len(latencies) / elapsed:.0f} commands/s; errors: {len(standin.errors)}; the bot used {bot_cpu:.1f} s of CPU "
          f"({bot_cpu / elapsed:.0%} of one core; {bot_cpu / max(1, len(latencies)) * 1000:.1f} ms per command, "
          f"{loop_cpu / max(1, len(latencies)) * 1000:.1f} ms of it on the event loop's thread)")
    print(f"  {polls:,} getUpdates calls, {len(latencies) / max(1, polls):.1f} updates per call")
    print(f"  the bench itself (the stand-in and the 50 people) used {own_cpu:.1f} s of CPU ({own_cpu / elapsed:.0%} of one core)")
    p99 = percentile(latencies, .99)
    verdict(f"Telegram answers p99 ≤ {TARGETS[database]:.0f} s on {database}", f"{p99 * 1000:.0f} ms",
            p99 <= TARGETS[database] and not standin.errors)
    if bot.returncode not in (0, -2, 130):
        print("  the bot's stderr:\n" + errors.decode(errors="replace")[-3000:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("databases", nargs="*", help="sqlite and/or postgresql (default: both)")
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--telegram-limit", action="store_true", help="keep Telegram's 30 messages/s (the default lifts it)")
    arguments = parser.parse_args(argv)
    if set(arguments.databases) - {"sqlite", "postgresql"}:
        parser.error("the databases are sqlite and postgresql")
    for database in arguments.databases or ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory() as folder:
            schema = None
            if database == "sqlite":
                url = sqlite_url(folder)
            else:
                schema, url = postgres_schema()
            try:
                seed_team(url, arguments.clients)
                asyncio.run(load(database, url, arguments.commands, arguments.clients, arguments.telegram_limit))
            finally:
                if schema:
                    drop_schema(schema)


if __name__ == "__main__":
    main()
