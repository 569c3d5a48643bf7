"""Alembic environment: migrations run on the engine the application hands over.

On SQLite, foreign keys are off while migrating: batch mode rebuilds a table by copying it and
dropping the old one, which SQLite refuses for a table other rows point at (the downgrades of
0002 rebuild `invoice` and `ladder_step`). They are switched on again afterwards."""
from alembic import context
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import bot.store.stored_state  # noqa: F401

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
