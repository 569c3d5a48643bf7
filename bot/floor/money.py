"""Reading amounts as people type them and writing them back in the reader's locale (Babel).

A command passes its own example, shown with any error; without one the `/add` example is shown.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    list_currencies,
    parse_decimal,
)

from bot.floor.errors import UsageError

AMOUNT_EXAMPLE = "/add INV-1042 1200.50 EUR 2026-12-01 Acme Trading Ltd"
AMOUNT_FORMS = "1200.50, 1,200.50, 1 200,50 or 1.200,50"
"""How an amount may be typed, for help texts."""
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_ALLOWED = re.compile(r"^[0-9.,]+$")
_CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₽": "RUB"}
_NBSP = "\u00a0"
_LOCALE_BY_SEPARATORS = {
    # (decimal, group) -> a Babel locale whose number symbols are exactly those
    (".", ","): "en_US",
    (",", "."): "de_DE",
    (",", _NBSP): "nb_NO",
}


def parse_amount(text: str, example: str = AMOUNT_EXAMPLE) -> Decimal:
    """Read `1200.50`, `1,200.50`, `1 200,50` or `1.200,50`; refuse `1,200` rather than guess."""
    raw = text.strip()
    has_space_groups = bool(_SPACES.search(raw))
    compact = _SPACES.sub("", raw)
    if compact.startswith("-"):
        raise UsageError(f"The amount {raw!r} is negative; an invoice amount must be above zero.", example)
    if not compact or not _ALLOWED.match(compact) or not compact[0].isdigit() or not compact[-1].isdigit():
        raise UsageError(f"{raw!r} is not an amount. Write digits with an optional decimal part, like 1200.50 or 1 200,50.", example)
    decimal_mark, group_mark = _separators(raw, compact, has_space_groups, example)
    if group_mark == " ":
        group_mark = "," if decimal_mark == "." else _NBSP
        babel_text = _SPACES.sub(group_mark, raw)
    else:
        babel_text = compact
    locale = _LOCALE_BY_SEPARATORS[(decimal_mark, group_mark)]
    try:
        return parse_decimal(babel_text, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation) as error:
        raise UsageError(
            f"{raw!r} is not a well-formed amount: digit groups must have three digits (1,200,000.50).",
            example,
        ) from error


def _separators(raw: str, compact: str, has_space_groups: bool, example: str) -> tuple[str, str]:
    """Decide which mark is the decimal one; fail when a reader could take it either way."""
    commas, dots = compact.count(","), compact.count(".")
    if commas and dots:
        decimal_mark = "," if compact.rfind(",") > compact.rfind(".") else "."
        return decimal_mark, "." if decimal_mark == "," else ","
    if has_space_groups:
        if dots > 1 or commas > 1:
            raise UsageError(f"{raw!r} mixes space and dot/comma grouping.", example)
        return ("." if dots else ","), " "
    mark = "," if commas else "." if dots else None
    if mark is None:
        return ".", ","
    count = compact.count(mark)
    if count > 1:
        return ("," if mark == "." else "."), mark
    digits_after = len(compact) - compact.rfind(mark) - 1
    if digits_after == 3:
        as_whole = compact.replace(mark, "")
        as_fraction = Decimal(compact.replace(mark, ".")).normalize()
        raise UsageError(
            f"The amount {raw!r} is ambiguous: it could mean {as_whole} or {as_fraction}. "
            f"Write {as_whole} without a separator (or {as_whole}.00) if you mean {as_whole}.",
            example,
        )
    return mark, ("." if mark == "," else ",")


def check_amount(amount: Decimal, currency: str, maximum: Decimal, example: str = AMOUNT_EXAMPLE) -> Decimal:
    """An invoice amount must be positive, within the limit and in the currency's minor units."""
    if amount <= 0:
        raise UsageError(f"The amount must be above zero, not {amount}.", example)
    if amount > maximum:
        raise UsageError(
            f"{format_money(amount, currency)} is above the limit of {format_money(maximum, currency)} per invoice. "
            "Check for an extra digit.",
            example,
        )
    precision = get_currency_precision(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-precision)):
        raise UsageError(
            f"{currency} has {precision} decimal place{'s' if precision != 1 else ''}; {amount} has more.",
            example,
        )
    return amount


def is_currency_code(text: str) -> bool:
    return text.strip() in _CURRENCY_SYMBOLS or (len(text) == 3 and text.isalpha())


def parse_currency(text: str, example: str = AMOUNT_EXAMPLE) -> str:
    """An ISO 4217 code (`EUR`, `nok`) or one of the unambiguous symbols (€, $, £)."""
    code = _CURRENCY_SYMBOLS.get(text.strip(), text.strip().upper())
    if code not in list_currencies():
        raise UsageError(
            f"{text!r} is not a currency code I know. Use the three-letter ISO 4217 code, such as EUR, USD, NOK or GBP.",
            example,
        )
    return code


def format_money(amount: Decimal, currency: str, locale: str = "en") -> str:
    return format_currency(amount, currency, locale=locale)
