"""Who may do what: every cell of the authorization table (role × command × scope) as a story
through the console core, and the README table generated from it."""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.platforms.console.chat import console_sender
from bot.platforms.text import render_text
from bot.store.models import Invoice
from handlers.catalogue import build_catalogue
from handlers.grammar import IncomingFile
from handlers.permissions import COLUMNS, DEFAULT_ACCESS, Scope, readme_section
from tests.support import ChatDriver, count_rows

PERMISSIONS = {verb: spec.permission for verb, spec in build_catalogue().items() if spec.access is not DEFAULT_ACCESS}
"""Every command's access as its catalogue entry declares it (one that declares none is missing here)."""
ACTORS = {"stranger": "mallory", "salesperson": "bob", "collector": "carol", "lawyer": "larry", "manager": "mike",
          "admin": "alice"}
REFUSALS = ("for you: only its owner", "; only ", "Only an admin", "Only admins", "Sorry, you are not on team")
CSV = b"number,customer,amount,due date\nCSV-1,Acme,100,2026-12-20\n"


@dataclass(frozen=True)
class Case:
    """How to exercise one row of the table: the command (with `{no}` for an invoice, `{me}` for
    the actor), what alice does to the invoice first, and what an allowed answer says."""

    command: str
    success: str | None = None
    setup: tuple[str, ...] = ()


CASES: dict[tuple[str, str], Case] = {
    ("start", ""): Case("/start", "Hello, I'm collectbot"),
    ("help", ""): Case("/help", "What I can do"),
    ("add", ""): Case("/add {no} 100 EUR 2026-12-20 Acme", "Added invoice {no}"),
    ("import", ""): Case("/import", "Checked upload.csv"),
    ("list", ""): Case("/list", "open invoices"),
    ("overdue", ""): Case("/overdue", None),
    ("today", ""): Case("/today", None),
    ("upcoming", ""): Case("/upcoming", None),
    ("ladders", ""): Case("/ladders", "standard"),
    ("show", ""): Case("/show {no}", "Invoice {no}"),
    ("history", ""): Case("/history {no}", "added {no}"),
    ("casefile", ""): Case("/casefile {no}", None),
    ("draft", ""): Case("/draft {no}", "Draft for {no}"),
    ("paid", ""): Case("/paid {no} 10", "Partial payment recorded on {no}"),
    ("done", ""): Case("/done {no}", None),
    ("noanswer", ""): Case("/noanswer {no}", None),
    ("snooze", ""): Case("/snooze {no} 2h", None),
    ("letter", ""): Case("/letter {no} 2026-12-30", "Letter recorded on {no}"),
    ("promise", ""): Case("/promise {no} 2026-12-30", "Promise recorded on {no}"),
    ("dispute", ""): Case("/dispute {no} goods damaged", "Dispute recorded on {no}"),
    ("plan", ""): Case("/plan {no} 2 instalments every month from 2026-12-15", None),
    ("resolve", ""): Case("/resolve {no}", "Dispute on {no} resolved", ("/dispute {no} wrong quantity",)),
    ("resolve", "with a new amount"): Case("/resolve {no} 0.01", "Dispute on {no} resolved", ("/dispute {no} wrong quantity",)),
    ("change", ""): Case("/change {no} due=2026-12-28", "Invoice {no} changed"),
    ("change", "owner= or collector="): Case("/change {no} owner=@{me}", "Invoice {no} changed"),
    ("cancel", ""): Case("/cancel {no} sent twice", None),
    ("reopen", ""): Case("/reopen {no}", None),
    ("undo", ""): Case("/undo {no}", None),
    ("digest", ""): Case("/digest daily 08:30", "Digest set"),
    ("rates", ""): Case("/rates", "Exchange rates"),
    ("rates", "set or clear"): Case("/rates USD EUR 0.9", "rate saved"),
    ("customer", ""): Case("/customer Borealis", None),
    ("customer", "key=value"): Case("/customer Borealis tone=warm", None),
    ("signature", ""): Case("/signature", "Your signature on drafts"),
    ("signature", "locale="): Case("/signature locale=en_GB", "Your signature on drafts updated"),
    ("phrasebook", ""): Case("/phrasebook", "Phrasebook"),
    ("phrasebook", "reload"): Case("/phrasebook reload", "hrasebook"),
    ("team", ""): Case("/team", "Team Our company"),
    ("team", "set (own tz, lang, locale, hours, days, name, holidays)"): Case("/team set tz=Asia/Tokyo", "Updated @{me}"),
    ("team", "add, remove, or set someone else / role, admin, manager"): Case("/team add @{tag} salesperson", "joined the team"),
    ("team", "invite"): Case("/team invite @dave", "Invite for @dave"),
}
ROWS = [(verb, grant.variant) for verb, permission in PERMISSIONS.items() for grant in permission.grants]


def refused(text: str) -> bool:
    return any(marker in text for marker in REFUSALS)


@pytest.fixture
def staff(team: ChatDriver) -> ChatDriver:
    """The `team` fixture plus a lawyer (larry) and a manager who is not an admin (mike)."""
    assert "joined the team" in team.say("alice", "/team add @larry lawyer")
    assert "joined the team" in team.say("alice", "/team add @mike manager")
    return team


def say(chat: ChatDriver, who: str, text: str, in_group: bool = False) -> str:
    """`who` writes `text` in a private chat, or in a group chat (the same decisions, and every
    answer but the public ones marked for its reader alone)."""
    sender = replace(console_sender(who), in_group=in_group)
    files = (IncomingFile("upload.csv", CSV, "text/csv"),) if text == "/import" else ()
    chat.last = chat.core.handle_text(sender, text, files)
    if in_group and text.split()[0] not in ("/start", "/help", "/ladders"):
        assert chat.last.private, f"{text} in a group must answer privately"
    return render_text(chat.last)


