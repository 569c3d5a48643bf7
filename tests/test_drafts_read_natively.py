"""Drafts a native credit controller sends unchanged (issue 14): each class of defect the review
found has a story here, and the linter that guards the whole phrasebook runs in CI."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.floor.clock import MovableClock
from bot.store.models import Customer, Invoice, Person, Role, Team
from handlers.drafts import MOVED_DEADLINE, draft_deadline
from handlers.grammar import parse_command
from phrasebook.book import NAMELESS_SENDER, SAMPLE_BARE_FACTS, Phrasebook, Variant, load_phrasebook, tidy
from phrasebook.facts import days_text, draft_facts, due_in, long_date, money
from phrasebook.legal import final_deadline
from phrasebook.linter import facts_for, lint, scenarios, text_problems
from phrasebook.salutations import contact_from, salutation
from scheduling.business_calendar import add_business_days
from scheduling.policies import load_policies
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier, refused
from tests.test_ladder_course import deliver_at

CREATED = datetime(2026, 1, 1, tzinfo=OSLO)


def greeting(language: str, locale: str | None = None, **contact: str | None) -> tuple[str, str]:
    parts = contact_from(full=contact.get("full"), given=contact.get("given"), family=contact.get("family"),
                         patronymic=contact.get("patronymic"), title=contact.get("title"), gender=contact.get("gender"),
                         language=language)
    found = salutation(parts, language, locale or {"en": "en_GB"}.get(language, language))
    return found.dear, found.hello


def one_variant(text: str) -> Phrasebook:
    book = Phrasebook()
    book.entries[("en", "first_reminder", "warm", "message")] = [Variant("v", (("text", text),), "test.yaml:1")]
    return book


def draft_text(driver: ChatDriver) -> str:
    """The draft exactly as the customer would read it (the first block of the last reply)."""
    assert driver.last is not None
    return driver.last.blocks[0].text  # type: ignore[union-attr]


def flat(reply: str) -> str:
    """The console wraps long lines; read the reply as one line of single spaces."""
    return " ".join(reply.replace("\xa0", " ").split())


# -- the linter, as CI runs it -------------------------------------------------------------------

@pytest.mark.slow
def test_every_shipped_variant_passes_the_linter_in_all_four_languages() -> None:
    book = load_phrasebook(required=("en", "ru", "nb", "bg"))
    assert book.languages == ["bg", "en", "nb", "ru"]
    assert lint(book) == []


@pytest.mark.parametrize(("template", "problem"), [
    ("{{ hello }}\nPayment details: {{ payment_details }}.Kind regards, {{ signature }}", "glued sentences"),
    ("{{ hello }}\nPlease pay {{ balance }} by {{ deadline }},. Thanks!!", "doubled punctuation"),
    ("Уважаемый(ая) {{ customer }}! Please pay {{ amount }}, {{ paid }}, {{ balance }}.", "a placeholder"),
    ("Hello [name], please pay {{ amount }}, {{ paid }}, {{ balance }}.", "a placeholder"),
    ("Dear {{ customer }},\nPlease pay {{ amount }}, {{ paid }}, {{ balance }}.", "the company is greeted as a person"),
    ("{{ hello }}\nInvoice {{ invoice_number }} for {{ balance }} is overdue.", "a partial payment is hidden"),
    ("{{ hello }}\nInvoice {{ invoice_number }} for {{ balance }} is overdue; {{ amount }} {{ paid }}.",
     "shown as the invoice's total"),
    ("{{ hello }}\nPlease pay {{ amount }}, {{ paid }}, {{ balance }}.\nOur company", "a default or chat handle"),
    ("{{ hello }}\nPlease pay {{ amount }}, {{ paid }}, {{ balance }} or penalties apply.", "against the en style guide"),
    ("{{ hello }}\nPlease pay {{ amount }}, {{ paid }}, {{ balance }}.\n{{ signature }}", "signed without a closing line"),
])
def test_the_linter_finds_each_class_the_review_found(template: str, problem: str) -> None:
    book = one_variant(template)
    found = lint(book)
    assert any(problem in line for line in found), found
    assert all(line.startswith("test.yaml:1: en first_reminder/warm/message 'v' [") for line in found)


def test_the_linter_refuses_a_final_warning_without_its_date() -> None:
    facts = facts_for(next(scenarios("en")), "final_warning")
    problems = text_problems("Dear Sir or Madam,\nUnless it is settled, we will have to act.", "Dear Sir or Madam,",
                             facts, "en", "final_warning", "letter")
    assert any("a final warning without its date" in problem for problem in problems)


def test_the_linter_holds_norwegian_and_russian_legal_minimums() -> None:
    norwegian = facts_for(next(scenarios("nb")), "final_warning")
    nb_problems = text_problems(f"Hei,\nBetal innen {norwegian['deadline']}.", "Hei,", norwegian, "nb", "final_warning", "letter")
    assert any("inkassovarsel" in problem for problem in nb_problems) and any("kostnad" in problem for problem in nb_problems)
    fee = text_problems(f"Hei,\nEt purregebyr påløper fra forfallsdato. {norwegian['deadline']}", "Hei,", norwegian, "nb",
                        "first_reminder", "message")
    assert any("against the nb style guide" in problem for problem in fee)
    russian = facts_for(next(scenarios("ru")), "final_warning")
    ru_problems = text_problems(f"Добрый день!\nОплатите до {russian['deadline']}.", "Добрый день!", russian, "ru",
                                "final_warning", "letter")
    assert {"претензи", "договор", "30|тридцат"} <= {p.split("/")[1] for p in ru_problems if "requires" in p}


def test_the_linter_holds_english_and_bulgarian_legal_wording() -> None:
    english = facts_for(next(scenarios("en")), "final_warning")
    en_problems = text_problems(f"Dear Sir or Madam,\nPlease pay by {english['deadline']}.", "Dear Sir or Madam,", english,
                                "en", "final_warning", "letter")
    assert any("statutory|interest" in problem for problem in en_problems), en_problems
    bulgarian = facts_for(next(scenarios("bg")), "final_warning")
    bg_problems = text_problems(f"Здравейте,\nМоля, платете до {bulgarian['deadline']}.", "Здравейте,", bulgarian, "bg",
                                "final_warning", "letter")
    assert {"покана|доброволно", "законн\\w* лихв"} <= {p.split("/")[1] for p in bg_problems if "requires" in p}, bg_problems


def test_the_second_native_read_classes_are_caught_by_the_linter() -> None:
    bulgarian = facts_for(next(scenarios("bg")), "first_reminder")
    twice = text_problems("Добър ден. Обажда се Мария.\nОбаждам се за фактура № 1.", "Добър ден.", bulgarian, "bg",
                          "first_reminder", "call")
    assert any("against the bg style guide" in problem for problem in twice), twice
    signed = text_problems(f"Здравейте,\nМоля, платете.\nС уважение,\n{bulgarian['signature']}",
                           f"Здравейте,\nМоля, платете.\nС уважение,\n{bulgarian['signature']}", bulgarian, "bg",
                           "first_reminder", "message")
    assert not any("closing line" in problem for problem in signed), signed


def test_the_independent_review_classes_are_caught_by_the_linter() -> None:
    """Seed-7 review: the balance said before the balance note and again in it; an unpaid invoice's amount
    twice in one sentence; an opening line in small letters; "№ №"; "Good day" and an American closing in
    a British letter."""
    partial = facts_for(next(scenarios("en")), "first_reminder")
    assert partial["partially_paid"]
    said = f"Hello,\nInvoice 1 was due and {partial['balance']} remains unpaid.\n{partial['balance_note']}"
    twice = text_problems(said, said, partial, "en", "first_reminder", "message")
    assert any("said before the balance note and again in it" in problem for problem in twice), twice
    said = f"Hello,\nInvoice 1 was due and {partial['balance']} remains unpaid.\n{partial['paid_note']}"
    once = text_problems(said, said, partial, "en", "first_reminder", "message")
    assert not any("again in it" in problem for problem in once), once
    unpaid = [s for s in scenarios("en") if not s.balance < s.amount][0]
    whole = facts_for(unpaid, "repeat_reminder")
    repeated = f"Dear Sir or Madam,\nInvoice 1 for {whole['amount']} fell due, and {whole['balance']} remains unpaid."
    assert any("said twice in one sentence" in problem
               for problem in text_problems(repeated, repeated, whole, "en", "repeat_reminder", "letter"))
    russian = facts_for(next(scenarios("ru")), "first_reminder")
    small = "господин Соколов, добрый день!\nСчёт № № 318 не оплачен."
    found = text_problems(small, small, russian, "ru", "first_reminder", "message")
    assert any("small letter" in problem for problem in found) and any("№ №" in problem for problem in found), found
    call = "Good day, Carol from Nordlys.\nI'm calling about invoice 1."
    assert any("style guide" in problem for problem in text_problems(call, call, partial, "en", "first_reminder", "call"))
    for language, curt in (("en", "Please pay by {deadline} or we go to court."), ("ru", "Оплатите до {deadline}, иначе суд."),
                           ("nb", "Inkassovarsel: betal innen {deadline}, ellers inkasso med kostnader."),
                           ("bg", "Платете до {deadline}, иначе съд и законна лихва.")):
        final = facts_for(next(scenarios(language)), "final_warning")
        text = "X\n" + curt.format(deadline=final["deadline"])
        assert any("requires" in problem and "final_warning message" in problem and ("regret" in problem or "жаль" in problem
                   or "beklag" in problem or "съжал" in problem)
                   for problem in text_problems(text, text, final, language, "final_warning", "message")), language
    for language, lost, unpaid in (("en", "The invoice may not have reached you.", "We have not received payment of invoice 1."),
                                   ("ru", "Может быть, счёт до вас не дошёл?", "Мы не получили оплату по счёту 1."),
                                   ("nb", "Har fakturaen kommet bort?", "Vi har ikke mottatt betaling for faktura 1."),
                                   ("bg", "Възможно е фактурата да не е стигнала до Вас.", "Не сме получили плащане по фактура 1.")):
        paid_part = facts_for(next(scenarios(language)), "first_reminder")
        assert paid_part["partially_paid"]
        shown = f"{paid_part['amount']} {paid_part['paid']} {paid_part['balance']}"
        for said, problem in ((lost, "treated as lost"), (unpaid, "said to have had no payment")):
            text = f"X\n{said} {shown}"
            assert any(problem in found for found in text_problems(text, text, paid_part, language, "first_reminder", "message")), \
                (language, said)
    balance_only = f"X\nWe have not received payment of the {partial['balance']} outstanding. {partial['amount']} {partial['paid']}"
    assert not any("no payment" in found for found in text_problems(balance_only, balance_only, partial, "en", "first_reminder", "message"))
    handover = facts_for([s for s in scenarios("nb") if s.payment_details][0], "legal_handover")
    run_in = f"Hei,\nBetaling skjer fortsatt til vår konto, {handover['payment_details']}."
    assert any("run into a sentence" in problem
               for problem in text_problems(run_in, run_in, handover, "nb", "legal_handover", "letter")), run_in
    labelled = f"Hei,\nBetaling skjer fortsatt til vår konto.\nBetalingsinformasjon: {handover['payment_details']}"
    assert not any("run into a sentence" in problem
                   for problem in text_problems(labelled, labelled, handover, "nb", "legal_handover", "letter"))
    letter = f"Dear Ms Evans,\n\nPlease pay.\n\nSincerely,\n{partial['signature']}"
    british = {**partial, "yours": "Yours sincerely,"}
    assert any("American 'Sincerely,'" in problem
               for problem in text_problems(letter, letter, british, "en", "first_reminder", "letter"))


def facts_of_one(invoice: Invoice, customer_name: str, country: str, language: str) -> dict[str, Any]:
    """The facts a draft gets for `invoice`, written by Carol of Nordlys AS on 4 December 2026."""
    team = Team(name="Nordlys AS", default_currency=invoice.currency, default_timezone="Europe/Oslo",
                default_country=country, created_at=CREATED)
    customer = Customer(team_id=1, name=customer_name, name_key=customer_name.lower(), country=country, created_at=CREATED)
    sender = Person(team_id=1, handle="carol", display_name="Carol Berg", role=Role.COLLECTOR, timezone="Europe/Oslo",
                    created_at=CREATED)
    return draft_facts(invoice=invoice, customer=customer, sender=sender, team=team, language=language,
                       today=date(2026, 12, 4))


def test_facts_say_what_was_received_without_repeating_the_balance_and_drop_a_doubled_number_sign() -> None:
    invoice = Invoice(team_id=1, number="№ 318", customer_id=1, amount=Decimal("740"), balance=Decimal("518"),
                      currency="RUB", due_date=date(2026, 12, 1), owner_id=1, ladder="standard", created_at=CREATED)
    facts = facts_of_one(invoice, "ООО «Вектор»", "RU", "ru")
    assert facts["invoice_number"] == "318"
    assert facts["paid_note"] == "По счёту выставлено 740,00\xa0₽, получено 222,00\xa0₽ — спасибо."
    assert facts["balance"] not in facts["paid_note"]
    invoice.balance = invoice.amount
    assert facts_of_one(invoice, "ООО «Вектор»", "RU", "ru")["paid_note"] is None


@pytest.mark.parametrize(("language", "tomorrow", "later"), [
    ("en", "tomorrow", "in 3 days"), ("ru", "завтра", "через 3 дня"), ("nb", "i morgen", "om 3 dager"), ("bg", "утре", "след 3 дни"),
])
def test_an_invoice_due_the_next_day_falls_due_tomorrow_not_in_one_day(language: str, tomorrow: str, later: str) -> None:
    assert (due_in(1, language), due_in(3, language)) == (tomorrow, later)
    book = load_phrasebook(required=("en", "ru", "nb", "bg"))
    pre_due = [s for s in scenarios(language) if s.balance == s.amount][0]
    facts = {**facts_for(pre_due, "pre_due"), "due_in": due_in(1, language), "days_until_due": 1,
             "days_until_due_text": days_text(1, language)}
    for (lang, stage, _, _), variants in book.entries.items():
        if lang == language and stage == "pre_due":
            for variant in variants:
                text = book.render(variant, facts).text
                assert not any("1 day" in p or "1 день" in p or "1 dag" in p or "1 ден" in p
                               for p in text_problems(text, text, facts, language, "pre_due", "message")), text


def test_the_subscription_dates_in_a_draft_are_the_days_the_subscription_ladder_acts_on() -> None:
    """The subscription ladder counts calendar days (late fee at 10, suspension at 20): a draft names those
    days, not 10 and 20 business days."""
    policy = load_policies()["subscription"]
    assert policy.counts_calendar_days
    by_name = {step.name: step for step in policy.steps}
    team = Team(name="Nordlys AS", default_currency="EUR", default_timezone="Europe/Oslo", default_country="NO",
                created_at=CREATED)
    customer = Customer(team_id=1, name="Acme", name_key="acme", country="NO", created_at=CREATED)
    sender = Person(team_id=1, handle="carol", display_name="Carol Berg", role=Role.COLLECTOR, timezone="Europe/Oslo",
                    created_at=CREATED)
    invoice = Invoice(team_id=1, number="INV-1", customer_id=1, amount=Decimal("100"), balance=Decimal("100"),
                      currency="EUR", due_date=date(2026, 11, 10), owner_id=1, ladder="subscription", created_at=CREATED)
    facts = draft_facts(invoice=invoice, customer=customer, sender=sender, team=team, language="en", today=date(2026, 11, 15))
    fee_day = date(2026, 11, 10) + timedelta(days=by_name["Late fee notice"].when.business_days or 0)
    suspended = date(2026, 11, 10) + timedelta(days=by_name["Service suspended"].when.business_days or 0)
    assert (facts["late_fee_date"], facts["suspension_date"]) == (fee_day.strftime("%B %-d, %Y"), suspended.strftime("%B %-d, %Y"))
    assert facts["late_fee_date"] == "November 20, 2026" and facts["suspension_date"] == "November 30, 2026"


def test_after_the_legal_handover_every_variant_says_payments_still_come_to_us() -> None:
    facts = facts_for(next(scenarios("en")), "legal_handover")
    problems = text_problems("Hello,\nThe case is with our lawyers; pay them directly.", "Hello,", facts, "en",
                             "legal_handover", "call")
    assert any("our (?:own )?account" in problem for problem in problems)


# -- glued lines and doubled full stops ----------------------------------------------------------

def test_payment_details_on_their_own_line_never_glue_to_the_signature() -> None:
    book = one_variant("{{ hello }}\nPlease pay.\n{% if payment_details %}Payment details: {{ payment_details }}{% endif %}\n"
                       "Kind regards,\n{{ signature }}")
    facts = facts_for(next(scenarios("en")), "first_reminder") | {"payment_details": "KID 4520261130"}
    text = book.render(book.entries[("en", "first_reminder", "warm", "message")][0], facts).text
    assert "Payment details: KID 4520261130\nKind regards," in text


def test_a_russian_date_ending_a_sentence_keeps_one_full_stop() -> None:
    assert tidy("Оплатите до 14 декабря 2026\u202fг.. Спасибо!") == "Оплатите до 14 декабря 2026\u202fг. Спасибо!"
    assert tidy("Платете до 14 декември 2026 г.. Благодарим!") == "Платете до 14 декември 2026 г. Благодарим!"
    assert tidy("Wait...") == "Wait..."


# -- salutations ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "contact", "dear", "hello"), [
    ("ru", {"given": "Ольга", "family": "Петрова", "patronymic": "Николаевна"}, "Уважаемая Ольга Николаевна!",
     "Ольга Николаевна, добрый день!"),
    ("ru", {"full": "Сергей Иванович Иванов"}, "Уважаемый Сергей Иванович!", "Сергей Иванович, добрый день!"),
    ("ru", {"full": "Сергей Иванов"}, "Уважаемый господин Иванов!", "Сергей, добрый день!"),
    ("ru", {"family": "Соколов", "gender": "male"}, "Уважаемый господин Соколов!", "Господин Соколов, добрый день!"),
    ("ru", {}, "Уважаемые коллеги!", "Добрый день!"),
    ("en", {"given": "Sarah", "family": "Evans", "title": "Ms"}, "Dear Ms Evans,", "Hello Sarah,"),
    ("en", {"full": "James O'Neill"}, "Dear James O'Neill,", "Hello James,"),
    ("en", {}, "Dear Sir or Madam,", "Hello,"),
    ("nb", {"full": "Marte Haugland"}, "Hei Marte,", "Hei Marte,"),
    ("nb", {"full": "Lars Erik Bakken"}, "Hei Lars Erik,", "Hei Lars Erik,"),
    ("nb", {}, "Hei,", "Hei,"),
    ("bg", {"given": "Мария", "family": "Петрова", "title": "г-жа"}, "Уважаема г-жо Петрова,", "Здравейте, г-жо Петрова,"),
    ("bg", {"given": "Иван", "family": "Петров", "gender": "male"}, "Уважаеми г-н Петров,", "Здравейте, г-н Петров,"),
    ("bg", {}, "Уважаеми госпожи и господа,", "Здравейте,"),
])
def test_each_language_greets_the_contact_by_its_own_rule(language: str, contact: dict[str, str], dear: str,
                                                          hello: str) -> None:
    assert greeting(language, **contact) == (dear, hello)


def test_american_english_writes_ms_with_a_full_stop() -> None:
    assert greeting("en", "en_US", given="Sarah", family="Evans", gender="female")[0] == "Dear Ms. Evans,"


def test_a_british_letter_closes_yours_sincerely_and_an_american_one_sincerely() -> None:
    def yours(locale: str, **contact: str) -> str:
        parts = contact_from(full=None, given=contact.get("given"), family=contact.get("family"), patronymic=None,
                             title=contact.get("title"), gender=None, language="en")
        return salutation(parts, "en", locale).yours
    assert yours("en_GB", given="Sarah", family="Evans", title="Ms") == "Yours sincerely,"
    assert yours("en_IE") == "Yours faithfully,"
    assert yours("en_US", given="Sarah", family="Evans", title="Ms") == "Sincerely,"


def test_a_company_without_a_contact_is_never_greeted_by_name(team: ChatDriver) -> None:
    team.say("bob", "/add INV-7 1200 EUR 2026-12-10 Oakfield Farms Ltd")
    letter = team.say("bob", "/draft INV-7 first formal letter")
    assert "Dear Sir or Madam," in letter and "Dear Oakfield" not in letter
    norwegian = team.say("bob", "/draft INV-7 first warm message nb")
    assert "Hei,\n" in norwegian and "Hei Oakfield" not in norwegian


# -- partial payments ----------------------------------------------------------------------------

def test_a_partial_payment_shows_invoiced_received_and_remaining(team: ChatDriver) -> None:
    team.say("bob", "/add INV-8 31 RUB 2026-11-20 Вектор")
    team.say("bob", "/paid INV-8 18.60")
    russian = team.say("bob", "/draft INV-8 first neutral letter ru").replace("\xa0", " ")
    assert "31,00 ₽" in russian and "18,60 ₽" in russian and "12,40 ₽" in russian
    assert "на сумму 12,40" not in russian
    english = team.say("bob", "/draft INV-8 repeat firm message en").replace("\xa0", " ")
    assert "RUB 31.00" in english and "RUB 18.60" in english and "RUB 12.40" in english


# -- final warnings always name a date -----------------------------------------------------------

def test_a_manual_final_warning_names_the_ladders_deadline_and_says_it_is_a_default(team: ChatDriver) -> None:
    team.say("bob", "/add INV-9 1200 EUR 2026-12-10 Acme Trading Ltd country=GB")
    reply = flat(team.say("bob", "/draft INV-9 final neutral message"))
    deadline = final_deadline(date(2026, 11, 24), 10, "GB")
    assert deadline.strftime("%B %-d, %Y") in reply
    assert "is a default: the ladder's rule of 10 business days from today" in reply


@pytest.mark.parametrize("language,locale,words", [
    ("ru", "ru_RU", "30 календарных дней"), ("nb", "nb_NO", "30 kalenderdager"), ("bg", "bg_BG", "30 календарни дни"),
])
def test_the_note_on_a_default_deadline_reads_in_the_users_language(team: ChatDriver, language: str, locale: str,
                                                                     words: str) -> None:
    team.say("bob", "/add INV-19 1200 EUR 2026-12-10 Acme Trading Ltd country=RU")
    team.say("bob", f"/team set lang={language}")
    reply = flat(team.say("bob", "/draft INV-19 final neutral message en"))
    deadline = final_deadline(date(2026, 11, 24), 10, "RU")
    note = reply[reply.index(flat(long_date(deadline, locale) or "")) - 40:]
    assert words in note and "default" not in note and "Russian" not in note, note


def test_a_norwegian_inkassovarsel_gives_at_least_fourteen_days_and_warns_of_costs(team: ChatDriver) -> None:
    team.say("bob", "/add INV-10 12500 NOK 2026-12-10 Haugen Elektro AS country=NO")
    letter = flat(team.say("bob", "/draft INV-10 final formal letter nb"))
    deadline = final_deadline(date(2026, 11, 24), 10, "NO")
    assert (deadline - date(2026, 11, 24)).days >= 16
    assert f"{deadline.day}. desember 2026" in letter or f"{deadline.day}. november 2026" in letter
    assert "inkassovarsel" in letter and "kostnader" in letter
    assert "at least 14 days from sending" in letter


def test_a_russian_claim_gives_the_thirty_day_pre_trial_period_before_court_in_its_message_and_letter(team: ChatDriver) -> None:
    """The claim letter says court comes only after 30 calendar days from sending (ч. 5 ст. 4 АПК
    РФ); the message about it names its deadline as the day after which the case goes to court.
    Both name the same date, 30 days and a margin away, not the ladder's 10 business days."""
    team.say("bob", "/add INV-12 90000 RUB 2026-12-10 Вектор country=RU")
    sent = date(2026, 11, 24)
    deadline = final_deadline(sent, 10, "RU")
    assert (deadline - sent).days >= 32 and deadline > add_business_days(sent, 10, "RU")
    shown = f"{deadline.day} {('декабря', 'января')[deadline.month == 1]}"
    letter = flat(team.say("bob", "/draft INV-12 final formal letter ru"))
    message = flat(team.say("bob", "/draft INV-12 final firm message ru"))
    assert "30 календарных дней" in letter and shown in letter, letter
    assert shown in message and ("суд" in message or "юрист" in message), message
    assert "A Russian pre-trial claim gives 30 calendar days from sending" in letter


