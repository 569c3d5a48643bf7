"""One team per name: two first messages at the same moment cannot create two teams.

A database from before this revision may already hold teams of one name (that race): they are
renamed first, deterministically — the oldest team (lowest id, the one the bot works with) keeps
its name, each later one gets "<name> (2)", "<name> (3)" … in order of creation, skipping names
already taken. Nothing is merged or deleted; an admin can rename or remove the extra teams.

Revision ID: 0010
Revises: 0004
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def renamed_duplicates(teams: list[tuple[int, str]]) -> dict[int, str]:
    """New names for the teams (id, name) whose name an older team already has."""
    taken = {name for _, name in teams}
    seen: set[str] = set()
    renamed: dict[int, str] = {}
    for team_id, name in sorted(teams):
        if name not in seen:
            seen.add(name)
            continue
        number = 2
        while f"{name} ({number})" in taken:
            number += 1
        renamed[team_id] = f"{name} ({number})"
        taken.add(renamed[team_id])
    return renamed


def upgrade() -> None:
    team = sa.table('team', sa.column('id', sa.Integer()), sa.column('name', sa.String()))
    connection = op.get_bind()
    teams = [(row.id, row.name) for row in connection.execute(sa.select(team.c.id, team.c.name))]
    for team_id, name in renamed_duplicates(teams).items():
        connection.execute(sa.update(team).where(team.c.id == team_id).values(name=name))
    with op.batch_alter_table('team') as batch:
        batch.create_unique_constraint('uq_team_name', ['name'])


def downgrade() -> None:
    with op.batch_alter_table('team') as batch:
        batch.drop_constraint('uq_team_name', type_='unique')
