"""Slack under load: 2,000 signed slash commands from 50 concurrent clients against `collectbot run`
(a separate process, Slack over HTTP) and the local Slack stand-in.

Each client is a person cycling through /collect add, list, show and paid on their own invoices.
By default (`--pace answer`) a client sends its next command once it has the answer to the last
one, as a person does: 50 clients keep 50 commands in flight. With `--pace ack` it sends the next as
soon as Slack's request is acknowledged, offering load as fast as the acks come back — a stress
test of throughput, where answers queue once the offered rate exceeds what the bot can serve.
Printed: acknowledgement latency (HTTP 200 to the signed request), answer latency (command sent →
the answer posted to its response URL), commands answered per second, and errors.

    .venv/bin/python -m bench.slack_load                      # SQLite and PostgreSQL
    .venv/bin/python -m bench.slack_load sqlite --profile     # also: where the bot's time goes (cProfile)
    .venv/bin/python -m bench.slack_load postgresql --commands 2000 --clients 50 --pace ack
    .venv/bin/python -m bench.slack_load postgresql --instances 2   # two bots on one database

The bot's settings can be varied through the environment (e.g. COLLECTBOT_WORKER_THREADS=16).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from sqlmodel import Session, select

from bench.verdict import verdict
from bot.app.bootstrap import build_core, build_services
from bot.floor.config import Settings
from bot.store.database import create_database_engine
from bot.store.models import Person
from bot.platforms.slack.identity import sender_from
from handlers.people import link_identity
from tests.slack_standin import TEAM_ID, SlackStandIn

ANSWER_TARGETS = {"sqlite": 2.0, "postgresql": 1.0}
"""Answers p99, seconds (issue 17), with 50 people each waiting for their answer."""
ACK_TARGET = 0.3
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ADMIN = "U0ADMIN"


class TimedSlack(SlackStandIn):
    """The stand-in, noting when each response URL is called and whether the answer was an error."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.all_answered = asyncio.Event()
        self.expected = 0
        self.waiting: dict[str, asyncio.Event] = {}

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = request.match_info["id"]
        self.answered[key] = time.perf_counter()
        text = str(body.get("text", ""))
        if "went wrong" in text or "changed the same thing" in text:
            self.failed[key] = text[:200]
        if key in self.waiting:
            self.waiting.pop(key).set()
        if len(self.answered) >= self.expected:
            self.all_answered.set()
        return web.Response(text="ok")