def test_an_american_customer_is_promised_interest_as_permitted_by_law_a_british_one_statutory_interest(team: ChatDriver) -> None:
    """The US has no single statute on late-payment interest (the contract and each state decide);
    the UK's Late Payment Act sets one."""
    team.say("bob", "/add INV-13 12000 USD 2026-11-10 Oakfield Supplies Inc country=US")
    team.say("bob", '/customer "Oakfield Supplies Inc" locale=en_US')
    for command in ("/draft INV-13 final formal letter en", "/draft INV-13 first firm letter en",
                    "/draft INV-13 legal formal letter en"):
        american = flat(team.say("bob", command))
        assert "statutory" not in american.lower(), american
    assert "interest as permitted by law" in flat(team.say("bob", "/draft INV-13 final formal letter en"))
    team.say("bob", '/customer "Oakfield Supplies Inc" locale=en_GB')
    assert "statutory interest" in flat(team.say("bob", "/draft INV-13 final formal letter en")).lower()
    american = {**SAMPLE_BARE_FACTS, "late_interest": "interest as permitted by law"}
    assert any("statutory" in problem for problem in
               text_problems("Statutory interest will be added.", "Statutory interest will be added.", american, "en",
                             "final_warning", "letter"))


def test_the_norwegian_minimum_holds_whatever_the_ladder_says() -> None:
    for sent in (date(2026, 12, 18), date(2026, 4, 1), date(2026, 11, 24)):
        assert (final_deadline(sent, 1, "NO") - sent).days >= 14
        assert (final_deadline(sent, 10, "GB") - sent).days >= 10


