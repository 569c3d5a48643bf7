"""Each command's help, error example and README entry come from one source: the catalogue."""
from __future__ import annotations

from pathlib import Path

import pytest

from handlers.catalogue import build_catalogue
from handlers.command_reference import readme_section
from handlers.grammar import parse_command
from tests.support import ChatDriver

README = Path(__file__).resolve().parent.parent / "README.md"
CATALOGUE = build_catalogue()

MALFORMED: dict[str, tuple[str, ...]] = {
    "start": ("/start nosuchcode",),
    "help": ("/help nosuchcommand",),
    "add": ("/add INV-9 abc EUR 2026-12-01 Acme", "/add INV-9 1,200 EUR 2026-12-01 Acme", "/add INV-9 100 XYZ 2026-12-01 Acme",
            "/add INV-9 100 EUR next-friday Acme", "/add INV-9 100 EUR 2026-02-30 Acme", "/add INV-9 100", "/add INV-9 0 EUR +3d Acme",
            "/add INV-9 100 EUR +3d Acme colour=red", "/add INV-9 100 EUR +3d Acme country=Norway"),
    "list": ("/list @nobody",),
    "show": ("/show", "/show NOPE-1"),
    "paid": ("/paid INV-104 abc", "/paid INV-104 1,200", "/paid INV-104 -5", "/paid", "/paid NOPE-1", "/paid INV-104 5 USD",
             "/paid INV-104 100000"),
    "cancel": ("/cancel INV-104", "/cancel"),
    "reopen": ("/reopen", "/reopen NOPE-1"),
    "undo": ("/undo", "/undo NOPE-1"),
    "change": ("/change INV-104 due=abc", "/change INV-104 colour=red", "/change INV-104", "/change INV-104 owner=@nobody"),
    "ladders": ("/ladders nosuch",),
    "import": ("/import",),
    "draft": ("/draft", "/draft NOPE-1"),
    "customer": ("/customer Acme tone=angry", "/customer Acme colour=red", "/customer"),
    "signature": ("/signature locale=xx_YY", "/signature colour=red"),
    "phrasebook": ("/phrasebook explode",),
    "history": ("/history", "/history NOPE-1"),
    "casefile": ("/casefile", "/casefile NOPE-1"),
    "done": ("/done", "/done NOPE-1"),
    "promise": ("/promise INV-104 next-friday", "/promise INV-104 2026-12-10 abc", "/promise INV-104", "/promise INV-104 2020-01-01"),
    "letter": ("/letter INV-104 abc", "/letter INV-104 2026-12-10 1,200", "/letter INV-104"),
    "dispute": ("/dispute INV-104", "/dispute"),
    "resolve": ("/resolve INV-105 abc", "/resolve INV-105 1,200", "/resolve"),
    "plan": ("/plan INV-104 three instalments", "/plan INV-104 2026-13-01 2027-01-01", "/plan INV-104"),
    "snooze": ("/snooze INV-104 later", "/snooze INV-104"),
    "noanswer": ("/noanswer", "/noanswer NOPE-1"),
    "today": (),
    "upcoming": ("/upcoming abc", "/upcoming 0"),
    "overdue": ("/overdue bucket=7-8", "/overdue currency=XYZ", "/overdue colour=red"),
    "digest": ("/digest weekly someday 08:30", "/digest hourly", "/digest daily 25:00"),
    "rates": ("/rates USD EUR abc", "/rates QQQ EUR 1", "/rates USD EUR"),
    "team": ("/team add @zed", "/team set days=noday", "/team set tz=Mars/Base", "/team frobnicate", "/team remove",
             "/team add @zed salesperson colour=red", "/team invite"),
}
"""Typed wrong on purpose: each must be refused with an example of the same command. `/today`
takes nothing that can be wrong."""


def examples_of(example: str) -> list[str]:
    """`/paid INV-1042 or /paid INV-1042 500` holds two examples."""
    return [part if part.startswith("/") else "/" + part for part in example.split(" or /")]


def test_the_readme_command_reference_is_the_catalogue() -> None:
    assert readme_section(CATALOGUE.values()) in README.read_text(encoding="utf-8"), (
        "README's command reference is out of date: run .venv/bin/python -m handlers.command_reference README.md")


def test_every_command_is_typed_wrong_somewhere_in_the_audit() -> None:
    assert set(MALFORMED) == set(CATALOGUE), "add the new command's malformed inputs to MALFORMED"


@pytest.mark.parametrize("verb", list(CATALOGUE))
def test_every_option_a_command_takes_is_in_its_usage(verb: str) -> None:
    spec = CATALOGUE[verb]
    usages = " ".join(form.usage for form in spec.all_forms())
    missing = [option for option in spec.options if f"{option}=" not in usages]
    assert not missing, f"/{verb} takes {missing} but its usage does not show them"


@pytest.mark.parametrize("verb", list(CATALOGUE))
def test_every_example_in_the_catalogue_is_that_command(verb: str) -> None:
    spec = CATALOGUE[verb]
    forms = [*spec.all_forms(), *([spec.by_path] if spec.by_path else [])]
    for form in forms:
        assert form.usage.startswith(f"/{verb}"), form.usage
        for example in examples_of(form.example):
            command = parse_command(example.split(" (")[0])
            assert command is not None and command.verb == verb, example


@pytest.mark.parametrize("verb", list(CATALOGUE))
def test_help_for_a_command_shows_every_form_option_and_example(team: ChatDriver, verb: str) -> None:
    spec = CATALOGUE[verb]
    shown = team.say("alice", f"/help {verb}").replace("\n", " ")
    for form in spec.all_forms():
        assert form.example in shown and form.usage in shown, (form, shown)
    for option in spec.options:
        assert f"{option}=" in shown, (option, shown)


def test_help_add_shows_the_contact_option(team: ChatDriver) -> None:
    assert 'contact="Full Name"' in team.say("alice", "/help add")


@pytest.mark.parametrize("verb", [verb for verb, typed in MALFORMED.items() if typed])
def test_every_error_shows_an_example_of_the_command_typed(team: ChatDriver, verb: str) -> None:
    team.say("alice", "/add INV-104 1000 EUR 2026-12-01 Acme Trading Ltd")
    team.say("alice", "/add INV-105 1000 EUR 2026-12-01 Acme Trading Ltd")
    assert "Dispute recorded" in team.say("alice", "/dispute INV-105 goods damaged")
    for typed in MALFORMED[verb]:
        who = "zed" if verb == "start" else "alice"
        shown = team.say(who, typed)
        reply = team.last
        assert reply is not None and reply.is_error, f"{typed!r} was not refused: {shown}"
        assert reply.example and all(example.startswith(f"/{verb}") for example in examples_of(reply.example)), (
            f"{typed!r} answered with an example of another command: {shown}")


def test_a_paid_with_a_word_for_an_amount_answers_with_a_paid_example(team: ChatDriver) -> None:
    team.say("alice", "/add INV-104 1000 EUR 2026-12-01 Acme Trading Ltd")
    shown = team.say("alice", "/paid INV-104 abc")
    assert "Example: /paid" in shown and "/add" not in shown
