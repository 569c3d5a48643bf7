"""The values a draft is filled with, formatted for its reader's language and locale (Babel): money
like `€1,200.50` in English and `1 200,50 €` in Norwegian, long localised dates, declined day
counts; the salutation by the language's rule; what was invoiced, received and remains; the
sender's signature. Optional values are None when unknown, never the text "None"."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_timedelta

from bot.store.models import Customer, Invoice, Person, Team
from bot.floor.money import format_money
from phrasebook.book import NAMELESS_SENDER
from phrasebook.salutations import contact_from, salutation
from phrasebook.legal import final_deadline
from scheduling.notice import MINIMUM_NOTICE_DAYS

LOCALES = ("en_GB", "en_US", "en_IE", "nb_NO", "ru_RU", "bg_BG")
"""The locales a team or a customer can choose; a draft in another language uses that language's own."""
DEFAULT_COMPANY_NAMES = frozenset({"our company", "my company", "company", "team"})
"""Names that are settings defaults, never a company's real name: drafts leave them out."""
PRETRIAL_DAYS = MINIMUM_NOTICE_DAYS["RU"]
"""Russian law: the pre-trial claim period before a court claim, unless the contract sets another."""
LATE_INTEREST = {"en_US": "interest as permitted by law"}
"""How an English draft names interest on late payment, per locale: statutory interest where one
statute sets it (the UK's Late Payment of Commercial Debts (Interest) Act 1998, Ireland's Late
Payment Regulations 2012); in the US no single statute does — the contract and each state's law
decide."""
STATUTORY_INTEREST = "statutory interest"
SUBSCRIPTION_LADDER = "subscription"
LATE_FEE_DAYS = 10
SUSPENSION_DAYS = 20
"""The subscription ladder's late fee and suspension: calendar days after the due date, as its steps
count them (`scheduling/ladders/subscription.yaml`, `day_count: calendar`), so a draft names the day
the ladder acts on."""
NUMBER_PREFIX = re.compile(r"^\s*(?:№|#|No\.|Nr\.)\s*", re.IGNORECASE)
"""A number stored with its own sign ("№ 318", "No. 318"): templates write "счёт № …" themselves."""


def days_text(days: int, language: str) -> str:
    if language == "nb":  # Babel says "døgn" (24-hour periods); invoices count "dager"
        return f"{days} dag" if days == 1 else f"{days} dager"
    return format_timedelta(timedelta(days=days), granularity="day", threshold=100000, locale=language)


DUE_IN = {
    "en": ("today", "tomorrow", "in {days}"), "ru": ("сегодня", "завтра", "через {days}"),
    "nb": ("i dag", "i morgen", "om {days}"), "bg": ("днес", "утре", "след {days}"),
}


def due_in(days: int, language: str) -> str:
    """When an invoice falls due, as a sentence says it: "tomorrow", never "in 1 day"."""
    today, tomorrow, later = DUE_IN.get(language, DUE_IN["en"])
    return today if days <= 0 else tomorrow if days == 1 else later.format(days=days_text(days, language))


def long_date(day: date | None, locale: str) -> str | None:
    return format_date(day, format="long", locale=locale) if day else None


CODE_AGAINST_DIGIT = re.compile(r"^(-?)([A-Z]{3})(?=\d)")


def money(amount: Decimal, currency: str, locale: str) -> str:
    """Babel's English patterns glue a currency code to the number ("NOK125,000.00"); in a draft a
    code is a word and takes a no-break space: "NOK 125,000.00". Symbols stay as they are ("€1,200.50")."""
    return CODE_AGAINST_DIGIT.sub(lambda m: f"{m.group(1)}{m.group(2)}\u00a0", format_money(amount, currency, locale))


def locale_for(language: str, *choices: str | None) -> str:
    """The first chosen locale that writes this language (the customer's, then the team's), else the
    language's own."""
    for choice in choices:
        if choice and choice.split("_")[0] == language:
            return choice
    return language


def company_name(person: Person, team: Team) -> str | None:
    for name in (person.company_name, team.name):
        if name and name.strip().lower() not in DEFAULT_COMPANY_NAMES:
            return name.strip()
    return None


def signer_name(person: Person) -> str | None:
    """The name drafts are signed with: the signature name, else the display name unless it is just
    the chat handle."""
    if person.signature_name:
        return person.signature_name
    shown = (person.display_name or "").strip()
    return shown if shown and shown.lstrip("@").lower() != person.handle.lower() else None


