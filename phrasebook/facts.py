"""The values a draft is filled with, formatted for its reader's language (Babel): money like
`€1,200.50` in English and `1 200,50 €` in Norwegian, long localised dates, declined day counts.
Optional values are None when unknown, never the text "None"."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from babel.dates import format_date, format_timedelta

from bot.models import Customer, Invoice, Person, Team
from handlers.money import format_money


def days_text(days: int, language: str) -> str:
    if language == "nb":  # Babel says "døgn" (24-hour periods); invoices count "dager"
        return f"{days} dag" if days == 1 else f"{days} dager"
    return format_timedelta(timedelta(days=days), granularity="day", threshold=100000, locale=language)


def long_date(day: date | None, language: str) -> str | None:
    return format_date(day, format="long", locale=language) if day else None


def draft_facts(
    *, invoice: Invoice, customer: Customer, sender: Person, team: Team, language: str, today: date,
    deadline: date | None = None, payment_details: str | None = None,
) -> dict[str, Any]:
    overdue = max((today - invoice.due_date).days, 0)
    until = max((invoice.due_date - today).days, 0)
    return {
        "customer": customer.name,
        "contact_name": customer.contact_name or None,
        "invoice_number": invoice.number,
        "amount": format_money(invoice.amount, invoice.currency, language),
        "balance": format_money(invoice.balance, invoice.currency, language),
        "partially_paid": invoice.balance < invoice.amount,
        "currency": invoice.currency,
        "due_date": long_date(invoice.due_date, language),
        "days_overdue": overdue,
        "days_overdue_text": days_text(overdue, language),
        "days_until_due": until,
        "days_until_due_text": days_text(until, language),
        "deadline": long_date(deadline, language),
        "promised_date": long_date(invoice.promised_date, language),
        "our_company": team.name,
        "sender_name": sender.display_name,
        "payment_details": payment_details or None,
    }
