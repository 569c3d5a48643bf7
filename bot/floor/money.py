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

from bot.i18n import N_, _, current_language, locale_for, ngettext
from bot.floor.errors import UsageError

AMOUNT_EXAMPLE = "/add INV-1042 1200.50 EUR 2026-12-01 Acme Trading Ltd"
AMOUNT_FORMS = N_("1200.50, 1,200.50, 1 200,50 or 1.200,50")
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
        raise UsageError(_("The amount {amount!r} is negative; an invoice amount must be above zero.", amount=raw), example)
    if not compact or not _ALLOWED.match(compact) or not compact[0].isdigit() or not compact[-1].isdigit():
        raise UsageError(_("{amount!r} is not an amount. Write digits with an optional decimal part, like 1200.50 or 1 200,50.",
                           amount=raw), example)
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
            _("{amount!r} is not a well-formed amount: digit groups must have three digits (1,200,000.50).", amount=raw),
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
            raise UsageError(_("{amount!r} mixes space and dot/comma grouping.", amount=raw), example)
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
            _("The amount {amount!r} is ambiguous: it could mean {whole} or {fraction}. "
              "Write {whole} without a separator (or {whole}.00) if you mean {whole}.",
              amount=raw, whole=as_whole, fraction=as_fraction),
            example,
        )
    return mark, ("." if mark == "," else ",")


def check_amount(amount: Decimal, currency: str, maximum: Decimal, example: str = AMOUNT_EXAMPLE,
                 locale: str | None = None) -> Decimal:
    """An invoice amount must be positive, within the limit and in the currency's minor units; a
    refusal writes money in `locale` (default: the current speaker's usual one)."""
    if amount <= 0:
        raise UsageError(_("The amount must be above zero, not {amount}.", amount=amount), example)
    if amount > maximum:
        shown = locale or locale_for(current_language())
        raise UsageError(
            _("{amount} is above the limit of {limit} per invoice. Check for an extra digit.",
              amount=format_money(amount, currency, shown), limit=format_money(maximum, currency, shown)),
            example,
        )
    precision = get_currency_precision(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-precision)):
        raise UsageError(
            ngettext("{currency} has {n} decimal place; {amount} has more.", "{currency} has {n} decimal places; {amount} has more.",
                     precision, currency=currency, amount=amount),
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
            _("{text!r} is not a currency code I know. Use the three-letter ISO 4217 code, such as EUR, USD, NOK or GBP.", text=text),
            example,
        )
    return code


_CODE_AGAINST_DIGIT = re.compile(r"^(-?)([A-Z]{3})(?=\d)")


def format_money(amount: Decimal, currency: str, locale: str = "en_US") -> str:
    """The amount as the reader's locale writes it (Babel): "€1,200.50", "NOK 1,500.00" (en_GB),
    "1 500,00 kr" (nb_NO). A currency code is a word and takes a no-break space before the number,
    as CLDR's currency spacing says (Babel's English patterns glue it: "NOK1,500.00")."""
    shown = format_currency(amount, currency, locale=locale)
    return _CODE_AGAINST_DIGIT.sub(lambda m: f"{m.group(1)}{m.group(2)}\u00a0", shown)
