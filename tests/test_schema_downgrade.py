"""Schema changes can be undone: `alembic downgrade base` then `upgrade head`, with data in the
tables, on SQLite and PostgreSQL (finding 17)."""
from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect
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
