"""Is the database schema current? Answered without importing Alembic (a quarter of a second at
start-up): the newest revision is read from the migration files, the applied one from the
database's `alembic_version` table. Anything unclear answers "not current", and Alembic decides."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+?)\s*$", re.MULTILINE)


def head_revisions(folder: Path = VERSIONS) -> frozenset[str]:
    """Revisions no other migration builds on (one, while the chain is linear)."""
    revisions, parents = revision_graph(folder)
    return frozenset(revisions - parents)


def known_revisions(folder: Path = VERSIONS) -> frozenset[str]:
    return frozenset(revision_graph(folder)[0])


def revision_graph(folder: Path = VERSIONS) -> tuple[set[str], set[str]]:
    """Every revision in the migration files, and those that another one builds on."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("*.py"):
        found = dict((name, ast.literal_eval(value)) for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        if not isinstance(found.get("revision"), str):
            continue
        revisions.add(found["revision"])
        down = found.get("down_revision")
        parents.update([down] if isinstance(down, str) else list(down or ()))
    return revisions, parents


def applied_revisions(engine: Engine) -> frozenset[str] | None:
    """What `alembic_version` holds, or None when the table is missing or unreadable."""
    try:
        with engine.connect() as connection:
            return frozenset(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    except sa.exc.SQLAlchemyError:
        return None


def schema_is_current(engine: Engine) -> bool:
    heads = head_revisions()
    return bool(heads) and applied_revisions(engine) == heads
