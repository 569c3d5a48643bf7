"""SQLite writers queue for the write lock in Python (woken in turn as it frees) rather than in
SQLite's sleeping busy handler; the lock is given back however the transaction ends."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from bot.store.database import create_database_engine
from bot.store.sqlite_writer import QueuedConnection


def writer_lock(engine: sa.Engine) -> threading.Lock:
    with engine.connect() as connection:
        dbapi = connection.connection.dbapi_connection
        assert isinstance(dbapi, QueuedConnection)
        assert dbapi.writer_lock is not None
        return dbapi.writer_lock


def test_a_second_writer_waits_its_turn_in_the_queue_not_in_sqlites_busy_handler(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'w.db'}")
    sa.event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=0"))
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    first_wrote, failures = threading.Event(), []

    def second() -> None:
        first_wrote.wait()
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("INSERT INTO t VALUES (2)"))
        except sa.exc.OperationalError as error:  # SQLite's own answer, busy handler off: "database is locked"
            failures.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (1)"))
        first_wrote.set()
        time.sleep(0.2)  # the second writer tries meanwhile
    thread.join()
    assert failures == [], "the second writer reached SQLite while the first held its write lock"
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM t")).scalar() == 2


def test_the_writer_lock_is_given_back_after_a_failed_write_a_rollback_and_a_read(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'w.db'}")
    lock = writer_lock(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    assert not lock.locked()
    with engine.connect() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert lock.locked(), "held from the first write"
        connection.rollback()
    assert not lock.locked()
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO t VALUES (1)"))
            connection.execute(sa.text("INSERT INTO t VALUES (1)"))  # the primary key refuses it
    except sa.exc.IntegrityError:
        pass
    assert not lock.locked()
    with engine.connect() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (2)"))  # closed without commit
    assert not lock.locked()
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT * FROM t")).all()
        assert not lock.locked(), "reads never take it"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (3)"))
        assert not lock.locked(), "a statement that was its own transaction gives it back at once"
