"""Engine, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

import bot.store.stored_state  # noqa: F401  (its tables belong to the schema the migrations build)
from bot.store.schema_version import schema_is_current
from bot.store.sqlite_writer import QueuedConnection, queue_writers
from bot.floor.tuning import DATABASE_POOL_OVERFLOW, DATABASE_POOL_SIZE

if TYPE_CHECKING:
    from alembic.config import Config


def normalise_database_url(url: str) -> str:
    """Let users write `postgresql://…`; collectbot talks to PostgreSQL through psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_database_engine(url: str, *, schema: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url`; `schema` pins PostgreSQL's search_path (tests isolate themselves so)."""
    url = normalise_database_url(url)
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args["check_same_thread"] = False
        connect_args["timeout"] = 30
        connect_args["factory"] = QueuedConnection  # bot.store.sqlite_writer: writers queue in Python
    elif schema:
        connect_args["options"] = f"-csearch_path={schema}"
    if "poolclass" not in kwargs and ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
        kwargs.setdefault("pool_size", DATABASE_POOL_SIZE)  # bot.floor.tuning: a connection for every worker thread
        kwargs.setdefault("max_overflow", DATABASE_POOL_OVERFLOW)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _tune_sqlite_connection)
        queue_writers(engine)
    return engine


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for a read of one statement. On PostgreSQL it runs in autocommit: one round
    trip, where a transaction would add a BEGIN before and a ROLLBACK after (every command reads
    its sender's language so, before its own transaction)."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else connection


STATISTICS_SAMPLE_ROWS = 400
"""Rows ANALYZE samples per index on SQLite: a few milliseconds even with 1,000,000 steps."""


def refresh_query_statistics(engine: Engine) -> None:
    """SQLite: sample each index (ANALYZE with a row limit) so its query planner knows that a step
    state matches many rows and looks steps up by id instead. Without statistics it assumes any
    equality on an index matches ten rows, so the re-check before each ping and the confirmation
    after it walked every step being sent (ix_ladder_step_state_due_at) rather than their ten ids.
    PostgreSQL keeps its own statistics (autovacuum)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        connection.exec_driver_sql(f"PRAGMA analysis_limit={STATISTICS_SAMPLE_ROWS}")
        connection.exec_driver_sql("ANALYZE")


def _tune_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "bot.store:migrations")
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest schema; run on every start (Alembic is imported only
    when there is something to do)."""
    if schema_is_current(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed together or not at all."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
