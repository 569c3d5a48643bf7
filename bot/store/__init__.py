"""The store: SQLModel tables, engine and sessions, stored interaction state, Alembic migrations.
It imports only the floor."""