def signature_lines(person: Person, team: Team) -> list[str]:
    return [line for line in (signer_name(person), person.job_title, company_name(person, team)) if line]


def introduction(name: str | None, company: str | None, language: str) -> str:
    """How the caller or writer presents themselves in a sentence: "Carol Berg from Nordlys AS"."""
    joiner = {"en": " from ", "nb": " fra ", "ru": ", ", "bg": " от "}.get(language, ", ")
    if name and company:
        return f"{name}{joiner}{company}"
    return name or company or NAMELESS_SENDER.get(language, "")


PAID_NOTES = {
    "en": "We have received {paid} of the {amount} invoiced, thank you.",
    "ru": "По счёту выставлено {amount}, получено {paid} — спасибо.",
    "nb": "Av fakturabeløpet på {amount} har vi mottatt {paid}, takk for det.",
    "bg": "От фактурираните {amount} сме получили {paid}, за което благодарим.",
}
"""What was invoiced and received, for a draft whose own sentence already says what remains: the
balance note would say the balance twice."""

BALANCE_NOTES = {
    "en": "Of the {amount} invoiced, we have received {paid} (thank you); {balance} remains outstanding.",
    "ru": "По счёту выставлено {amount}, получено {paid} — спасибо; остаток к оплате составляет {balance}.",
    "nb": "Av fakturabeløpet på {amount} har vi mottatt {paid}, takk for det. Det gjenstår {balance}.",
    "bg": "От фактурираните {amount} сме получили {paid}, за което благодарим; остават за плащане {balance}.",
}


def draft_facts(
    *, invoice: Invoice, customer: Customer, sender: Person, team: Team, language: str, today: date,
    deadline: date | None = None, payment_details: str | None = None,
) -> dict[str, Any]:
    locale = locale_for(language, customer.locale, team.locale)
    overdue = max((today - invoice.due_date).days, 0)
    until = max((invoice.due_date - today).days, 0)
    partially_paid = Decimal(0) < invoice.balance < invoice.amount
    amount, balance = money(invoice.amount, invoice.currency, locale), money(invoice.balance, invoice.currency, locale)
    paid = money(invoice.amount - invoice.balance, invoice.currency, locale) if partially_paid else None
    contact = contact_from(full=customer.contact_name, given=customer.contact_given, family=customer.contact_family,
                           patronymic=customer.contact_patronymic, title=customer.contact_title,
                           gender=customer.contact_gender, language=language)
    greeting = salutation(contact, language, locale)
    company = company_name(sender, team)
    subscription = invoice.ladder == SUBSCRIPTION_LADDER
    return {
        "customer": customer.name,
        "contact_name": greeting.name,
        "first_name": greeting.first_name,
        "dear": greeting.dear,
        "hello": greeting.hello,
        "yours": greeting.yours,
        "invoice_number": NUMBER_PREFIX.sub("", invoice.number) or invoice.number,
        "amount": amount,
        "paid": paid,
        "balance": balance,
        "partially_paid": partially_paid,
        "balance_note": BALANCE_NOTES.get(language, BALANCE_NOTES["en"]).format(amount=amount, paid=paid, balance=balance)
        if partially_paid else None,
        "paid_note": PAID_NOTES.get(language, PAID_NOTES["en"]).format(amount=amount, paid=paid) if partially_paid else None,
        "currency": invoice.currency,
        "due_date": long_date(invoice.due_date, locale),
        "days_overdue": overdue,
        "days_overdue_text": days_text(overdue, language),
        "days_until_due": until,
        "days_until_due_text": days_text(until, language),
        "due_in": due_in(until, language),
        "deadline": long_date(deadline, locale),
        "promised_date": long_date(invoice.promised_date, locale),
        "our_company": company,
        "sender_name": signer_name(sender),
        "me": introduction(signer_name(sender), company, language),
        "signature": "\n".join(signature_lines(sender, team)) or None,
        "payment_details": payment_details or None,
        "contract": customer.contract or None,
        "pretrial_days": PRETRIAL_DAYS,
        "claim_days": (final_deadline(today, None, customer.country) - today).days,
        "late_interest": LATE_INTEREST.get(locale, STATUTORY_INTEREST),
        "late_fee_date": long_date(invoice.due_date + timedelta(days=LATE_FEE_DAYS), locale) if subscription else None,
        "suspension_date": long_date(invoice.due_date + timedelta(days=SUSPENSION_DAYS), locale) if subscription else None,
    }
