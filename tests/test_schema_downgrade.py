"""Schema changes can be undone: `alembic downgrade base` then `upgrade head`, with data in the
tables, on SQLite and PostgreSQL (finding 17)."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from bot.store.database import alembic_config
from bot.store.models import Invoice, LadderStep, StepKind
from tests.support import ChatDriver


def test_a_database_with_invoices_and_added_steps_downgrades_to_nothing_and_upgrades_again(team: ChatDriver, engine: Engine) -> None:
    team.say("bob", "/add INV-1 1200 EUR 2026-12-10 Acme")
    team.say("bob", "/add INV-2 300 EUR 2026-12-20 Fjord AS")
    disputed = team.say("alice", "/dispute INV-1 the goods never arrived")
    assert "INV-1" in disputed, disputed
    with Session(engine) as session:
        kinds = set(session.exec(select(LadderStep.kind)))
    assert StepKind.DISPUTE in kinds or len(kinds) > 1, "the dispute added a step of its own kind"
    config = alembic_config(engine)

    command.downgrade(config, "0001")
    with engine.connect() as connection:
        assert "instalment" not in inspect(connection).get_table_names()
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Invoice)).one() == 2, "the invoices survive the downgrade"

    command.downgrade(config, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}

    command.upgrade(config, "head")
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert {"invoice", "ladder_step", "interaction_state", "lease"} <= tables
    team.say("alice", "/start")


def test_an_old_database_with_two_teams_of_one_name_upgrades_and_the_oldest_team_keeps_its_name(engine: Engine) -> None:
    config = alembic_config(engine)
    command.upgrade(config, "0006")
    team = sa.table("team", *(sa.column(name) for name in (
        "id", "name", "default_currency", "default_timezone", "default_country", "default_language", "default_ladder",
        "created_at")))
    defaults = {"default_currency": "EUR", "default_timezone": "Europe/Oslo", "default_country": "NO",
                "default_language": "en", "default_ladder": "standard", "created_at": datetime(2026, 11, 1, 9, 0)}
    with engine.begin() as connection:  # two first messages at once, before names were unique; and a team already called "Acme (2)"
        connection.execute(sa.insert(team), [{"id": 1, "name": "Acme", **defaults}, {"id": 2, "name": "Acme (2)", **defaults},
                                             {"id": 3, "name": "Acme", **defaults}, {"id": 4, "name": "Acme", **defaults}])

    command.upgrade(config, "head")

    with engine.connect() as connection:
        names = dict(connection.execute(sa.select(team.c.id, team.c.name).order_by(team.c.id)).all())
    assert names == {1: "Acme", 2: "Acme (2)", 3: "Acme (3)", 4: "Acme (4)"}, "renamed in order of creation, no name taken twice"
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(team), [{"id": 5, "name": "Acme", **defaults}])
    command.downgrade(config, "0006")
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(team)).scalar_one() == 4, "no team was lost"
