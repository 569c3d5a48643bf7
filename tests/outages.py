"""Database outages for fault tests: SQLite's write lock held by another connection, and a TCP
proxy in front of PostgreSQL that can go down (connections cut, new ones refused) and come back —
what a database restart looks like to the bot. Only the test's own connections are affected."""
from __future__ import annotations

import asyncio
import sqlite3
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import Engine, event

from bot.store.database import _tune_sqlite_connection, create_database_engine

POSTGRES_PORT = 5432


class Outage(Protocol):
    engine: Engine
    """An engine whose database the outage takes away (give it to the code under test)."""

    async def begin(self) -> None: ...

    async def end(self) -> None: ...


class SqliteWriteLock:
    """Another process holds SQLite's write lock far longer than the bot's busy timeout."""

    def __init__(self, path: str, busy_timeout: float = 0.2) -> None:
        self.path = path
        self.engine = sa.create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": busy_timeout})
        event.listen(self.engine, "connect", _tune_sqlite_connection)
        self._holder: sqlite3.Connection | None = None

    async def begin(self) -> None:
        self._holder = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._holder.execute("BEGIN IMMEDIATE")

    async def end(self) -> None:
        if self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None


class TcpProxy:
    """127.0.0.1:<port> → the target; `go_down` cuts every connection and refuses new ones."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer), return_exceptions=True)
        for end in (writer, upstream_writer):
            end.transport.abort()
            self._writers.discard(end)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()

    async def go_down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def come_back(self) -> None:
        if self._server is None:
            await self.start()

    async def stop(self) -> None:
        await self.go_down()


class PostgresRestart:
    """PostgreSQL seen through a proxy that goes down and comes back, as in a restart."""

    def __init__(self, proxy: TcpProxy, schema: str | None) -> None:
        self.proxy = proxy
        self.engine = create_database_engine(f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test", schema=schema)

    async def begin(self) -> None:
        await self.proxy.go_down()

    async def end(self) -> None:
        await self.proxy.come_back()
