"""The phrasebook linter: renders every variant with adversarial facts and finds what a native
credit controller would not send.

Facts: a partial payment and none; a named contact (with and without a known form of address) and
none; a long company name; every currency in each supported locale; dates that end a sentence
(Russian and Bulgarian "г."); payment details on and off; a subscription invoice.

Each problem names the variant's file:line, the fact set and what is wrong. The checks:
- glued sentences: a sentence running into the next without a space ("…4520261130.Hilsen");
- doubled punctuation ("г..", ",,", " ,");
- placeholders: "(ая)", "[name]", "{{", "<name>", "XXX", template words left in the text;
- a final warning that names no date (the deadline must appear);
- a partial payment hidden: what was invoiced, received and remains must all appear (not in a
  dispute draft, which asks for no payment and must not show where to pay);
- a part-paid invoice treated as lost ("the invoice may not have reached you") or as unpaid ("we
  have not received payment");
- the balance said twice: a sentence already says what remains, then the balance note says it again
  (such a draft uses `paid_note`, what was invoiced and received);
- an unpaid amount said twice in one sentence ("invoice X for £740.00 … £740.00 remains unpaid");
- an opening line that starts with a small letter ("господин Соколов, добрый день!"); "№ №";
- a written final warning that does not say it with regret (the ladder's style rule);
- payment details run into a sentence ("to our account, Konto 1506…"): they are free text, so they
  stand on a labelled line ("Payment details: …", "Реквизиты для оплаты: …");
- "in 1 day" / "через 1 день" / "om 1 dag" / "след 1 ден" instead of tomorrow;
- English: "Good day" on the phone, an American "Sincerely," closing a British letter;
- a company greeted as a person (the customer's name in the opening line);
- a settings default or a chat handle reaching the customer ("Our company", "alice");
- a written message signed without a closing line ("Kind regards,", "Med vennlig hilsen", "С уважением,");
- each language's own rules from its style guide (`phrases/<language>/STYLE.md`): words that must
  not appear (English "penalties", Norwegian reminder fees "from the due date"), and words the legal
  stages must carry (the Norwegian inkassovarsel's collection costs, the Russian claim's contract and
  pre-trial period, English interest on late payment, Bulgarian законна лихва);
- "statutory" interest in a locale where no statute sets it (en_US: `late_interest`).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from bot.store.models import Customer, Invoice, Person, Role, Team
from phrasebook.book import Phrasebook
from phrasebook.facts import STATUTORY_INTEREST, draft_facts

DEFAULT_WORDS = ("Our company", "our company", "Наша компания", "«Our", "Vårt firma", "Нашата фирма", "@alice", "alice",
                 "None", "[name]", "Company Name")
GLUED = re.compile(r"[a-zа-яёæøåäö0-9%)»”][.!?;:][A-ZА-ЯЁÆØÅ«\"]")
DOUBLED = re.compile(r"(?<!\.)\.\.(?!\.)|,,|;;|::|!!|\?\?|,\.|\.,(?<![гвд]\.,)|\s[,.;:!?]|[,;:][.!?]")
PLACEHOLDERS = re.compile(r"\((?:ая|ый|а|на|ите|ия)\)|\[[^\]:]*\]|\{\{|\}\}|\{%|<[a-z_]+>|XXX|TODO|\bN/A\b", re.IGNORECASE)
LOCALES = ("en_GB", "en_US", "en_IE", "nb_NO", "ru_RU", "bg_BG")
CURRENCIES = ("EUR", "NOK", "GBP", "USD", "RUB", "BGN", "SEK", "JPY")
LONG_NAME = "Nordvestlandets Elektro- og Automasjonsentreprenør Holding AS"


@dataclass(frozen=True)
class LanguageRules:
    forbidden: tuple[str, ...] = ()
    """Regular expressions no draft in the language may match (case-insensitive)."""
    required: tuple[tuple[str, str, str], ...] = ()
    """(stage, channels, regular expression): each variant of the stage in those channels must match."""


RULES: dict[str, LanguageRules] = {
    "en": LanguageRules(
        forbidden=(r"\bpenalt", r"(?<!a )\bgood day\b", r"Dear (?:Sir or Madam|[^,]+) Ltd", r"Dear \w+ \w+ \w+ \w+,"),
        required=(("final_warning", "letter", r"statutory|interest"),
                  ("final_warning", "message letter", r"regret|sorry|unfortunately|with reluctance|last thing we want"),
                  ("legal_handover", "call message letter", r"our (?:own )?account"),
                  ("dispute", "message letter", r"what (?:exactly )?(?:went wrong|is wrong|is not as agreed)|which (?:part|items)"),
                  ("dispute", "message letter", r"\b(?:call|meeting|meet)\b"),
                  ("dispute", "message letter", r"reminders?\b[^.]*(?:on hold|no further|not send)|(?:no further|not send) reminders"))),
    "nb": LanguageRules(
        forbidden=(r"gebyr[^.]*fra forfall", r"Hei [A-ZÆØÅ][\w-]+ [A-ZÆØÅ][\w-]+,", r"\bstraff"),
        required=(("final_warning", "message letter", r"inkasso"),
                  ("final_warning", "message letter", r"dessverre|beklag|ikke noe vi ønsker"),
                  ("final_warning", "message letter", r"kostnad|salær|omkostning"),
                  ("final_warning", "letter", r"inkassovarsel"),
                  ("legal_handover", "call message letter", r"(?:vår|egen) konto|kontoen vår"),
                  ("dispute", "message letter", r"hva som (?:har gått galt|er feil|ikke er som avtalt|avviker)"),
                  ("dispute", "message letter", r"samtale|møte"),
                  ("dispute", "message letter", r"purring"))),
    "ru": LanguageRules(
        forbidden=(r"Уважаем(?:ый|ая)\s*\(", r"\(ая\)", r"Здравствуйте, (?!господин |госпожа )\w+ (?!\w*(?:вич|вна|чна)\b)\w+[.!]",
                   r"\b(?:хотел|хотела|звонил|звонила|писал|писала|рад|рада|благодарен|благодарна|решила|решил)\b",
                   r"компани[яи] «Our"),
        required=(("final_warning", "letter", r"претензи"),
                  ("final_warning", "message letter", r"сожален|вынужден|жаль"),
                  ("final_warning", "letter", r"договор"),
                  ("final_warning", "letter", r"30|тридцат"),
                  ("legal_handover", "call message letter", r"наш расчётный сч"),
                  ("dispute", "message letter", r"что именно|что не соответствует|в чём (?:проблема|их отличие)"),
                  ("dispute", "message letter", r"созвон|звон|встреч|разговор"),
                  ("dispute", "message letter", r"напоминани"))),
    "bg": LanguageRules(
        forbidden=(r"задължителен погасителен план", r"Уважаеми\(а\)", r"Уважаема г-н", r"Уважаеми г-жо", r"\(а\)",
                   r"Обажда се[^.\n]*\.\s*Обаждам се",
                   r"\b(?:сигурен|сигурна|благодарен|благодарна)\b"),
        required=(("final_warning", "letter", r"покана|доброволно"),
                  ("final_warning", "message letter", r"съжал|принуден"),
                  ("final_warning", "message letter", r"законн\w* лихв"),
                  ("legal_handover", "call message letter", r"нашата (?:банкова )?сметка"),
                  ("dispute", "message letter", r"какво (?:се е объркало|не отговаря)|какъв е проблемът|с какво се отклоняват"),
                  ("dispute", "message letter", r"разговор|среща"),
                  ("dispute", "message letter", r"напомняния"))),
}


CLOSINGS = {
    "en": r"(?:regards|wishes|thanks|sincerely|faithfully|thank you|all the best)[,!.]?",
    "nb": r"(?:hilsen|takk)[,!.]?",
    "ru": r"(?:с уважением|спасибо|с наилучшими пожеланиями|благодарим|всего доброго)[,!.]?",
    "bg": r"(?:с уважение|поздрави|благодарим|всичко хубаво|хубав ден)[,!.]?",
}
"""How a written message signs off in each language: the line right above the signature."""
SHORT_WISH = re.compile(r"[^.?\n]{3,60}!")
"""A short warm wish closes a message too ("Thank you, and have a good day!", "Спасибо и хорошего дня!")."""

LOST_INVOICE = {
    "en": r"may not have reached you|went missing|gone astray|(?:invoice|it) (?:may have been|was|got|has been) lost"
          r"|did(?:n't| not) reach you|not received the invoice|if it has not reached you",
    "ru": r"затеря|потерял|не дош[её]л|не получили сч[её]т",
    "nb": r"kommet bort|ikke (?:har )?kommet fram|ikke har fått fakturaen",
    "bg": r"изгуб|не е пристигнала|не е стигнала|не сте получили фактурата",
}
"""An invoice that may have been lost: not something to say once part of it has been paid."""
NO_PAYMENT = {
    "en": r"(?:not|n't) (?:yet )?(?:received|had|seen) (?:the |any )?payment"
          r"(?! of (?:the )?(?:remaining|outstanding|rest|(?:[A-Z]{3}\s)?\S*\d))",
    "ru": r"не получили (?:ни )?оплат|оплата (?:так и )?не поступила|платёж не поступил",
    "nb": r"ikke (?:har )?mottatt (?:noen )?betaling\b|verken mottatt betaling",
    "bg": r"не сме получили (?:нито )?плащане\b|плащане не е постъпило",
}
"""Saying no payment came, when part of the invoice was paid."""

TOTAL_PHRASES = {
    "en": r"(?:invoice \S+ (?:for|of)|in the amount of|totalling|(?<!open )(?<!outstanding )(?<!remaining )\bamount of) {balance}",
    "ru": r"(?:на сумму|в размере|сумма счёта) {balance}",
    "nb": r"(?:faktura \S+ på|pålydende|fakturabeløpet) {balance}",
    "bg": r"(?:на стойност|на сума|в размер на) {balance}",
}
"""How each language presents an invoice's total: with a partial payment, the balance must not stand there."""


