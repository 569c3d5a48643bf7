"""One writer at a time on SQLite, queued in Python instead of in SQLite's busy handler.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps
1, 2, 5 … up to 100 ms between tries and so lets a writer wait long after the lock is free: with
50 people typing, a few commands waited 0.7 s for a lock held 4 ms at a time. Here a connection
takes its engine's lock at its first write statement (where pysqlite begins the transaction and
SQLite takes its write lock) and releases it right after the transaction's COMMIT or ROLLBACK, so
waiting writers are woken the moment SQLite's lock is free, in turn. Reads never wait for it
(WAL lets them run beside the writer). The lock only orders what SQLite would refuse anyway: after
`WAIT` seconds a writer goes on without it and SQLite's own locking decides, as before.
"""
from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event

WAIT = 30.0
WRITES = ("insert", "update", "delete", "replace", "create", "drop", "alter", "analyze")


class QueuedConnection(sqlite3.Connection):
    """A pysqlite connection that gives its engine's writer lock back when its transaction ends
    (the `factory` of `sqlite3.connect`)."""

    writer_lock: threading.Lock | None = None
    holds_writer: bool = False

    def take_writer_lock(self) -> None:
        if not self.holds_writer and self.writer_lock is not None:
            self.holds_writer = self.writer_lock.acquire(timeout=WAIT)

    def release_writer_lock(self) -> None:
        if self.holds_writer:
            self.holds_writer = False
            assert self.writer_lock is not None
            self.writer_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_writer_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_writer_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer_lock()


def queue_writers(engine: Engine) -> threading.Lock:
    """Order `engine`'s writing transactions through one lock (returned, for tests). The engine's
    connections must be `QueuedConnection`s (`connect_args={"factory": QueuedConnection}`)."""
    lock = threading.Lock()

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, QueuedConnection):
            dbapi_connection.writer_lock = lock

    def before_execute(_connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        connection = getattr(cursor, "connection", None)
        if isinstance(connection, QueuedConnection) and statement.lstrip()[:7].lower().startswith(WRITES):
            connection.take_writer_lock()

    def after_execute(_connection: Any, cursor: Any, *_: Any) -> None:
        connection = getattr(cursor, "connection", None)
        if isinstance(connection, QueuedConnection) and not connection.in_transaction:
            connection.release_writer_lock()  # autocommit: the statement was its own transaction

    def on_error(context: Any) -> None:
        cursor = getattr(context.execution_context, "cursor", None)
        if cursor is not None:
            after_execute(None, cursor)

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "after_cursor_execute", after_execute)
    event.listen(engine, "handle_error", on_error)
    return lock