# -- money and dates per locale ------------------------------------------------------------------

def test_a_currency_code_takes_a_space_in_english_drafts() -> None:
    assert money(Decimal("125000"), "NOK", "en_GB").replace("\xa0", " ") == "NOK 125,000.00"
    assert money(Decimal("1200.50"), "EUR", "en") == "€1,200.50"
    assert money(Decimal("1200.50"), "EUR", "nb_NO") == "1\xa0200,50\xa0€"


def test_the_customer_chooses_its_locale_and_the_team_its_default(team: ChatDriver) -> None:
    team.say("bob", "/add INV-11 125000 NOK 2026-12-14 Fjord Shipping Ltd")
    assert "December 14, 2026" in team.say("bob", "/draft INV-11 pre warm message en")
    team.say("bob", '/customer "Fjord Shipping Ltd" locale=en_GB')
    british = team.say("bob", "/draft INV-11 pre warm message en").replace("\xa0", " ")
    assert "14 December 2026" in british and "NOK 125,000.00" in british
    assert "Only an admin" in team.say("bob", "/signature locale=en_IE")
    team.say("alice", "/signature locale=en_IE")
    team.say("bob", "/add INV-12 100 EUR 2026-12-14 Dublin Bakers")
    assert "14 December 2026" in team.say("bob", "/draft INV-12 pre warm message en")


