"""Random drafts for a native read (issue 14): `python -m phrasebook.review_sample en,nb,ru,bg [seed]` prints 30
per language, every stage, tone and channel, with partial payments, full-name contacts, payment details on
and off, and Norwegian, Russian, Bulgarian and English teams. Seeds 14 and 2026 are the samples judged
in the issue-14 report (send-as-is counts before and after)."""
from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal

from bot.store.models import Customer, Invoice, Person, Role, Team
from phrasebook.book import STAGES, Rendered, load_phrasebook, shape_of
from phrasebook.facts import draft_facts

created = datetime(2026, 1, 1, tzinfo=timezone.utc)
TEAMS = {
    "nb": ("Nordlys Regnskap AS", "nb_NO", "NO", "NOK", ("Kari Nordmann", "Regnskapsansvarlig")),
    "ru": ("ООО «Северный ветер»", "ru_RU", "RU", "RUB", ("Анна Смирнова", "Менеджер по работе с дебиторской задолженностью")),
    "bg": ("Балкан Софт ООД", "bg_BG", "BG", "EUR", ("Мария Иванова", "Финансов мениджър")),
    "en": ("Oakridge Supplies Ltd", "en_GB", "GB", "GBP", ("Carol Lindqvist", "Credit Controller")),
}
CONTACTS = {
    "en": [dict(contact_name="James O'Neill", contact_given="James", contact_family="O'Neill", contact_title="Mr"),
           dict(contact_name="Sarah Evans", contact_given="Sarah", contact_family="Evans", contact_gender="female"), {}],
    "nb": [dict(contact_name="Marte Haugland"), dict(contact_name="Ole Johansen", contact_given="Ole", contact_family="Johansen"), {}],
    "ru": [dict(contact_given="Ольга", contact_family="Петрова", contact_patronymic="Николаевна", contact_gender="female"),
           dict(contact_given="Сергей", contact_family="Иванов", contact_patronymic="Петрович", contact_gender="male"), {}],
    "bg": [dict(contact_given="Мария", contact_family="Петрова", contact_title="г-жа"),
           dict(contact_given="Георги", contact_family="Димитров", contact_gender="male"), {}],
}
CUSTOMERS = {"en": ["Oakfield Farms Ltd", "Brightwater Logistics plc"], "nb": ["Haugen Elektro AS", "Fjord Bygg AS"],
             "ru": ["ООО «Вектор»", "АО «Уралтехснаб»"], "bg": ["Тракия Логистик ЕООД", "Стройинвест АД"]}
STAGE_LIST = [s for s in STAGES]
LATIN_SIGNERS = {"nb": ("Kari Nordmann", "Accounts Receivable"), "ru": ("Anna Smirnova", "Accounts Receivable Manager"),
                 "bg": ("Maria Ivanova", "Finance Manager"), "en": ("Carol Lindqvist", "Credit Controller")}


def sample(language: str, seed: int, count: int = 30) -> Iterator[tuple[int, str, Rendered]]:
    rng = random.Random(seed)
    rng.choice(list(TEAMS))  # kept so that seeds 14 and 2026 give the samples the report judged
    book = load_phrasebook(required=("en", "ru", "nb", "bg"))
    for index in range(count):
        team_language = rng.choice(list(TEAMS))
        team_name, team_locale, _, currency, (signer, title) = TEAMS[team_language]
        stage = rng.choice(STAGE_LIST)
        tones, channels = shape_of(stage)
        tone, channel = rng.choice(tones), rng.choice(channels)
        variants = book.variants(language, stage, tone, channel)
        variant = rng.choice(variants)
        amount = Decimal(rng.choice(["12500.00", "4800.00", "125000.00", "960.50"]))
        partial = rng.random() < 0.4
        balance = (amount * Decimal("0.4")).quantize(Decimal("0.01")) if partial and stage != "thank_you" else amount
        if stage == "thank_you":
            balance = Decimal(0)
        contact = rng.choice(CONTACTS[language])
        details = rng.random() < 0.5
        locale = {"en": rng.choice(["en_GB", "en_US", "en_IE"]), "nb": "nb_NO", "ru": "ru_RU", "bg": "bg_BG"}[language]
        team = Team(name=team_name, default_currency=currency, default_timezone="Europe/Oslo", default_country="NO",
                    locale=team_locale, created_at=created)
        country = {"en": "GB", "nb": "NO", "ru": "RU", "bg": "BG"}[language]
        customer = Customer(team_id=1, name=rng.choice(CUSTOMERS[language]), name_key="x", country=country, locale=locale,
                            created_at=created, contract=("№ 12/2026 от 1 марта 2026 г." if language == "ru" and rng.random() < .5 else None),
                            **contact)
        if team_language != language:
            signer, title = LATIN_SIGNERS[team_language] if language in ("en", "nb") else (signer, title)
            if language in ("ru", "bg") and team_language in ("en", "nb"):
                signer, title = {"ru": ("Карол Линдквист", "Специалист по расчётам"), "bg": ("Карол Линдквист", "Финансов експерт")}[language]
            if language in ("ru", "bg") and team_language in ("ru", "bg"):
                signer, title = TEAMS[team_language][4]
        sender = Person(team_id=1, handle="carol", display_name="carol", signature_name=signer, job_title=title,
                        role=Role.COLLECTOR, timezone="Europe/Oslo", created_at=created)
        cur = rng.choice([currency, {"en": "GBP", "nb": "NOK", "ru": "RUB", "bg": "EUR"}[language]])
        invoice = Invoice(team_id=1, number=f"{rng.randint(1000, 9999)}", customer_id=1, amount=amount, balance=balance,
                          currency=cur, due_date=date(2026, 11, 16), owner_id=1, ladder=rng.choice(["standard"] * 4 + ["subscription"]),
                          created_at=created, promised_date=date(2026, 11, 27) if stage == "broken_promise" else None)
        today = date(2026, 11, 30) if stage not in ("pre_due", "due_today") else (date(2026, 11, 12) if stage == "pre_due" else date(2026, 11, 16))
        deadline = date(2026, 12, 16) if stage in ("final_warning", "first_reminder", "repeat_reminder", "broken_promise") else None
        facts = draft_facts(invoice=invoice, customer=customer, sender=sender, team=team, language=language, today=today,
                            deadline=deadline, payment_details=("Kontonr. 1503.12.34567, KID 4520261130" if details else None))
        rendered = book.render(variant, facts)
        yield index + 1, f"{stage}/{tone}/{channel} {variant.id} team={team_language} partial={partial} contact={bool(contact)} pay={details}", rendered


if __name__ == "__main__":
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 14
    for language in sys.argv[1].split(","):
        for number, label, rendered in sample(language, seed):
            print(f"### {language}-{number} {label}")
            if rendered.subject:
                print(f"Subject: {rendered.subject}")
            print(rendered.text)
            print()
