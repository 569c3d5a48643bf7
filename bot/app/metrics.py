"""Health endpoint and Prometheus metrics, served on a port of their own (METRICS_PORT).

`GET /healthz` answers 200 while every registered background loop is healthy (running, not
failing, heard from recently — `bot.floor.health.LoopHealth`) and 503 otherwise, with each loop's state
as JSON. `GET /metrics` is the Prometheus text format: pings sent, late and failed, the backlog of
steps due but not yet delivered, the send queues and one gauge per loop.

The ping figures are read from the database at scrape time (the due table and the history), so
they hold across restarts and are the same from every instance sharing a database: aggregate them
with `max()`, not `sum()`. Loop and send-queue figures are this process's own.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine

from bot.floor.clock import Clock, SystemClock
from bot.floor.health import LoopHealth, LoopState
from bot.store.models import Event, LadderStep, StepState

log = logging.getLogger(__name__)
STEPS = LadderStep.__table__  # type: ignore[attr-defined]
EVENTS = Event.__table__  # type: ignore[attr-defined]
LATE_AFTER = timedelta(minutes=1)
"""A ping counts as late when it went out more than this after its step was due (as the ping's
own "Late by …" note: handlers.pings.LATE_AFTER)."""
FAILED_EVENT_KINDS = ("ping_unreachable", "ping_undeliverable")
"""History entries that record a ping that could not be delivered."""
STALE_AFTER = timedelta(minutes=2)
"""A loop not heard from for this long counts as stuck (the slowest loops beat every 30–40 s)."""
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


class MetricsSettings(BaseSettings):
    """METRICS_PORT (unset: no metrics server) and METRICS_HOST; from the environment or `.env`."""

    model_config = SettingsConfigDict(env_prefix="METRICS_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    port: int | None = None
    host: str = "127.0.0.1"


QueueDepths = Callable[[], Mapping[str, int]]
"""Messages waiting in each platform's in-memory send queue."""


@dataclass(frozen=True)
class StepFigures:
    by_state: dict[str, int]
    sent: int
    late: int
    failed: int
    due_undelivered: int


def step_figures(engine: Engine, now: datetime) -> StepFigures:
    """What the database says about pings, in a few indexed or aggregate queries."""
    with engine.connect() as connection:
        by_state = {str(state): int(count) for state, count in connection.execute(
            sa.select(STEPS.c.state, sa.func.count()).group_by(STEPS.c.state))}
        sent, late = connection.execute(sa.select(
            sa.func.count(STEPS.c.sent_at),
            sa.func.count(sa.case((late_condition(connection.dialect.name), 1))),
        ).where(STEPS.c.sent_at.is_not(None))).one()
        failed = connection.execute(sa.select(sa.func.count()).select_from(EVENTS)
                                    .where(EVENTS.c.kind.in_(FAILED_EVENT_KINDS))).scalar_one()
        due_undelivered = connection.execute(sa.select(sa.func.count()).select_from(STEPS).where(
            STEPS.c.state.in_([StepState.PENDING.value, StepState.SENDING.value]), STEPS.c.due_at <= now)).scalar_one()
    return StepFigures(by_state, int(sent), int(late or 0), int(failed), int(due_undelivered))


def late_condition(dialect: str) -> sa.ColumnElement[bool]:
    if dialect == "sqlite":
        return (sa.func.julianday(STEPS.c.sent_at) - sa.func.julianday(STEPS.c.due_at)) * 86400 > LATE_AFTER.total_seconds()
    return STEPS.c.sent_at > STEPS.c.due_at + sa.literal(LATE_AFTER)


def loops_healthy(states: Mapping[str, LoopState], now: datetime, stale_after: timedelta = STALE_AFTER) -> bool:
    return all(state.healthy(now, stale_after) for state in states.values())