# -- defaults that reach customers ---------------------------------------------------------------

def test_no_draft_prints_a_settings_default_or_a_chat_handle_and_the_bot_asks_once(team: ChatDriver) -> None:
    team.say("bob", "/add INV-13 100 EUR 2026-12-10 Acme Trading Ltd")
    first = team.say("bob", "/draft INV-13 first neutral letter")
    assert "Our company" not in draft_text(team) and "bob" not in draft_text(team).lower()
    assert "Tell me once: /signature" in first
    assert "Tell me once" not in team.say("bob", "/draft INV-13 first neutral letter")
    team.say("bob", '/signature name="Bob Berg" title="Account Manager" company="Nordlys AS"')
    team.say("bob", "/draft INV-13 first formal letter")
    assert draft_text(team).endswith("Yours sincerely,\nBob Berg\nAccount Manager\nNordlys AS") or \
        draft_text(team).endswith("Yours faithfully,\nBob Berg\nAccount Manager\nNordlys AS")


def test_a_quoted_contact_stays_whole_and_greets_by_the_first_name(team: ChatDriver) -> None:
    command = parse_command('/customer "Fjord AS" contact="Marte Haugland" lang=nb')
    assert command is not None and command.options["contact"] == "Marte Haugland" and command.words == ("Fjord AS",)
    team.say("bob", "/add INV-14 100 NOK 2026-12-10 Fjord AS")
    shown = team.say("bob", '/customer "Fjord AS" contact="Marte Haugland" lang=nb tone=warm')
    assert "Marte Haugland" in shown and '"' not in shown.split("Contact", 1)[1].split("\n")[0]
    draft = team.say("bob", "/draft INV-14 first message")
    assert "· warm · message · nb" in draft and "Hei Marte," in draft and 'Hei "Marte' not in draft


