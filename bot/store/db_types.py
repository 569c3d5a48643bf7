"""Column types that keep money exact and times aware on SQLite and PostgreSQL alike."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

AMOUNT_SCALE = 4
_SCALE_FACTOR = Decimal(10) ** AMOUNT_SCALE


class ExactAmount(TypeDecorator[Decimal]):
    """A Decimal stored as a whole number of ten-thousandths.

    SQLite has no exact decimal type (its NUMERIC affinity turns values into floats), so the
    amount is kept as an integer on both databases; sums stay exact and comparable in SQL.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: object) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * _SCALE_FACTOR
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {AMOUNT_SCALE} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: object) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)) / _SCALE_FACTOR


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as naive UTC so SQLite and PostgreSQL compare it the same way."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: attach a time zone first")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)
