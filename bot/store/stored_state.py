"""Interaction state kept in the database, so that any instance behind a load balancer can take
the next request: a CSV waiting for its confirmation, a question waiting for its answer, a guided
dialogue half-way, the message a Slack modal will edit, and the Slack requests and events already
handled. Every entry has an expiry and is cleaned up; a lease row lets one instance at a time do
what only one may (Telegram's long polling)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, Connection, Engine, LargeBinary
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, delete, select

from bot.floor.clock import Clock
from bot.store.db_types import UTCDateTime


class InteractionState(SQLModel, table=True):
    """One piece of conversation state: `kind` says what it is, `key` which one."""

    __tablename__ = "interaction_state"

    kind: str = Field(primary_key=True, max_length=24)
    key: str = Field(primary_key=True, max_length=160)
    holder: str | None = Field(default=None, max_length=128, index=True, description="whose it is, for per-person caps")
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Lease(SQLModel, table=True):
    """Who may do a one-at-a-time job until when; renewed while they hold it."""

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime = Field(sa_type=UTCDateTime)


SWEEP_EVERY = timedelta(minutes=1)
"""How often `InteractionStore.first_time` removes expired entries (they never count meanwhile)."""


# -- inside a session (the command's own transaction) ---------------------------------------------
def put_state(session: Session, kind: str, key: str, data: dict[str, Any], *, now: datetime, ttl: timedelta,
              holder: str | None = None, content: bytes | None = None) -> InteractionState:
    """Store (or replace) one entry."""
    session.execute(delete(InteractionState).where(col(InteractionState.kind) == kind, col(InteractionState.key) == key))
    entry = InteractionState(kind=kind, key=key, holder=holder, data=data, content=content, created_at=now, expires_at=now + ttl)
    session.add(entry)
    session.flush()
    return entry


def get_state(session: Session, kind: str, key: str, *, now: datetime) -> InteractionState | None:
    """The entry, unless it is missing or has expired."""
    entry = session.get(InteractionState, (kind, key))
    if entry is None or entry.expires_at <= now:
        return None
    return entry


def drop_state(session: Session, kind: str, key: str) -> bool:
    result = session.execute(delete(InteractionState).where(col(InteractionState.kind) == kind, col(InteractionState.key) == key))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def states_of(session: Session, kind: str, holder: str, *, now: datetime) -> list[InteractionState]:
    """A holder's live entries of one kind, oldest first."""
    return list(session.exec(select(InteractionState).where(
        InteractionState.kind == kind, InteractionState.holder == holder, col(InteractionState.expires_at) > now,
    ).order_by(col(InteractionState.created_at))))