class CollectbotCollector(Collector):
    """Reads the figures when Prometheus scrapes; database figures are kept for `min_interval`
    seconds so several scrapers do not each scan the due table."""

    def __init__(self, engine: Engine, health: LoopHealth, queue_depths: QueueDepths | None = None, *,
                 clock: Clock | None = None, stale_after: timedelta = STALE_AFTER, min_interval: float = 5.0) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.health = health
        self.queue_depths = queue_depths
        self.stale_after = stale_after
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._figures: tuple[float, StepFigures] | None = None

    def figures(self) -> StepFigures | None:
        with self._lock:
            if self._figures and time.monotonic() - self._figures[0] < self.min_interval:
                return self._figures[1]
            try:
                figures = step_figures(self.engine, self.clock.now())
            except sa.exc.SQLAlchemyError:
                log.warning("metrics: the database did not answer", exc_info=True)
                return None
            self._figures = (time.monotonic(), figures)
            return figures

    def collect(self) -> Iterator[Metric]:
        figures = self.figures()
        yield GaugeMetricFamily("collectbot_database_up", "1 when the database answered the last scrape",
                                value=1 if figures else 0)
        if figures:
            yield CounterMetricFamily("collectbot_pings_sent", "Ladder steps delivered as pings (database-wide)",
                                      value=figures.sent)
            yield CounterMetricFamily("collectbot_pings_late", f"Pings delivered more than {LATE_AFTER.seconds} s after "
                                      "their step was due (database-wide)", value=figures.late)
            yield CounterMetricFamily("collectbot_pings_failed", "Pings that could not be delivered: no linked chat, "
                                      "or refused by the platform (database-wide)", value=figures.failed)
            yield GaugeMetricFamily("collectbot_queue_depth", "Steps due now and not yet delivered (pending or "
                                    "being sent), across instances", value=figures.due_undelivered)
            steps = GaugeMetricFamily("collectbot_steps", "Ladder steps by state", labels=["state"])
            for state in StepState:
                steps.add_metric([state.value], figures.by_state.get(state.value, 0))
            yield steps
        if self.queue_depths is not None:
            queued = GaugeMetricFamily("collectbot_send_queue_depth", "Steps waiting in this process's send queue",
                                       labels=["platform"])
            for platform, depth in sorted(self.queue_depths().items()):
                queued.add_metric([platform], depth)
            yield queued
        yield from self.loop_metrics()

    def loop_metrics(self) -> Iterator[Metric]:
        now = self.clock.now()
        states = self.health.snapshot()
        healthy = GaugeMetricFamily("collectbot_loop_healthy", "1 while the background loop runs, succeeds and beats",
                                    labels=["loop"])
        age = GaugeMetricFamily("collectbot_loop_last_beat_age_seconds", "Seconds since the loop last reported",
                                labels=["loop"])
        failures = CounterMetricFamily("collectbot_loop_failures", "Failed passes of the background loop", labels=["loop"])
        for name, state in sorted(states.items()):
            healthy.add_metric([name], 1 if state.healthy(now, self.stale_after) else 0)
            if state.last_beat is not None:
                age.add_metric([name], (now - state.last_beat).total_seconds())
            failures.add_metric([name], state.total_failures)
        yield healthy
        yield age
        yield failures
        yield GaugeMetricFamily("collectbot_loops_alive", "Background loops that are healthy",
                                value=sum(state.healthy(now, self.stale_after) for state in states.values()))


def health_report(health: LoopHealth, now: datetime, stale_after: timedelta = STALE_AFTER) -> tuple[bool, dict[str, object]]:
    states = health.snapshot()
    ok = loops_healthy(states, now, stale_after)
    loops = {name: {"healthy": state.healthy(now, stale_after), "running": state.running,
                    "last_beat": state.last_beat.isoformat() if state.last_beat else None,
                    "failures_in_a_row": state.failures_in_a_row, "last_error": state.last_error}
             for name, state in sorted(states.items())}
    return ok, {"status": "ok" if ok else "unhealthy", "loops": loops}


class MetricsServer:
    """/healthz and /metrics on an aiohttp server of their own; `routes()` also mounts them on
    an existing aiohttp application."""

    def __init__(self, engine: Engine, health: LoopHealth, queue_depths: QueueDepths | None = None, *,
                 clock: Clock | None = None, stale_after: timedelta = STALE_AFTER, min_interval: float = 5.0) -> None:
        self.health = health
        self.clock = clock or SystemClock()
        self.stale_after = stale_after
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(CollectbotCollector(engine, health, queue_depths, clock=self.clock, stale_after=stale_after,
                                                   min_interval=min_interval))
        self._runner: web.AppRunner | None = None
        self.port = 0

    def routes(self) -> list[web.RouteDef]:
        return [web.get(HEALTH_PATH, self.healthz), web.get(METRICS_PATH, self.metrics)]

    async def healthz(self, _request: web.Request) -> web.Response:
        ok, body = health_report(self.health, self.clock.now(), self.stale_after)
        return web.json_response(body, status=200 if ok else 503, dumps=lambda data: json.dumps(data, indent=1))

    async def metrics(self, _request: web.Request) -> web.Response:
        output = await asyncio.to_thread(generate_latest, self.registry)
        return web.Response(body=output, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("health and metrics on http://%s:%d%s and %s", host, self.port, HEALTH_PATH, METRICS_PATH)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def metrics_server_for(engine: Engine, health: LoopHealth, queues: Mapping[str, object]) -> MetricsServer:
    """The server `collectbot run` starts when METRICS_PORT is set: send-queue depths are read
    from the scheduler's queues (each knows its length)."""
    def depths() -> dict[str, int]:
        return {platform: len(queue) for platform, queue in queues.items()}  # type: ignore[arg-type]

    return MetricsServer(engine, health, depths)


async def start_metrics_if_configured(engine: Engine, health: LoopHealth, queues: Mapping[str, object],
                                      settings: MetricsSettings | None = None) -> MetricsServer | None:
    settings = settings or MetricsSettings()
    if settings.port is None:
        return None
    server = metrics_server_for(engine, health, queues)
    await server.start(settings.host, settings.port)
    return server