# -- the customer's own language, tone and names -------------------------------------------------

def test_a_russian_customer_gets_russian_drafts_with_the_patronymic(team: ChatDriver) -> None:
    team.say("bob", "/add INV-15 5000 RUB 2026-11-20 Вектор")
    reply = team.say("bob", "/customer Вектор lang=ru given=Ольга patronymic=Николаевна family=Петрова")
    assert "Customer Вектор updated" in reply
    letter = team.say("bob", "/draft INV-15 first formal letter")
    assert "· formal · letter · ru" in letter and "Уважаемая Ольга Николаевна!" in letter and "(ая)" not in letter


def test_a_bulgarian_customer_is_addressed_with_g_zho(team: ChatDriver) -> None:
    team.say("bob", "/add INV-16 2400 EUR 2026-11-20 Балкан Трейд ООД country=BG")
    team.say("bob", '/customer "Балкан Трейд ООД" lang=bg locale=bg_BG given=Мария family=Петрова title=г-жа')
    letter = team.say("bob", "/draft INV-16 final formal letter")
    assert "· formal · letter · bg" in letter and "Уважаема г-жо Петрова," in letter
    assert "покана за доброволно изпълнение" in letter.lower() and "законната лихва" in letter


def test_bad_customer_settings_are_refused_with_an_example_and_nothing_changes(team: ChatDriver) -> None:
    team.say("bob", "/add INV-17 100 EUR 2026-12-10 Acme")
    for bad, reason in (("lang=xx", "not a language of the phrasebook"), ("locale=fr_FR", "not a locale I write"),
                        ("tone=grumpy", "not a tone"), ("gender=robot", "gender is female or male"),
                        ("colour=red", "I don't know colour=")):
        refused(team, "bob", f"/customer Acme contract=K-1 {bad}", reason, example="Example: /customer")
    assert "K-1" not in team.say("bob", "/customer Acme"), "a refused command stores none of its other options"
    assert "There is no customer 'Nobody'" in team.say("bob", "/customer Nobody lang=en")