def forget_expired(session: Session, *, now: datetime, kind: str | None = None) -> int:
    condition = col(InteractionState.expires_at) <= now
    if kind is not None:
        condition = sa.and_(condition, col(InteractionState.kind) == kind)
    result = session.execute(delete(InteractionState).where(condition))
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- on their own (adapters outside a command) -------------------------------------------------------
@dataclass
class InteractionStore:
    """The same entries for platform adapters, each call its own short transaction (blocking: call
    it from a worker thread in async code)."""

    engine: Engine
    clock: Clock
    _swept: dict[str, datetime] = field(default_factory=dict, init=False, repr=False)
    """When this store last removed the expired entries of each kind (`first_time`)."""

    def put(self, kind: str, key: str, data: dict[str, Any], ttl: timedelta, holder: str | None = None) -> None:
        with Session(self.engine) as session:
            now = self.clock.now()
            forget_expired(session, now=now, kind=kind)
            put_state(session, kind, key, data, now=now, ttl=ttl, holder=holder)
            session.commit()

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            entry = get_state(session, kind, key, now=self.clock.now())
            return dict(entry.data) if entry is not None else None

    def take(self, kind: str, key: str) -> dict[str, Any] | None:
        """The entry, removed; None when another instance took it first (or it expired)."""
        with Session(self.engine) as session:
            entry = get_state(session, kind, key, now=self.clock.now())
            if entry is None:
                return None
            data = dict(entry.data)
            taken = drop_state(session, kind, key)
            session.commit()
            return data if taken else None

    def drop(self, kind: str, key: str) -> bool:
        with Session(self.engine) as session:
            dropped = drop_state(session, kind, key)
            session.commit()
            return dropped

    def drop_where(self, kind: str, holder: str) -> int:
        with Session(self.engine) as session:
            result = session.execute(delete(InteractionState).where(
                col(InteractionState.kind) == kind, col(InteractionState.holder) == holder))
            session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

    def first_time(self, kind: str, key: str, ttl: timedelta) -> bool:
        """True for the first instance to see `key` within `ttl`; False for every repeat. The
        database's primary key decides, so two instances cannot both win.

        One statement in one short transaction (it runs before Slack's request is acknowledged);
        expired rows of the kind are swept at most once per `SWEEP_EVERY` by each store."""
        now = self.clock.now()
        with self.engine.begin() as connection:
            self._sweep_in(connection, kind, now)
            return claim_once(connection, kind, key, ttl, now)

    def sweep(self, kind: str) -> None:
        """Remove the expired entries of `kind`, unless this store did within `SWEEP_EVERY`."""
        with self.engine.begin() as connection:
            self._sweep_in(connection, kind, self.clock.now())

    def _sweep_in(self, connection: Connection, kind: str, now: datetime) -> None:
        if now - self._swept.get(kind, datetime.min.replace(tzinfo=now.tzinfo)) < SWEEP_EVERY:
            return
        table = InteractionState.__table__  # type: ignore[attr-defined]
        connection.execute(sa.delete(table).where(table.c.kind == kind, table.c.expires_at <= now))
        self._swept[kind] = now


def claim_once(connection: Connection | Session, kind: str, key: str, ttl: timedelta, now: datetime) -> bool:
    """Remember `key` for `ttl` in this transaction: True if it is new (or its entry expired), False
    if a live entry exists — another transaction that remembered it first has committed (a
    concurrent one is waited for). One `INSERT … ON CONFLICT DO UPDATE … WHERE expired` statement."""
    table = InteractionState.__table__  # type: ignore[attr-defined]
    bind = connection if isinstance(connection, Connection) else connection.get_bind()
    values = {"kind": kind, "key": key, "data": {}, "created_at": now, "expires_at": now + ttl}
    fresh: dict[str, Any] = {"holder": None, "data": {}, "content": None, "created_at": now, "expires_at": now + ttl}
    statement = insert_for(bind.dialect.name)(table).values(**values)
    statement = statement.on_conflict_do_update(index_elements=[table.c.kind, table.c.key], set_=fresh,
                                                where=table.c.expires_at <= now).returning(table.c.key)
    return connection.execute(statement).first() is not None


def insert_for(dialect: str) -> Any:
    """`INSERT … ON CONFLICT` of the engine's dialect (SQLite and PostgreSQL both have it)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert
        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert


@dataclass
class LeaseKeeper:
    """A named lease in the database: one holder at a time; it lapses if not renewed in `ttl`."""

    engine: Engine
    clock: Clock
    name: str
    holder: str
    ttl: timedelta

    def acquire(self) -> bool:
        """Take the lease, or renew it when already held; False while someone else holds it."""
        now = self.clock.now()
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            renewed = connection.execute(sa.update(table).where(
                table.c.name == self.name, sa.or_(table.c.holder == self.holder, table.c.expires_at <= now),
            ).values(holder=self.holder, expires_at=now + self.ttl))
            if renewed.rowcount:
                return True
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(table).values(name=self.name, holder=self.holder, expires_at=now + self.ttl))
        except IntegrityError:
            return False
        return True

    def release(self) -> None:
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            connection.execute(sa.delete(table).where(table.c.name == self.name, table.c.holder == self.holder))

    def holder_now(self) -> str | None:
        with Session(self.engine) as session:
            lease = session.get(Lease, self.name)
            return lease.holder if lease is not None and lease.expires_at > self.clock.now() else None