@dataclass
class Run:
    acks: list[float] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of a process so far, or of one of its threads (the main thread's id is the pid)."""
    fields = Path(f"/proc/{pid}" + (f"/task/{thread}" if thread else "") + "/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def seed_team(url: str, clients: int) -> None:
    """An admin and one salesperson per client, each linked to a Slack user."""
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    core = build_core(build_services(settings))
    core.handle_text(sender_from(TEAM_ID, ADMIN, "admin"), "/start")
    for n in range(clients):
        reply = core.handle_text(sender_from(TEAM_ID, ADMIN, "admin"), f"/team add @u{n} salesperson")
        assert not reply.is_error, reply
    with Session(core.services.engine) as session:
        for n in range(clients):
            person = session.exec(select(Person).where(Person.handle == f"u{n}")).one()
            link_identity(session, person, sender_from(TEAM_ID, f"U{n:04d}"), datetime.now(timezone.utc))
        session.commit()
    core.services.engine.dispose()


def command_for(client: int, n: int) -> str:
    number = f"L{client}-{n // 4}"
    return [f"add {number} 100 EUR 2027-03-10 Acme {number}", "list", f"show {number}", f"paid {number}"][n % 4]


async def client_loop(http: aiohttp.ClientSession, standin: TimedSlack, url: str, client: int, count: int, run: Run,
                      wait_for_answer: bool) -> None:
    for n in range(count):
        fields = standin.slash_command(f"U{client:04d}", command_for(client, n))
        key = uuid.uuid4().hex
        answered = standin.waiting[key] = asyncio.Event()
        fields["response_url"] = f"{standin.url}/response/{key}"
        body = standin.form(fields)
        started = time.perf_counter()
        run.sent_at[key] = started
        async with http.post(url, data=body.encode(), headers=standin.signed_headers(body)) as response:
            await response.read()
            run.statuses[response.status] = run.statuses.get(response.status, 0) + 1
        run.acks.append(time.perf_counter() - started)
        if wait_for_answer:
            await asyncio.wait_for(answered.wait(), timeout=120)


async def wait_until_listening(port: int, bot: subprocess.Popen[bytes], timeout: float = 60) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if bot.poll() is not None:
            raise RuntimeError(f"the bot exited with {bot.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return time.perf_counter() - started
        except OSError:
            await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not start listening")


def stop_bots(bots: list[subprocess.Popen[bytes]], patience: float = 30) -> bytes:
    """Stop each bot as Ctrl+C does (it stops cleanly, and cProfile writes its file); one still
    running after `patience` seconds, or when the wait itself is interrupted, is killed. Their stderr."""
    for bot in bots:
        if bot.poll() is None:
            bot.send_signal(signal.SIGINT)
    deadline = time.monotonic() + patience
    errors = b""
    try:
        for bot in bots:
            try:
                _, stderr = bot.communicate(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                bot.kill()
                _, stderr = bot.communicate()
            errors += stderr or b""
    finally:
        for bot in bots:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
    return errors


async def load(database: str, url: str, commands: int, clients: int, pace: str, profile: Path | None,
               instances: int = 1) -> None:
    standin = TimedSlack()
    standin.expected = commands
    await standin.start()
    ports = [free_port() for _ in range(instances)]
    bots: list[subprocess.Popen[bytes]] = []
    run = Run()
    try:
        for index, port in enumerate(ports):
            environment = {**os.environ, "DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-test-token",
                           "SLACK_SIGNING_SECRET": standin.signing_secret, "SLACK_API_URL": standin.api_url,
                           "SLACK_HTTP_HOST": "127.0.0.1", "SLACK_HTTP_PORT": str(port), "TELEGRAM_BOT_TOKEN": ""}
            program = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "bot.app.cli", "run"] if profile and index == 0 \
                else [sys.executable, "-m", "bot.app.cli", "run"]
            bots.append(subprocess.Popen(program, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        ready = max([await wait_until_listening(port, started) for port, started in zip(ports, bots, strict=False)])
        load_before = os.getloadavg()[0]
        cpu_before = sum(cpu_seconds(b.pid) for b in bots)
        endpoints = [f"http://127.0.0.1:{port}/slack/events" for port in ports]
        connector = aiohttp.TCPConnector(limit=clients)
        started = time.perf_counter()
        async with aiohttp.ClientSession(connector=connector) as http:
            await asyncio.gather(*(client_loop(http, standin, endpoints[c % instances], c, commands // clients, run,
                                               pace == "answer") for c in range(clients)))
            acked = time.perf_counter()
            try:
                await asyncio.wait_for(standin.all_answered.wait(), timeout=300)
            except TimeoutError:
                pass
        finished = max(standin.answered.values(), default=time.perf_counter())
        bot_cpu = sum(cpu_seconds(b.pid) for b in bots) - cpu_before
    finally:
        errors = stop_bots(bots)
        await standin.stop()
    answers = [standin.answered[key] - sent for key, sent in run.sent_at.items() if key in standin.answered]
    sent = len(run.sent_at)
    print(f"slack load on {database}, {instances} instance{'s' if instances > 1 else ''}: "
          f"{sent:,} commands from {clients} clients (add/list/show/paid), next command "
          f"{'after the answer' if pace == 'answer' else 'right after the ack'}, "
          f"bot listening {ready:.1f} s after launch, load average {load_before:.1f} at start, {os.cpu_count()} cores")
    print(f"  acks    (signed POST → HTTP {sorted(run.statuses)}): p50 {statistics.median(run.acks) * 1000:.0f} ms, "
          f"p99 {percentile(run.acks, .99) * 1000:.0f} ms, max {max(run.acks) * 1000:.0f} ms; all sent in {acked - started:.1f} s")
    if answers:
        print(f"  answers (sent → response URL): p50 {statistics.median(answers) * 1000:.0f} ms, "
              f"p99 {percentile(answers, .99) * 1000:.0f} ms, max {max(answers) * 1000:.0f} ms")
    print(f"  answered {len(answers):,} of {sent:,} in {finished - started:.1f} s: "
          f"{len(answers) / (finished - started):.0f} commands/s; errors: {len(standin.failed)}")
    print(f"  the bot process{'es' if instances > 1 else ''} used {bot_cpu:.1f} s of CPU in those {finished - started:.1f} s "
          f"({bot_cpu / (finished - started):.0%} of one core; {bot_cpu / max(1, len(answers)) * 1000:.1f} ms per command)")
    if answers:
        answer_p99, ack_p99 = percentile(answers, .99), percentile(run.acks, .99)
        limit = ANSWER_TARGETS[database]
        verdict(f"Slack answers p99 ≤ {limit:.0f} s on {database}", f"{answer_p99 * 1000:.0f} ms",
                answer_p99 <= limit and len(answers) == sent and not standin.failed)
        verdict("Slack acks p99 ≤ 300 ms", f"{ack_p99 * 1000:.0f} ms", ack_p99 <= ACK_TARGET)
    for text in list(standin.failed.values())[:3]:
        print(f"    e.g. {text}")
    if any(b.returncode not in (0, -2, 130) for b in bots) or (errors and b"Traceback" in errors):
        print("  the bot's stderr:\n" + errors.decode(errors="replace")[-3000:])
    if profile:
        print("  where the bot's time went (cumulative, top 25):")
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)


def sqlite_url(folder: str) -> str:
    return f"sqlite:///{Path(folder) / 'load.db'}"


def postgres_schema() -> tuple[str, str]:
    schema = f"bench_load_{os.getpid()}"
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = sa.engine.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def drop_schema(schema: str) -> None:
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="*", help="sqlite and/or postgresql (default: both)")
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pace", choices=["answer", "ack"], default="answer",
                        help="send the next command after the answer (a person) or right after the ack (stress)")
    parser.add_argument("--profile", action="store_true", help="run the bot under cProfile and print where its time went")
    parser.add_argument("--instances", type=int, default=1,
                        help="bot processes sharing the database, the clients spread over them (PostgreSQL)")
    arguments = parser.parse_args(argv)
    if set(arguments.databases) - {"sqlite", "postgresql"}:
        parser.error("the databases are sqlite and postgresql")
    for database in arguments.databases or ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory() as folder:
            profile = Path(folder) / "bot.prof" if arguments.profile else None
            schema = None
            if database == "sqlite":
                url = sqlite_url(folder)
            else:
                schema, url = postgres_schema()
            try:
                seed_team(url, arguments.clients)
                asyncio.run(load(database, url, arguments.commands, arguments.clients, arguments.pace, profile,
                                 arguments.instances))
            finally:
                if schema:
                    drop_schema(schema)


if __name__ == "__main__":
    main()