def test_the_customers_language_locale_and_tone_are_set_on_add_and_change_by_the_same_rule(team: ChatDriver) -> None:
    added = team.say("bob", "/add INV-18 2500 NOK 2026-12-10 Fjord AS lang=nb locale=nb_NO tone=warm")
    assert "Added invoice INV-18" in added and "Drafts in" in added and "nb_NO" in added, added
    assert "· warm · message · nb" in team.say("bob", "/draft INV-18 first message")
    assert "10. desember 2026" in draft_text(team), draft_text(team)
    changed = team.say("bob", "/change INV-18 lang=en locale=en_GB tone=firm")
    assert "Fjord AS's drafts changed" in changed and "planned again" not in changed, changed
    assert "· firm · message · en" in team.say("bob", "/draft INV-18 first message")
    assert "10 December 2026" in draft_text(team)
    shown = team.say("bob", '/customer "Fjord AS"')
    assert "en_GB" in shown and "firm" in shown, shown
    team.say("bob", "/add INV-19 100 NOK 2026-12-12 Fjord AS")
    assert "firm" in team.say("bob", '/customer "Fjord AS"'), "a later /add without the options keeps the settings"
    both = team.say("bob", "/change INV-19 due=2026-12-20 lang=nb")
    assert "planned again" in both and "nb" in both, both