@dataclass(frozen=True)
class Scenario:
    label: str
    language: str
    locale: str
    currency: str
    amount: Decimal
    balance: Decimal
    contact: dict[str, str | None]
    customer: str
    payment_details: str | None
    ladder: str = "standard"


def scenarios(language: str) -> Iterator[Scenario]:
    """The adversarial fact sets for one language: every currency and locale of the language, partial
    payments and none, contact known fully, partly and not at all, a long company name, payment
    details on and off, a subscription ladder."""
    locales = [locale for locale in LOCALES if locale.startswith(language + "_")] or [language]
    contacts: list[dict[str, str | None]] = [
        {"contact_name": None},
        {"contact_name": "Marte Haugland"},
        {"contact_given": "Ольга", "contact_family": "Петрова", "contact_patronymic": "Николаевна", "contact_gender": "female"},
        {"contact_given": "James", "contact_family": "O'Neill", "contact_title": "Mr"},
        {"contact_family": "Соколов", "contact_gender": "male"},
    ]
    for index, currency in enumerate(CURRENCIES):
        locale = locales[index % len(locales)]
        contact = contacts[index % len(contacts)]
        partial = index % 2 == 0
        who = " ".join(value for value in contact.values() if value) or "no contact"
        yield Scenario(label=f"{locale} {currency} {'partial payment' if partial else 'unpaid'}, {who}",
                       language=language, locale=locale, currency=currency,
                       amount=Decimal("125000.00") if currency != "JPY" else Decimal("125000"),
                       balance=Decimal("31.00") if partial else Decimal("125000"),
                       contact=contact, customer=LONG_NAME if index % 3 == 0 else "Haugen Elektro AS",
                       payment_details="Bankkonto 1503.12.34567, KID 4520261130" if index % 2 else None,
                       ladder="subscription" if index == 3 else "standard")


