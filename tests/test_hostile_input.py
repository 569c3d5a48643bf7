"""Text nobody should type, and text people type anyway: control characters, huge messages,
quotes that do not close, and step names too long for their follow-ups."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.store.models import Customer, Invoice
from handlers.grammar import MAX_COMMAND_LENGTH
from scheduling.policies import BUILT_IN, MAX_STEP_NAME, PolicyError, load_file, load_policies
from tests.support import ChatDriver, refused


def stored_invoice(chat: ChatDriver, number: str) -> Invoice | None:
    with Session(chat.core.services.engine) as session:
        return session.exec(select(Invoice).where(Invoice.number == number)).first()


def test_a_dispute_with_a_control_character_is_refused_clearly_and_stores_nothing(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    for reason in ("goods\x00damaged", "bell\x07", "escape \x1b[31mred", "delete\x7f"):
        refused(team, "bob", f"/dispute INV-1 {reason}", "invisible control character", example="Example: /dispute INV-1042")
    assert stored_invoice(team, "INV-1").status.value == "open"  # type: ignore[union-attr]


def test_a_reason_over_several_lines_is_fine(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    assert "Dispute recorded on INV-1" in team.say("bob", "/dispute INV-1 wrong quantity\n\tand late")


def test_a_list_filter_of_100_kb_is_refused_with_the_limit(team: ChatDriver) -> None:
    reply = team.say("alice", "/list " + "acme " * 20_000)
    assert f"a command can be at most {MAX_COMMAND_LENGTH:,}" in reply and "Example: /list overdue" in reply, reply


def test_a_long_but_allowed_list_filter_finds_nothing_instead_of_failing(team: ChatDriver) -> None:
    reply = team.say("alice", "/list " + "x" * (MAX_COMMAND_LENGTH - 10))
    assert "No open invoices match" in reply or "Nothing here" in reply, reply


def test_quoted_values_with_spaces_are_stored_whole_in_every_languages_quotes(team: ChatDriver) -> None:
    for index, (line, customer, contact) in enumerate([
        ('/add Q-{n} 100 EUR 2026-12-10 Acme GmbH contact="Anna Weber"', "Acme GmbH", "Anna Weber"),
        ("/add Q-{n} 100 EUR 2026-12-10 “Acme, Inc.” contact=“Anna Weber”", "Acme, Inc.", "Anna Weber"),
        ('/add Q-{n} 100 EUR 2026-12-10 "Weber & Söhne" contact=Anna', "Weber & Söhne", "Anna"),
        ("/add Q-{n} 100 EUR 2026-12-10 „Палети и Ко“ contact=„Иван Петров“", "Палети и Ко", "Иван Петров"),
        ("/add Q-{n} 100 EUR 2026-12-10 «Ромашка, ООО» contact=«Анна Иванова»", "Ромашка, ООО", "Анна Иванова"),
        ('/add Q-{n} 100 EUR 2026-12-10 "ООО «Север»" contact=Анна', "ООО «Север»", "Анна"),
        ("/add Q-{n} 100 EUR 2026-12-10 «Nordlys AS» contact=„Kari Nordmann”", "Nordlys AS", "Kari Nordmann"),
    ]):
        assert f"Added invoice Q-{index}" in team.say("bob", line.format(n=index))
        with Session(team.core.services.engine) as session:
            stored = session.exec(select(Customer).where(Customer.name == customer)).one()
            assert stored.contact_name == contact


def test_a_value_the_parser_cannot_place_is_refused_never_stored(team: ChatDriver) -> None:
    for line in (
        '/add Q-1 100 EUR 2026-12-10 Acme contact="Anna Weber',
        '/add Q-1 100 EUR 2026-12-10 Acme" contact=Anna',
        '/add Q-1 100 EUR 2026-12-10 "Acme contact=Anna',
        '/team set @bob name="Larry',
        "/add Q-1 100 EUR 2026-12-10 „Палети contact=Иван",
    ):
        refused(team, "alice", line, "where the quoted text")
    for line in ("/team set @bob name=Larry Law", "/team add @larry lawyer name=Larry Law", "/team set tz=Europe/Oslo now"):
        refused(team, "alice", line, "I don't know where", example='name="Larry Law"')


def test_a_command_longer_than_a_message_can_be_is_refused(team: ChatDriver) -> None:
    refused(team, "bob", "/add INV-1 100 EUR 2026-12-10 " + "Acme " * 1000, "at most 4,000")


def test_a_button_action_with_a_control_character_is_refused_too(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    reply = team.press("bob", "dispute INV-1 \x00")
    assert "invisible control character" in reply


def test_ladders_check_refuses_a_step_name_too_long_for_its_follow_ups(tmp_path: Path) -> None:
    text = (BUILT_IN / "standard.yaml").read_text(encoding="utf-8")
    long_name = "Call the customer's accounts payable department about it"[:60].ljust(60, "x")
    first = load_policies()["standard"].steps[0].name
    (tmp_path / "standard.yaml").write_text(text.replace(f"name: {first}", f"name: {long_name}", 1), encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load_file(tmp_path / "standard.yaml")
    [problem] = refused.value.problems
    assert "step 1" in problem and f"at most {MAX_STEP_NAME} fit" in problem and "No answer yet: " in problem
    assert len("No answer yet: ") + MAX_STEP_NAME <= 64
    ok = long_name[:MAX_STEP_NAME]
    (tmp_path / "standard.yaml").write_text(text.replace(f"name: {first}", f"name: {ok}", 1), encoding="utf-8")
    assert load_file(tmp_path / "standard.yaml").steps[0].name == ok


def test_a_list_filter_matches_percent_and_underscore_literally(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    team.say("bob", "/add INV-2 100 EUR 2026-12-10 100% Organic")
    assert "No open invoices match" in team.say("bob", "/list a_me")
    only = team.say("bob", "/list 100%")
    assert "INV-2" in only and "INV-1" not in only, only
