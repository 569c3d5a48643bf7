"""The schema comes from Alembic and keeps money exact and times aware on both databases."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from bot.floor.clock import MovableClock
from bot.store.database import normalise_database_url, upgrade_schema
from bot.store.models import Customer, Invoice, Person, Role, Team
from handlers.core import Core


def test_migrations_build_exactly_the_schema_the_models_describe(core: Core, engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(core: Core, engine: Engine) -> None:
    upgrade_schema(engine)
    upgrade_schema(engine)


def make_invoice(session: Session, number: str, amount: Decimal, at: datetime) -> Invoice:
    team = session.exec(select(Team)).first() or Team(
        name="t", default_currency="EUR", default_timezone="Europe/Oslo", default_country="NO", created_at=at
    )
    session.add(team)
    session.flush()
    person = session.exec(select(Person)).first() or Person(
        team_id=team.id, handle="p", display_name="p", role=Role.SALESPERSON, timezone="Europe/Oslo", created_at=at
    )
    session.add(person)
    session.flush()
    customer = Customer(team_id=team.id, name=number, name_key=number, country="NO", created_at=at)
    session.add(customer)
    session.flush()
    invoice = Invoice(
        team_id=team.id, number=number, customer_id=customer.id, amount=amount, balance=amount, currency="EUR",
        due_date=date(2026, 12, 1), owner_id=person.id, ladder="standard", created_at=at,
    )
    session.add(invoice)
    session.commit()
    return invoice


def test_money_round_trips_exactly_and_sums_exactly(core: Core, engine: Engine, clock: MovableClock) -> None:
    amounts = [Decimal("0.1"), Decimal("0.2"), Decimal("999999999.99"), Decimal("1.2345")]
    with Session(engine) as session:
        for index, amount in enumerate(amounts):
            make_invoice(session, f"M-{index}", amount, clock.now())
    with Session(engine) as session:
        stored = [invoice.amount for invoice in session.exec(select(Invoice).order_by(Invoice.number))]
        total = session.exec(select(func.sum(Invoice.amount))).one()
    assert stored == amounts
    assert all(isinstance(amount, Decimal) for amount in stored)
    assert total == sum(amounts) == Decimal("1000000001.5245")


def test_more_than_four_decimal_places_are_refused_rather_than_rounded(core: Core, engine: Engine, clock: MovableClock) -> None:
    with Session(engine) as session, pytest.raises(Exception, match="more than 4 decimal places"):
        make_invoice(session, "M-x", Decimal("1.23456"), clock.now())


def test_times_come_back_aware_and_in_utc(core: Core, engine: Engine) -> None:
    oslo_evening = datetime(2026, 3, 29, 23, 30, tzinfo=timezone(timedelta(hours=2)))
    with Session(engine) as session:
        make_invoice(session, "T-1", Decimal("1"), oslo_evening)
    with Session(engine) as session:
        stored = session.exec(select(Invoice)).one().created_at
    assert stored == oslo_evening
    assert stored.tzinfo == timezone.utc


def test_naive_times_are_never_stored(core: Core, engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(Exception, match="naive datetimes are not stored"):
        make_invoice(session, "T-2", Decimal("1"), datetime(2026, 1, 1, 12, 0))


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert normalise_database_url("postgresql://u@127.0.0.1:5432/db").startswith("postgresql+psycopg://")
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