def facts_for(scenario: Scenario, stage: str) -> dict[str, Any]:
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    team = Team(name="Nordlys Regnskap AS", default_currency="EUR", default_timezone="Europe/Oslo", default_country="NO",
                locale=scenario.locale, created_at=created)
    customer = Customer(team_id=1, name=scenario.customer, name_key="x", country="NO", locale=scenario.locale,
                        created_at=created)
    for field, value in scenario.contact.items():
        setattr(customer, field, value)
    sender = Person(team_id=1, handle="alice", display_name="alice", signature_name="Carol Lindqvist",
                    job_title="Credit Controller", role=Role.COLLECTOR, timezone="Europe/Oslo", created_at=created)
    invoice = Invoice(team_id=1, number="INV-2026-0042", customer_id=1, amount=scenario.amount, balance=scenario.balance,
                      currency=scenario.currency, due_date=date(2026, 11, 16), owner_id=1, ladder=scenario.ladder,
                      created_at=created, promised_date=date(2026, 11, 27) if stage == "broken_promise" else None)
    deadline = date(2026, 12, 14) if stage in ("final_warning", "first_reminder", "repeat_reminder", "broken_promise") else None
    return draft_facts(invoice=invoice, customer=customer, sender=sender, team=team, language=scenario.language,
                       today=date(2026, 11, 30), deadline=deadline, payment_details=scenario.payment_details)


