"""`collectbot backup`: a consistent copy of the SQLite database while the bot keeps running.

SQLite's online backup API copies the database page by page under its own locking, so the copy is
a consistent snapshot even while the bot writes (copying the file with `cp` during a write, or
without its `-wal` file, is not). PostgreSQL is backed up with its own tools (pg_dump /
pg_restore); `postgres_commands` says exactly which.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import URL, make_url

PAGES_PER_STEP = 1024
"""Pages copied between lock releases: writers wait at most one step (a few ms) at a time."""


class BackupError(ValueError):
    """What went wrong and what to do, in plain words."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    invoices: int
    integrity: str


def sqlite_path(database_url: str) -> Path | None:
    """The file behind an SQLite URL, None for other databases."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has no file to back up; set DATABASE_URL=sqlite:///collectbot.db")
    return Path(url.database)


def default_destination(source: Path, now: datetime) -> Path:
    return source.with_name(f"{source.stem}-{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}.db")


def backup_sqlite(source: Path, destination: Path) -> BackupResult:
    """Copy `source` to `destination` with the online backup API, then check the copy."""
    if not source.is_file():
        raise BackupError(f"there is no database file at {source}; check DATABASE_URL")
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose another name or remove it first")
    if not destination.parent.is_dir():
        raise BackupError(f"the folder {destination.parent} does not exist; create it first")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    reader, writer = sqlite3.connect(source, timeout=30), sqlite3.connect(partial)
    try:
        reader.backup(writer, pages=PAGES_PER_STEP)
    finally:
        reader.close()
        writer.close()
    try:
        integrity, invoices = verify(partial)
    except sqlite3.DatabaseError as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy could not be read back ({error}); the source may be damaged: "
                          f"run `sqlite3 {source} 'PRAGMA integrity_check'`") from error
    if integrity != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy fails SQLite's integrity check ({integrity}); the source may be damaged: "
                          f"run `sqlite3 {source} 'PRAGMA integrity_check'` and restore an earlier backup")
    partial.rename(destination)
    return BackupResult(destination, destination.stat().st_size, invoices, integrity)


def verify(path: Path) -> tuple[str, int]:
    """SQLite's own integrity check, and how many invoices the copy holds."""
    copy = sqlite3.connect(path)
    try:
        integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
        has_invoices = copy.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'invoice'").fetchone()[0]
        invoices = copy.execute("SELECT count(*) FROM invoice").fetchone()[0] if has_invoices else 0
    finally:
        copy.close()
    return str(integrity), int(invoices)


def postgres_commands(database_url: str) -> list[str]:
    """The pg_dump / pg_restore lines for this database (password left to PGPASSWORD or ~/.pgpass)."""
    given = make_url(database_url)
    plain = URL.create("postgresql", given.username, None, given.host, given.port, given.database,
                       given.query).render_as_string(hide_password=False)
    return [
        f"pg_dump --format=custom --file=collectbot-$(date -u +%Y%m%d-%H%M%S).dump '{plain}'",
        f"pg_restore --clean --if-exists --no-owner --dbname='{plain}' collectbot-YYYYmmdd-HHMMSS.dump",
    ]
