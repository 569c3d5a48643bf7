"""The phrasebook: drafts that follow the ladder, rotate per customer, read naturally in each
language, and phrase files that are refused with file, line and reason when they are wrong."""
from __future__ import annotations

from datetime import date, datetime
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, UndefinedError
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.store.models import Customer, Event, Invoice, Person, Role, Team
from handlers.core import Core
from phrasebook.book import (
    CHANNELS,
    REQUIRED_LANGUAGES,
    SAMPLE_BARE_FACTS,
    STAGES,
    TONES,
    Phrasebook,
    PhrasebookError,
    Variant,
    load_phrasebook,
)
from phrasebook.facts import draft_facts
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier

GOOD_STAGE = Path(__file__).parents[1] / "phrasebook" / "phrases" / "en" / "thank_you.yaml"


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "en"
    folder.mkdir(parents=True, exist_ok=True)
    text = GOOD_STAGE.read_text(encoding="utf-8")
    assert old in text
    path = folder / "thank_you.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "reason"), [
    ("  warm:\n    call:", "  warm:\n    call: [", "not valid YAML"),
    ("Thanks so much for settling invoice {{ invoice_number }}!", "Thanks so much for settling invoice {{ invoice }}!", "unknown variable(s) invoice"),
    ("Thanks so much for settling invoice {{ invoice_number }}!", "Thanks so much for settling invoice {{ invoice_number }!", "template error"),
    ("      - id: warm-call-2", "      - id: warm-call-1", "duplicate variant id 'warm-call-1'"),
    ("  neutral:\n", "  neutral:\n    call: []\n", "duplicate key 'call'"),
    ("  firm:\n", "  loud:\n", "unknown tone 'loud'"),
    ("        subject: \"Thank you – invoice {{ invoice_number }} paid\"\n", "", "is missing its subject"),
    ("Thanks so much for settling invoice {{ invoice_number }}!", "Thanks so much, {{ contact_name.upper() }}!", "fails to render without the optional values"),
])
def test_a_broken_phrase_file_is_refused_with_file_line_and_reason(tmp_path: Path, old: str, new: str, reason: str) -> None:
    path = broken_copy(tmp_path, old, new)
    with pytest.raises(PhrasebookError) as refused:
        load_phrasebook(tmp_path)
    problem = next((p for p in refused.value.problems if reason in p), None)
    assert problem is not None, refused.value.problems
    assert problem.startswith(f"{path}:") and problem.split(":")[1].isdigit(), problem


def test_a_missing_tone_is_a_coverage_problem(tmp_path: Path) -> None:
    text = GOOD_STAGE.read_text(encoding="utf-8")
    folder = tmp_path / "en"
    folder.mkdir()
    (folder / "thank_you.yaml").write_text(text[: text.index("  formal:")], encoding="utf-8")
    with pytest.raises(PhrasebookError) as refused:
        load_phrasebook(tmp_path)
    assert any("en thank_you/formal/call has 0 variant(s); at least 3 are needed" in p for p in refused.value.problems)


def test_templates_run_in_the_sandbox_and_cannot_reach_python() -> None:
    book = Phrasebook()
    escape = Variant("x", (("text", "{{ customer.__class__.__mro__ }}"),), "test:1")
    with pytest.raises((SecurityError, UndefinedError)):
        book.render(escape, SAMPLE_BARE_FACTS)
    mutate = Variant("y", (("text", "{{ [1].append(2) }}"),), "test:1")
    with pytest.raises(SecurityError):
        book.render(mutate, SAMPLE_BARE_FACTS)


def test_shipped_english_phrases_cover_every_stage_tone_and_channel_three_times() -> None:
    book = load_phrasebook()
    for stage in STAGES:
        for tone in TONES:
            for channel in CHANNELS:
                assert len(book.variants("en", stage, tone, channel)) >= 3, (stage, tone, channel)