def lint(book: Phrasebook) -> list[str]:
    """Every problem in every variant of every language, one line each."""
    problems: list[str] = []
    facts_cache: dict[tuple[str, str], dict[str, Any]] = {}
    for (language, stage, tone, channel), variants in sorted(book.entries.items()):
        for scenario in scenarios(language):
            facts = facts_cache.get((scenario.label, stage))
            if facts is None:
                facts = facts_cache[(scenario.label, stage)] = facts_for(scenario, stage)
            for variant in variants:
                rendered = book.render(variant, facts)
                text = f"{rendered.subject}\n{rendered.text}" if rendered.subject else rendered.text
                for problem in text_problems(text, rendered.text, facts, language, stage, channel):
                    problems.append(f"{variant.source}: {language} {stage}/{tone}/{channel} {variant.id!r} "
                                    f"[{scenario.label}]: {problem}")
    return sorted(set(problems))


def text_problems(text: str, body: str, facts: dict[str, Any], language: str, stage: str, channel: str) -> list[str]:
    problems: list[str] = []
    plain = text.replace("\xa0", " ").replace("\u202f", " ")
    for name, pattern in (("glued sentences", GLUED), ("doubled punctuation", DOUBLED), ("a placeholder", PLACEHOLDERS)):
        if match := pattern.search(plain):
            problems.append(f"{name}: …{excerpt(plain, match.start())}…")
    for word in DEFAULT_WORDS:
        if re.search(rf"(?<![\w@]){re.escape(word)}(?!\w)", text):
            problems.append(f"a default or chat handle reaches the customer: {word!r}")
    if stage == "final_warning" and facts["deadline"] and facts["deadline"] not in text:
        problems.append(f"a final warning without its date ({facts['deadline']})")
    if stage == "dispute" and facts["payment_details"] and facts["payment_details"] in text:
        problems.append("a dispute draft asks for payment (it shows the payment details)")
    if facts["partially_paid"] and stage not in ("thank_you", "dispute"):
        missing = [name for name in ("amount", "paid", "balance") if facts[name] not in text]
        if missing:
            problems.append(f"a partial payment is hidden: {', '.join(missing)} not shown")
        if stage in ("first_reminder", "repeat_reminder", "final_warning", "legal_handover") and \
                (match := re.search(LOST_INVOICE.get(language, "$^"), text, re.IGNORECASE)):
            problems.append(f"a part-paid invoice treated as lost: {match.group(0)!r}")
        if stage != "broken_promise" and (match := re.search(NO_PAYMENT.get(language, "$^"), text, re.IGNORECASE)):
            problems.append(f"a part-paid invoice said to have had no payment: {match.group(0)!r}")
        total = TOTAL_PHRASES.get(language)
        if total and (match := re.search(total.format(balance=re.escape(facts["balance"])), text, re.IGNORECASE)):
            problems.append(f"the remaining balance is shown as the invoice's total: {match.group(0)!r}")
    problems.extend(repetition_problems(body, facts))
    if channel == "message" and facts.get("signature") and (signed := unsigned_message(body, facts["signature"], language)):
        problems.append(f"a message signed without a closing line: …{signed!r}")
    if match := re.search(r"\b(?:in 1 day|через 1 день|om 1 dag|след 1 ден)\b", plain):
        problems.append(f"'{match.group(0)}' where a native says tomorrow (use due_in)")
    if "№ №" in plain or "№№" in plain:
        problems.append("the number sign doubled: '№ №'")
    no_statute = facts.get("late_interest", STATUTORY_INTEREST) != STATUTORY_INTEREST
    if no_statute and (match := re.search(r"\bstatutory\b[^.]*", text, re.IGNORECASE)):
        problems.append(f"statutory interest where no statute sets it (say `late_interest`): {match.group(0)!r}")
    if language == "en" and channel == "letter" and re.search(r"^Sincerely,$", body, re.MULTILINE) and facts["yours"] != "Sincerely,":
        problems.append(f"an American 'Sincerely,' in a {facts['yours']!r} letter (close with `yours`)")
    opening = body.splitlines()[0] if body else ""
    if opening[:1].islower():
        problems.append(f"the opening line starts with a small letter: {opening!r}")
    if facts["customer"] in opening:
        problems.append(f"the company is greeted as a person: {opening!r}")
    details = facts["payment_details"]
    if details and (at := text.find(details)) > 0 and ((text[at - 2: at] != ": " and text[at - 1] != "\n")
                                                      or not re.match(r"\.?[ \t]*(?:\n|$)", text[at + len(details):])):
        problems.append(f"the payment details run into a sentence: …{excerpt(plain, at)}… (give them their own labelled line)")
    if facts["payment_details"] and stage in ("final_warning", "legal_handover") and channel != "call" \
            and facts["payment_details"] not in text:
        problems.append("a legal-stage draft does not say where to pay")
    rules = RULES.get(language, LanguageRules())
    for forbidden in rules.forbidden:
        if match := re.search(forbidden, text, re.IGNORECASE):
            problems.append(f"against the {language} style guide: {match.group(0)!r}")
    for rule_stage, channels, required in rules.required:
        if stage == rule_stage and channel in channels.split() and not re.search(required, text, re.IGNORECASE):
            problems.append(f"the {language} style guide requires /{required}/ in a {stage} {channel}")
    return problems


SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n")


def repetition_problems(body: str, facts: dict[str, Any]) -> list[str]:
    """The balance said twice: before the balance note and in it; an unpaid amount twice in one sentence."""
    plain = body.replace("\xa0", " ").replace("\u202f", " ")
    problems: list[str] = []
    note = facts.get("balance_note")
    balance = facts["balance"].replace("\xa0", " ").replace("\u202f", " ")
    if facts["partially_paid"] and note:
        at = plain.find(note.replace("\xa0", " ").replace("\u202f", " "))
        if at > 0 and balance in plain[:at]:
            problems.append(f"the balance {balance} is said before the balance note and again in it (use paid_note)")
    if not facts["partially_paid"]:
        for sentence in SENTENCE_END.split(plain):
            if sentence.count(balance) > 1:
                problems.append(f"the unpaid amount is said twice in one sentence: {sentence.strip()!r}")
                break
    return problems


def unsigned_message(body: str, signature: str, language: str) -> str | None:
    """The line above the signature when it is no closing ("Kind regards,", "С уважением,"), else None."""
    lines = body.splitlines()
    first = signature.splitlines()[0]
    if first not in lines:
        return None
    at = lines.index(first)
    above = lines[at - 1] if at else ""
    closing = CLOSINGS.get(language)
    if closing is None or re.search(rf"(?:^|\W){closing}$", above, re.IGNORECASE) or SHORT_WISH.fullmatch(above):
        return None
    return above


def excerpt(text: str, at: int) -> str:
    return text[max(at - 25, 0): at + 25].replace("\n", "⏎")
