"""/rates: exchange rates a manager gives, so summaries can add a converted total in the team's
currency. Without a rate for every currency there is no converted total (never a silent sum)."""
from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision
from sqlmodel import col, select

from bot.i18n import _, ngettext
from bot.store.models import ExchangeRate
from handlers.context import Context
from bot.floor.errors import UsageError
from handlers.grammar import Command
from bot.floor.money import parse_currency
from bot.floor.reply import Reply, Table

RATES_EXAMPLE = "/rates EUR NOK 11.50 USD NOK 10.80"


def rates_example(team_currency: str) -> str:
    """The example in the team's own currency, quoting two currencies that are not it."""
    if team_currency == "NOK":
        return RATES_EXAMPLE
    first, second = [code for code in ("EUR", "USD", "GBP") if code != team_currency][:2]
    return f"/rates {first} {team_currency} 11.50 {second} {team_currency} 10.80"
RATES_USAGE = "/rates | /rates <currency> <team currency> <rate>… | /rates clear | /rates with a CSV file (currency,quote,rate)"


def rates_command(command: Command, ctx: Context) -> Reply:
    words = list(command.words)
    if not words and not command.files:
        return show_rates(ctx)
    if words == ["clear"]:
        for stored_rate in ctx.session.exec(select(ExchangeRate).where(ExchangeRate.team_id == ctx.team.id)):
            ctx.session.delete(stored_rate)
        return Reply(title=_("Exchange rates cleared")).say(_("Summaries show one total per currency only."))
    triples = parse_triples(words, ctx) + [t for f in command.files for t in parse_rates_file(f.content, ctx)]
    for currency, rate in triples:
        stored = ctx.session.get(ExchangeRate, (ctx.team.id, currency))
        if stored is None:
            stored = ExchangeRate(team_id=ctx.team.id, currency=currency, quote_currency=ctx.team.default_currency,  # type: ignore[arg-type]
                                  rate=str(rate), set_by=ctx.person.id, set_at=ctx.now)
        else:
            stored.rate, stored.set_by, stored.set_at = str(rate), ctx.person.id, ctx.now
        ctx.session.add(stored)
    ctx.session.flush()
    reply = show_rates(ctx)
    reply.title = ngettext("{n} rate saved", "{n} rates saved", len(triples))
    return reply


def parse_triples(words: list[str], ctx: Context) -> list[tuple[str, Decimal]]:
    if len(words) % 3:
        raise UsageError(ngettext(
            "Give rates as threes: currency, the team's currency ({currency}) and the rate; {text!r} has {n} word.",
            "Give rates as threes: currency, the team's currency ({currency}) and the rate; {text!r} has {n} words.",
            len(words), currency=ctx.team.default_currency, text=" ".join(words)),
            rates_example(ctx.team.default_currency))
    return [parse_rate(words[i], words[i + 1], words[i + 2], ctx) for i in range(0, len(words), 3)]


def parse_rate(currency_text: str, quote_text: str, rate_text: str, ctx: Context) -> tuple[str, Decimal]:
    example = f"/rates USD {ctx.team.default_currency} 0.92"
    currency, quote = parse_currency(currency_text, example), parse_currency(quote_text, example)
    if quote != ctx.team.default_currency:
        raise UsageError(_("Rates convert into the team's currency, {currency}, not {other}.", currency=ctx.team.default_currency,
                           other=quote), example)
    if currency == quote:
        raise UsageError(_("{currency} needs no rate: it is the team's currency.", currency=currency), example)
    try:
        rate = Decimal(rate_text.replace(",", "."))
    except InvalidOperation as error:
        raise UsageError(_("{text!r} is not a rate; write it like 11.50.", text=rate_text), example) from error
    if not rate.is_finite() or rate <= 0 or rate.as_tuple().exponent < -8:  # type: ignore[operator]
        raise UsageError(_("A rate must be above zero with at most 8 decimals, not {text!r}.", text=rate_text), example)
    return currency, rate


def parse_rates_file(content: bytes, ctx: Context) -> list[tuple[str, Decimal]]:
    rows = [row for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) if any(cell.strip() for cell in row)]
    if rows and rows[0][0].strip().lower() == "currency":
        rows = rows[1:]
    result = []
    for line, row in enumerate(rows, start=1):
        if len(row) != 3:
            raise UsageError(ngettext("Line {line} of the rates file has {n} column; it needs currency,quote,rate.",
                                      "Line {line} of the rates file has {n} columns; it needs currency,quote,rate.",
                                      len(row), line=line),
                             f"EUR,{ctx.team.default_currency},11.50")
        currency_text, quote_text, rate_text = (cell.strip() for cell in row)
        result.append(parse_rate(currency_text, quote_text, rate_text, ctx=ctx))
    return result


def team_rates(ctx: Context) -> dict[str, Decimal]:
    return {rate.currency: Decimal(rate.rate) for rate in ctx.session.exec(
        select(ExchangeRate).where(ExchangeRate.team_id == ctx.team.id, ExchangeRate.quote_currency == ctx.team.default_currency))}


def converted_total(totals: dict[str, Decimal], rates: dict[str, Decimal], into: str) -> tuple[Decimal | None, list[str]]:
    """The sum in `into`, or None with the currencies that lack a rate."""
    missing = sorted(currency for currency in totals if currency != into and currency not in rates)
    if missing:
        return None, missing
    total = sum((amount if currency == into else amount * rates[currency] for currency, amount in totals.items()), Decimal(0))
    return total.quantize(Decimal(1).scaleb(-get_currency_precision(into)), ROUND_HALF_UP), []


def show_rates(ctx: Context) -> Reply:
    rates = list(ctx.session.exec(select(ExchangeRate).where(ExchangeRate.team_id == ctx.team.id).order_by(col(ExchangeRate.currency))))
    reply = Reply(title=_("Exchange rates into {currency}", currency=ctx.team.default_currency))
    if not rates:
        return reply.say(_("None yet. Managers set them with {example}.",
                           example=rates_example(ctx.team.default_currency)))
    return reply.add(Table((_("Currency"), _("Rate"), _("Set")), tuple(
        (f"1 {rate.currency}", f"{rate.rate} {rate.quote_currency}",
         rate.set_at.date().isoformat()) for rate in rates)))
