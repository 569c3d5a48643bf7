"""Shared fixtures: a real database (SQLite and PostgreSQL), a movable clock, and a chat driver
that pushes a message through the core and pops the rendered reply (Errbot's testbot idea)."""
from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine

from bot.app.bootstrap import build_core, build_scheduler, build_services
from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.store.database import create_database_engine
from handlers.core import Core
from scheduling.notifier import CONSOLE_LIMITS
from scheduling.scheduler import Scheduler
from tests.outages import POSTGRES_PORT, Outage, PostgresRestart, SqliteWriteLock, TcpProxy
from tests.support import ChatDriver, RecordingNotifier

# Property-based tests: a fixed, modest number of examples in CI (`ci`, the default, derandomized
# so a run is repeatable); `HYPOTHESIS_PROFILE=long` for a thorough local run.
_FIXTURE_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
hypothesis_settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True, database=None,
                                     suppress_health_check=_FIXTURE_CHECKS)
hypothesis_settings.register_profile("long", max_examples=2_000, deadline=None, suppress_health_check=_FIXTURE_CHECKS)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("COLLECTBOT_REQUIRE_POSTGRES") == "1"
OSLO = ZoneInfo("Europe/Oslo")


def _postgres_problem() -> str | None:
    try:
        engine = create_database_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable here"
        return f"PostgreSQL is not reachable at {POSTGRES_URL}: {type(error).__name__}: {error}"


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"{problem} (COLLECTBOT_REQUIRE_POSTGRES=1, so this is a failure, not a skip)")
    pytest.skip(problem)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(url, schema): a fresh SQLite file, or a fresh schema in the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'collectbot.db'}", None
        return
    request.getfixturevalue("postgres_available")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield POSTGRES_URL, schema
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(database_url: tuple[str, str | None]) -> Iterator[Engine]:
    url, schema = database_url
    engine = create_database_engine(url, schema=schema)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> MovableClock:
    """Tuesday 24 November 2026, 09:00 in Oslo."""
    return MovableClock(datetime(2026, 11, 24, 9, 0, tzinfo=OSLO))


@pytest.fixture
def settings(database_url: tuple[str, str | None]) -> Settings:
    """Settings for the test's own database; on PostgreSQL the URL pins the test's schema, so a
    `Runtime.build(settings)` never touches the shared `public` schema."""
    url, schema = database_url
    if schema:
        url = f"{url}?options=-csearch_path%3D{schema}"
    return Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]


@pytest.fixture
def core(engine: Engine, clock: MovableClock, settings: Settings) -> Core:
    return build_core(build_services(settings, clock=clock, engine=engine))


@pytest.fixture
def notifier() -> RecordingNotifier:
    """Where the scheduler's pings go in tests: recorded per console chat (a person's handle)."""
    return RecordingNotifier()


@pytest.fixture
def scheduler(core: Core, notifier: RecordingNotifier) -> Scheduler:
    """The scheduler `collectbot run` builds for these services, delivering to `notifier`."""
    scheduler = build_scheduler(core.services)
    scheduler.attach(notifier, CONSOLE_LIMITS)
    return scheduler


@pytest.fixture
def chat(core: Core) -> ChatDriver:
    return ChatDriver(core)


@pytest.fixture
def team(chat: ChatDriver) -> ChatDriver:
    """alice (admin, manager, Oslo) with bob (salesperson, Oslo), carol (collector) and dave (salesperson)."""
    chat.say("alice", "/start")
    for line in (
        "/team add @bob salesperson",
        "/team add @carol collector",
        "/team add @dave salesperson tz=America/New_York",
    ):
        reply = chat.say("alice", line)
        assert "joined the team" in reply, reply
    return chat


@pytest.fixture
async def outage(database_url: tuple[str, str | None], engine: Engine) -> AsyncIterator[Outage]:
    """SQLite: another connection holds the write lock; PostgreSQL: the server 'restarts'."""
    if engine.dialect.name == "sqlite":
        assert engine.url.database is not None
        lock = SqliteWriteLock(engine.url.database)
        yield lock
        await lock.end()
        lock.engine.dispose()
        return
    proxy = TcpProxy(POSTGRES_PORT)
    await proxy.start()
    restart = PostgresRestart(proxy, database_url[1])
    yield restart
    await proxy.stop()
    restart.engine.dispose()