def test_bad_draft_settings_on_add_and_change_are_refused_with_their_own_example(team: ChatDriver) -> None:
    for bad, reason in (("lang=xx", "not a language of the phrasebook"), ("locale=fr_FR", "not a locale I write"),
                        ("tone=grumpy", "not a tone")):
        refused(team, "bob", f"/add INV-20 100 EUR 2026-12-10 Acme {bad}", reason, example="Example: /add INV-1042")
    team.say("bob", "/add INV-20 100 EUR 2026-12-10 Acme tone=warm")
    for bad, reason in (("lang=xx", "not a language of the phrasebook"), ("tone=grumpy", "not a tone")):
        refused(team, "bob", f"/change INV-20 due=2026-12-24 locale=en_GB {bad}", reason, example="Example: /change INV-20")
    shown = team.say("bob", "/customer Acme")
    assert "warm" in shown and "en_GB" not in shown, "a refused /change stores none of its options"
    assert "Dec 10, 2026" in team.say("bob", "/show INV-20"), "nor the due date"


# -- the dispute draft --------------------------------------------------------------------------

async def test_a_dispute_draft_asks_why_in_the_customers_language_and_asks_for_no_payment(
    team: ChatDriver, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier,
) -> None:
    team.say("alice", "/today")
    team.say("bob", "/add INV-22 2500 NOK 2026-12-10 Fjord AS lang=nb")
    team.say("bob", '/customer "Fjord AS" given=Marte family=Haugland')
    assert "Dispute recorded" in team.say("bob", "/dispute INV-22 pallets arrived damaged")
    await deliver_at(scheduler, clock, clock.now())
    ping = flat(notifier.texts("alice")[-1])
    assert "Draft message (dispute: ask why, propose a call)" in ping, ping
    assert "Hei Marte," in ping and "hva som har gått galt" in ping and "purringene" in ping, ping
    assert "Betal" not in ping and "2 500" not in ping, "a disputed invoice asks for no payment"
    assert "dispute · neutral · message · nb" in team.say("bob", "/draft INV-22"), "the invoice's stage is its dispute"
    letter = team.say("bob", "/draft INV-22 dispute formal letter ru")
    assert "dispute · neutral · letter · ru" in letter and "напоминания" in letter, letter
    for language in ("en", "bg"):
        assert f"dispute · neutral · message · {language}" in team.say("bob", f"/draft INV-22 dispute {language}")


def test_the_linter_covers_the_dispute_draft_in_every_language() -> None:
    book = load_phrasebook(required=("en", "ru", "nb", "bg"))
    for language in ("en", "ru", "nb", "bg"):
        assert len(book.variants(language, "dispute", "neutral", "message")) >= 2
        assert len(book.variants(language, "dispute", "neutral", "letter")) >= 2
        facts = facts_for(next(s for s in scenarios(language) if s.payment_details), "dispute")
        pushy = text_problems(f"Hi,\nPlease pay now. {facts['payment_details']}", "Hi,", facts, language, "dispute", "message")
        assert any("asks for payment" in problem for problem in pushy), pushy
        assert sum("requires" in problem for problem in pushy) == 3, "ask what went wrong, propose a call, hold the reminders"


# -- the seeds' advice ---------------------------------------------------------------------------

ADVICE = {
    "en": ("reconciliation statement", "managers", "prepayment", "happy with", "why"),
    "ru": ("акт сверки", "руководител", "предоплат", "устроило", "причин"),
    "nb": ("avstemming", "leder", "forskuddsbetaling", "fornøyd", "årsaken"),
    "bg": ("акт за сверка", "ръководител", "авансово плащане", "доволни", "причина"),
}