def invoice_for(chat: ChatDriver, owner: str, number: str, setup: tuple[str, ...]) -> None:
    assert "Added invoice" in chat.say("alice", f"/add {number} 1000 EUR 2026-12-10 Borealis @{owner}")
    for line in setup:
        reply = chat.say("alice", line.format(no=number))
        assert "⚠" not in reply, reply


def check_row(chat: ChatDriver, row: int, verb: str, variant: str, in_group: bool) -> list[str]:
    """Every column of one row of the table; the cells that do not hold, described."""
    permission = PERMISSIONS[verb]
    grant = next(g for g in permission.grants if g.variant == variant)
    case = CASES[(verb, variant)]
    failures: list[str] = []
    for column in COLUMNS:
        actor = ACTORS[column]
        scope = grant.cells[column]
        targets = [("own", actor), ("other", "dave")] if permission.about_invoice else [("any", "")]
        for whose, owner in targets:
            if whose == "own" and column == "stranger":
                continue
            number = f"R{row}{'G' if in_group else ''}-{column[:3].upper()}-{whose}"
            if permission.about_invoice:
                invoice_for(chat, owner, number, case.setup)
            before = count_rows(chat.core.services.engine)
            reply = say(chat, actor, case.command.format(no=number, me=actor, tag=number.lower()), in_group=in_group)
            allowed = scope in (Scope.ALL, Scope.YES) or (scope is Scope.OWN and whose in ("own", "any"))
            where = f"/{verb} {variant} · {column} ({actor}) on {whose} invoice{' in a group' if in_group else ''}"
            if "Something went wrong" in reply:
                failures.append(f"{where}: internal error: {reply}")
            elif allowed and refused(reply):
                failures.append(f"{where}: refused although the table allows it: {reply}")
            elif allowed and case.success and case.success.format(no=number, me=actor, tag=number.lower()) not in reply:
                failures.append(f"{where}: expected {case.success!r}: {reply}")
            elif not allowed and not refused(reply):
                failures.append(f"{where}: allowed although the table refuses it: {reply}")
            elif not allowed and count_rows(chat.core.services.engine) != before:
                failures.append(f"{where}: a refusal stored something")
    return failures


def test_every_role_gets_exactly_what_the_authorization_table_says(
    staff: ChatDriver, database_url: tuple[str, str | None]
) -> None:
    """Every cell, in a private chat; on SQLite also in a group chat (the same decisions, every
    answer but the public ones for its reader alone). One team for all rows keeps this quick."""
    chat_kinds = (False,) if database_url[1] is not None else (False, True)
    failures: list[str] = []
    checked = 0
    for row, (verb, variant) in enumerate(ROWS):
        if verb not in staff.core.catalogue:
            continue  # declared in the table ahead of its command (issue 12's corrections)
        for in_group in chat_kinds:
            failures.extend(check_row(staff, row, verb, variant, in_group))
            checked += 1
    assert checked >= 30 * len(chat_kinds)
    assert not failures, "\n".join(failures)


def test_a_salesperson_cannot_write_their_own_invoice_down(team: ChatDriver) -> None:
    team.say("bob", "/add BIG-1 10000 EUR 2026-12-10 Acme")
    assert "Dispute recorded" in team.say("bob", "/dispute BIG-1 price too high")
    reply = team.say("bob", "/resolve BIG-1 0.01")
    assert "Salespeople can't change an invoice's amount; only managers and admins can." in reply
    with Session(team.core.services.engine) as session:
        stored = session.exec(select(Invoice).where(Invoice.number == "BIG-1")).one()
        assert stored.amount == Decimal("10000") and stored.balance == Decimal("10000")
    assert "resolved" in team.say("alice", "/resolve BIG-1 9000")


def test_a_lawyer_cannot_record_a_payment_and_a_collector_cannot_take_an_invoice_from_its_owner(team: ChatDriver) -> None:
    team.say("alice", "/team add @larry lawyer")
    team.say("bob", "/add INV-9 500 EUR 2026-12-10 Acme collector=@carol")
    assert "Lawyers can't record payments" in team.say("larry", "/paid INV-9")
    assert "Collectors can't reassign invoices" in team.say("carol", "/change INV-9 owner=@carol")
    assert "Salespeople can't reassign invoices" in team.say("bob", "/change INV-9 collector=@bob")
    assert "Invoice INV-9" in team.say("bob", "/show INV-9"), "the owner still follows it"


def test_show_of_someone_elses_invoice_reveals_nothing_not_even_that_it_exists(team: ChatDriver) -> None:
    team.say("dave", "/add D-1 200 EUR 2026-12-01 Borealis")
    someone_elses = team.say("bob", "/show D-1")
    missing = team.say("bob", "/show D-2")
    assert someone_elses.replace("D-1", "D-?") == missing.replace("D-2", "D-?")
    assert "@dave" not in someone_elses and "Borealis" not in someone_elses


def test_every_command_has_a_row_in_the_authorization_table() -> None:
    missing = sorted(set(build_catalogue()) - set(PERMISSIONS))
    assert not missing, f"add these commands to handlers/permissions.py: {missing}"


def test_the_readme_lists_the_authorization_table_as_generated_from_the_catalogue() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert readme_section(build_catalogue()) in readme, (
        "README's authorization table is out of date: run .venv/bin/python -m handlers.permissions README.md")
