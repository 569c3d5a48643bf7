"""People type amounts and dates in many ways; the bot reads the clear ones and explains the rest."""
from datetime import date
from decimal import Decimal

import pytest

from bot.floor.dates import parse_date
from bot.floor.errors import UsageError
from bot.floor.money import check_amount, format_money, parse_amount, parse_currency
from tests.support import ChatDriver

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize("typed", ["1200.50", "1,200.50", "1 200,50", "1.200,50", "1\u00a0200,50", "1200,50", "1200.5"])
def test_amounts_in_every_common_notation_are_read_as_the_same_number(typed: str) -> None:
    assert parse_amount(typed) == Decimal("1200.50")


@pytest.mark.parametrize("typed,expected", [
    ("1,234,567.89", "1234567.89"), ("1.234.567,89", "1234567.89"), ("12 345 678,90", "12345678.90"),
    ("1 234.56", "1234.56"), ("1.234.567", "1234567"), ("0.5", "0.5"), ("75", "75"),
])
def test_grouped_and_plain_amounts_are_read_exactly(typed: str, expected: str) -> None:
    assert parse_amount(typed) == Decimal(expected)


@pytest.mark.parametrize("typed", ["1,200", "1.200", "12.345"])
def test_an_amount_that_could_be_thousands_or_a_fraction_is_refused_with_both_readings(typed: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_amount(typed)
    whole = typed.replace(",", "").replace(".", "")
    assert "ambiguous" in refused.value.problem
    assert whole in refused.value.problem
    assert refused.value.example


@pytest.mark.parametrize("typed", ["abc", "12,00,000", "1,2,3", "-5", "1 2", "1.2.3,4.5", "€", "1e5"])
def test_malformed_amounts_are_refused_with_an_example(typed: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_amount(typed)
    assert refused.value.example.startswith("/add ")


def test_amounts_must_be_positive_within_the_limit_and_in_the_currencys_minor_units() -> None:
    limit = Decimal("1000000")
    assert check_amount(Decimal("100"), "JPY", limit) == Decimal("100")
    assert check_amount(Decimal("1.234"), "BHD", limit) == Decimal("1.234")
    for amount, currency, reason in [
        (Decimal("0"), "EUR", "above zero"),
        (Decimal("2000000"), "EUR", "above the limit"),
        (Decimal("100.5"), "JPY", "JPY has 0 decimal places"),
        (Decimal("10.005"), "EUR", "EUR has 2 decimal places"),
    ]:
        with pytest.raises(UsageError, match=reason):
            check_amount(amount, currency, limit)


def test_currency_codes_are_checked_against_iso_4217() -> None:
    assert parse_currency("nok") == "NOK"
    assert parse_currency("€") == "EUR"
    with pytest.raises(UsageError, match="ISO 4217"):
        parse_currency("EUX")


def test_money_is_written_in_the_readers_locale() -> None:
    assert format_money(Decimal("1200.50"), "EUR", "en") == "€1,200.50"
    assert format_money(Decimal("1200.50"), "EUR", "nb") == "1\u00a0200,50\u00a0€"


@pytest.mark.parametrize("typed,expected", [
    ("2026-12-01", date(2026, 12, 1)), ("01.12.2026", date(2026, 12, 1)), ("1.2.2027", date(2027, 2, 1)),
    ("+30d", date(2026, 12, 24)), ("+0d", TODAY), ("today", TODAY), ("tomorrow", date(2026, 11, 25)),
])
def test_due_dates_are_read_in_iso_dotted_and_relative_forms(typed: str, expected: date) -> None:
    assert parse_date(typed, TODAY, "/add …") == expected


@pytest.mark.parametrize("typed,reason", [
    ("2026-02-30", "February 2026 has 28 days"),
    ("31.04.2026", "April 2026 has 30 days"),
    ("2026-13-01", "no month 13"),
    ("2026/12/01", "not a date I can read"),
    ("next week", "not a date I can read"),
    ("2050-01-01", "more than 10 years away"),
])
def test_impossible_or_unreadable_dates_are_explained(typed: str, reason: str) -> None:
    with pytest.raises(UsageError, match=reason) as refused:
        parse_date(typed, TODAY, "/add INV-1 10 2026-12-01 Acme")
    assert refused.value.example == "/add INV-1 10 2026-12-01 Acme"


@pytest.mark.parametrize("language,limit,amount", [
    ("en_GB", "€1,000,000,000.00", "€5,000,000,000.00"), ("ru", "1\u00a0000\u00a0000\u00a0000,00\u00a0€", "5\u00a0000\u00a0000\u00a0000,00\u00a0€"),
    ("nb", "1\u00a0000\u00a0000\u00a0000,00\u00a0€", "5\u00a0000\u00a0000\u00a0000,00\u00a0€"),
    ("bg", "1\u00a0000\u00a0000\u00a0000,00\u00a0€", "5\u00a0000\u00a0000\u00a0000,00\u00a0€"),
])
def test_the_amount_limit_is_written_as_the_reader_writes_money(team: ChatDriver, language: str, limit: str, amount: str) -> None:
    team.say("bob", f"/team set {'locale' if '_' in language else 'lang'}={language}")
    refusal = team.say("bob", "/add INV-9 5000000000 EUR 2026-12-01 Acme")
    assert limit in refusal and amount in refusal, refusal