def test_every_shipped_variant_reads_naturally_without_optional_values() -> None:
    book = load_phrasebook()
    for variants in book.entries.values():
        for variant in variants:
            rendered = book.render(variant, SAMPLE_BARE_FACTS)
            text = f"{rendered.subject or ''}\n{rendered.text}"
            assert "None" not in text and "  " not in text and " ," not in text and " ." not in text, (variant.source, text)


def test_money_and_dates_are_written_the_readers_way() -> None:
    team = Team(name="Nordlys AS", default_currency="EUR", default_timezone="Europe/Oslo", default_country="NO",
                created_at=datetime(2026, 1, 1, tzinfo=OSLO))
    invoice = Invoice(team_id=1, number="INV-1", customer_id=1, amount=Decimal("1200.50"), balance=Decimal("1200.50"),
                      currency="EUR", due_date=date(2026, 12, 1), owner_id=1, ladder="standard", created_at=team.created_at)
    customer = Customer(team_id=1, name="Acme", name_key="acme", country="NO", created_at=team.created_at)
    sender = Person(team_id=1, handle="carol", display_name="Carol", role=Role.COLLECTOR, timezone="Europe/Oslo",
                    created_at=team.created_at)
    english = draft_facts(invoice=invoice, customer=customer, sender=sender, team=team, language="en", today=date(2026, 12, 4))
    norwegian = draft_facts(invoice=invoice, customer=customer, sender=sender, team=team, language="nb", today=date(2026, 12, 4))
    russian = draft_facts(invoice=invoice, customer=customer, sender=sender, team=team, language="ru", today=date(2026, 12, 9))
    assert english["amount"] == "€1,200.50" and english["due_date"] == "December 1, 2026" and english["days_overdue_text"] == "3 days"
    assert norwegian["amount"] == "1\xa0200,50\xa0€" and norwegian["due_date"] == "1. desember 2026"
    assert norwegian["days_overdue_text"] == "3 dager"
    assert russian["days_overdue_text"] == "8 дней" and russian["due_date"] == "1 декабря 2026\u202fг."
    assert english["contact_name"] is None and english["payment_details"] is None