@pytest.mark.parametrize("language", sorted(ADVICE))
def test_the_seeds_advice_reaches_the_drafts_in_every_language(language: str) -> None:
    book = load_phrasebook(required=("en", "ru", "nb", "bg"))
    facts = facts_for(next(scenarios(language)), "repeat_reminder")
    texts = " ".join(book.render(variant, facts).text.lower()
                     for (lang, stage, _, _), variants in book.entries.items() if lang == language
                     and stage in ("first_reminder", "repeat_reminder", "broken_promise") for variant in variants)
    for advice in ADVICE[language]:
        assert advice in texts, (language, advice)


@pytest.mark.parametrize("language", ["en", "ru", "nb", "bg"])
def test_a_subscription_draft_warns_of_the_late_fee_and_the_suspension(language: str) -> None:
    book = load_phrasebook(required=("en", "ru", "nb", "bg"))
    subscription = [s for s in scenarios(language) if s.ladder == "subscription"][0]
    for stage, fact in (("first_reminder", "late_fee_date"), ("repeat_reminder", "suspension_date")):
        facts = facts_for(subscription, stage)
        for tone in ("neutral", "firm"):
            for channel in ("call", "message", "letter"):
                for variant in book.variants(language, stage, tone, channel):
                    assert facts[fact] in book.render(variant, facts).text, (language, stage, tone, channel, variant.id)


def test_facts_name_the_subscription_dates_only_for_subscriptions() -> None:
    invoice = Invoice(team_id=1, number="INV-1", customer_id=1, amount=Decimal("100"), balance=Decimal("100"),
                      currency="EUR", due_date=date(2026, 12, 1), owner_id=1, ladder="standard", created_at=CREATED)
    plain = facts_of_one(invoice, "Acme", "NO", "en")
    assert plain["late_fee_date"] is None and plain["signature"] == "Carol Berg\nNordlys AS"
    invoice.ladder = "subscription"
    monthly = facts_of_one(invoice, "Acme", "NO", "en")
    assert monthly["late_fee_date"] == "December 11, 2026" and monthly["suspension_date"] == "December 21, 2026"


def test_a_ladder_step_deadline_shorter_than_the_norwegian_minimum_is_moved_and_said() -> None:
    customer = Customer(team_id=1, name="Fjord AS", name_key="fjord as", country="NO", created_at=CREATED)
    sent = date(2026, 11, 24)
    ten_business_days = date(2026, 12, 8)
    deadline, note = draft_deadline("final_warning", ten_business_days, sent, customer, 10)
    assert deadline is not None and (deadline - sent).days >= 14 and note == MOVED_DEADLINE
    customer.country = "GB"
    assert draft_deadline("final_warning", ten_business_days, sent, customer, 10) == (ten_business_days, None)


def test_the_native_review_sample_renders_thirty_drafts_per_language() -> None:
    from phrasebook.review_sample import sample

    for language in ("en", "nb", "ru", "bg"):
        drafts = list(sample(language, 14))
        assert len(drafts) == 30 and all(rendered.text.strip() for _, _, rendered in drafts)
        assert len({label.split()[0] for _, label, _ in drafts}) >= 6, "many stages, tones and channels"


@pytest.mark.parametrize("country,days", [("GB", 14), ("NO", 17), ("RU", 38)])
def test_an_english_final_warning_without_a_date_gives_the_period_of_the_customers_country(country: str, days: int) -> None:
    """4 December 2026 (a Friday): the ladder's 10 business days are 14 days; Norway's 14 days plus
    a margin, then the next business day; Russia's 30 days plus a margin, then the first business day after
    the New Year holidays."""
    book = load_phrasebook(required=("en",))
    invoice = Invoice(team_id=1, number="INV-5", customer_id=1, amount=Decimal("100"), balance=Decimal("100"),
                      currency="EUR", due_date=date(2026, 10, 1), owner_id=1, ladder="standard", created_at=CREATED)
    facts = facts_of_one(invoice, "Acme", country, "en")
    assert facts["claim_days"] == days == (final_deadline(date(2026, 12, 4), None, country) - date(2026, 12, 4)).days
    texts = [book.render(variant, facts).text for (language, stage, _tone, _channel), variants in book.entries.items()
             if language == "en" and stage == "final_warning" for variant in variants]
    assert texts and all(f"{days} days" in text and (days == 14 or "14 days" not in text) for text in texts)


@pytest.mark.parametrize("language", ["en", "ru", "nb"])
def test_a_sender_without_name_or_company_opens_a_sentence_with_a_capital(language: str) -> None:
    book = load_phrasebook()
    nameless = NAMELESS_SENDER[language]
    opened = 0
    for key in book.entries:
        if key[0] != language:
            continue
        for variant in book.entries[key]:
            text = book.render(variant, {**SAMPLE_BARE_FACTS, "me": nameless}).text
            assert not re.search(rf"(^|[.!?]\s+){re.escape(nameless)}", text, re.MULTILINE), (variant.id, text)
            opened += len(re.findall(rf"(^|[.!?]\s+){re.escape(nameless[0].upper() + nameless[1:])}", text, re.MULTILINE))
    assert opened, "some variant opens a sentence with the nameless sender"