def test_draft_follows_the_ladder_position_and_the_steps_tone(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 1200.50 EUR 2026-12-10 Acme Trading Ltd contact=Anna")
    reply = team.say("bob", "/draft INV-1")
    assert "Draft for INV-1: pre due · warm · call · en" in reply, reply
    assert "Anna" in reply and "€1,200.50" in reply and "INV-1" in reply
    letter = team.say("bob", "/draft INV-1 final formal letter")
    assert "final warning · formal · letter" in letter and "Subject:" in letter and "Dear Anna," in letter


def test_the_same_customer_never_gets_the_same_wording_twice_in_a_row(team: ChatDriver, engine: Engine) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    team.say("bob", "/add INV-2 200 EUR 2026-12-12 Acme")
    picks = []
    for number in ("INV-1", "INV-2", "INV-1", "INV-2"):
        team.say("bob", f"/draft {number} first neutral message")
        picks.append(team.last.blocks[0].label)  # type: ignore[union-attr]
    assert all(a != b for a, b in zip(picks, picks[1:])), picks
    with Session(engine) as session:
        drafts = session.exec(select(Event).where(Event.kind == "draft")).all()
    assert len(drafts) == 4 and drafts[0].details["text"]
    assert "draft first reminder · neutral · message · en" in team.say("bob", "/show INV-1")


def test_unknown_draft_words_list_the_valid_values(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    reply = " ".join(team.say("bob", "/draft INV-1 grumpy").split())  # read as one line: the console wraps
    assert "I don't know 'grumpy'" in reply and "tones: warm, neutral, firm, formal" in reply and "channels: call" in reply
    assert "Give one tone only" in team.say("bob", "/draft INV-1 warm firm")


def test_phrasebook_lists_what_it_holds_and_admins_reload_it(team: ChatDriver, core: Core, tmp_path: Path) -> None:
    listing = team.say("bob", "/phrasebook")
    assert "en" in listing and "294" in listing
    assert "Only admins" in team.say("bob", "/phrasebook reload")
    assert "Phrasebook reloaded" in team.say("alice", "/phrasebook reload")
    broken_copy(tmp_path, "Thanks so much for settling invoice {{ invoice_number }}!", "Thanks, {{ nobody }}!")
    core.services.settings = core.services.settings.model_copy(update={"phrasebook_dir": tmp_path})
    refused = team.say("alice", "/phrasebook reload")
    assert "I kept the phrasebook in use" in refused and "nobody" in refused
    assert "294" in team.say("bob", "/phrasebook")


async def test_each_ping_carries_a_draft_for_its_step(team: ChatDriver, clock: MovableClock, scheduler: Scheduler,
                                                     notifier: RecordingNotifier) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    await scheduler.fire_due()
    await scheduler.flush()
    [text] = notifier.texts("bob")
    assert "Draft call (pre due, warm)" in text and "INV-1" in text.split("Draft call", 1)[1]
    assert "draft pre due · warm · call" in team.say("bob", "/history INV-1")


def test_the_shipped_phrasebook_is_complete_in_english_russian_norwegian_and_bulgarian() -> None:
    book = load_phrasebook(required=REQUIRED_LANGUAGES)
    assert book.languages == ["bg", "en", "nb", "ru"]
    for language, minimum in (("en", 3), ("ru", 2), ("nb", 2), ("bg", 2)):
        for stage in STAGES:
            for tone in TONES:
                for channel in CHANNELS:
                    assert len(book.variants(language, stage, tone, channel)) >= minimum, (language, stage, tone, channel)


def test_collectbot_phrasebook_check_reports_counts_or_problems(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    good = subprocess.run([sys.executable, "-m", "bot.app.cli", "phrasebook", "check"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60)
    assert good.returncode == 0, good.stderr
    assert "ru: 9 stages × 4 tones × 3 channels, 196 variants" in good.stdout and "Phrasebook OK." in good.stdout
    path = broken_copy(tmp_path / "extra", "Thanks so much for settling invoice {{ invoice_number }}!", "{{ oops }")
    bad = subprocess.run([sys.executable, "-m", "bot.app.cli", "phrasebook", "check"], capture_output=True, text=True,
                         cwd=tmp_path, env={**env, "PHRASEBOOK_DIR": str(tmp_path / "extra")}, timeout=60)
    assert bad.returncode == 1 and f"{path}:" in bad.stderr and "template error" in bad.stderr


def test_a_norwegian_draft_uses_norwegian_money_and_dates(team: ChatDriver) -> None:
    team.say("bob", "/add INV-9 1200.50 EUR 2026-12-10 Fjord AS")
    reply = team.say("bob", "/draft INV-9 first neutral letter nb")
    assert "1 200,50 €" in reply.replace("\xa0", " ") and "10. desember 2026" in reply
    russian = team.say("bob", "/draft INV-9 thanks formal message ru")
    assert "thank you · formal · message · ru" in russian and "INV-9" in russian and "оплат" in russian


def test_full_payment_offers_a_thank_you_draft(team: ChatDriver) -> None:
    team.say("bob", "/add INV-3 100 EUR 2026-12-10 Acme")
    team.say("bob", "/paid INV-3")
    assert any(b.action == "draft INV-3 thank_you" for b in team.last.buttons)  # type: ignore[union-attr]
    assert "thank you · warm" in team.press("bob", "draft INV-3 thank_you warm")


async def test_a_ping_delivered_after_the_due_date_does_not_call_the_invoice_coming_due(
    team: ChatDriver, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    clock.set(datetime(2026, 12, 11, 10, 0, tzinfo=OSLO))  # the bot was down through the pre-due call and the due date
    await scheduler.fire_due()
    await scheduler.flush()
    [text] = notifier.texts("bob")
    assert "Draft call (first reminder, warm)" in text and "Late by" in text
