"""Bulk intake: a CSV checked row by row, then imported all at once; the same file twice changes
nothing."""
from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.platforms.console.chat import console_sender
from bot.platforms.text import render_text
from bot.store.models import Invoice, LadderStep
from handlers.grammar import IncomingFile
from tests.support import ChatDriver, count_rows

GOOD = """number,customer,amount,currency,issue date,due date,owner,collector,customer country,ladder
INV-1,Acme Trading Ltd,1200.50,EUR,2026-11-01,2026-12-10,bob,carol,NO,standard
INV-2,"Fjord, Sons & Co",300,NOK,,2026-12-15,,,,soft
"""
BAD = GOOD + """INV-3,Bad Amount AS,12.345,EUR,,2026-12-10,bob,,NO,
INV-4,Nobody AS,10,EUR,,2026-12-10,zed,,NO,
INV-1,Twice AS,10,EUR,,2026-12-10,bob,,NO,
INV-5,Wrong Date AS,10,EUR,,2026-02-30,bob,,NO,
INV-6,Odd Ladder AS,10,EUR,,2026-12-10,bob,,NO,gentle
INV-7,Far Away,10,EUR,,2026-12-10,bob,,XX,
"""


def send(team: ChatDriver, who: str, text: str, csv: str | bytes, name: str = "invoices.csv") -> str:
    content = csv.encode() if isinstance(csv, str) else csv
    team.last = team.core.handle_text(console_sender(who), text, (IncomingFile(name, content, "text/csv"),))
    return render_text(team.last)


def confirm_action(team: ChatDriver) -> str:
    assert team.last is not None
    [button] = [b for b in team.last.buttons if b.action.startswith("import confirm=")]
    return button.action


def test_dry_run_reports_every_bad_row_with_its_line_and_stores_nothing(team: ChatDriver, engine: Engine) -> None:
    before = count_rows(engine)
    reply = send(team, "alice", "/import", BAD)
    assert "nothing imported yet" in reply
    assert "Ready to import:         2" in reply and "Rows with problems:      6" in reply
    for expected in ("line 4:", "line 5: @zed is not on the team", "line 6: invoice INV-1 appears twice in the file (first on line 2)",
                     "line 7: '2026-02-30' is not a real date", "line 8: there is no ladder 'gentle'",
                     "line 9: 'XX' is not a country I have public holidays for (not an ISO country code)"):
        assert expected in reply, expected
    assert count_rows(engine) == before


def test_confirming_imports_the_good_rows_at_once_with_their_ladders(team: ChatDriver, engine: Engine) -> None:
    send(team, "alice", "/import", BAD)
    reply = team.press("alice", confirm_action(team))
    assert "Imported 2 invoices from invoices.csv" in reply and "Skipped (bad rows): 6" in reply
    with Session(engine) as session:
        invoices = {i.number: i for i in session.exec(select(Invoice))}
        assert set(invoices) == {"INV-1", "INV-2"}
        assert invoices["INV-1"].amount == Decimal("1200.50") and invoices["INV-1"].currency == "EUR"
        assert invoices["INV-2"].ladder == "soft" and invoices["INV-2"].currency == "NOK"
        steps = session.exec(select(LadderStep).where(LadderStep.invoice_id == invoices["INV-1"].id)).all()
        assert len(steps) == 7, "imported invoices get their ladder like /add"
    assert "imported from invoices.csv" in team.say("alice", "/show INV-1")
    assert "INV-2" in team.say("alice", "/list")


def test_importing_the_same_file_again_changes_nothing(team: ChatDriver, engine: Engine) -> None:
    send(team, "alice", "/import", GOOD)
    team.press("alice", confirm_action(team))
    after_first = count_rows(engine)
    reply = send(team, "alice", "/import", GOOD)
    assert "Already here, unchanged: 2" in reply and "There is nothing new to import" in reply
    assert not team.last.buttons  # type: ignore[union-attr]
    assert count_rows(engine) == after_first


def test_a_changed_row_for_an_existing_invoice_is_reported_not_overwritten(team: ChatDriver) -> None:
    send(team, "alice", "/import", GOOD)
    team.press("alice", confirm_action(team))
    reply = send(team, "alice", "/import", GOOD.replace("1200.50", "1300.00"))
    assert "invoice INV-1 is already here with other details" in reply


def test_semicolons_and_a_byte_order_mark_are_read(team: ChatDriver) -> None:
    semicolons = GOOD.replace(",", ";").replace('"Fjord; Sons & Co"', "Fjord Sons & Co")
    reply = send(team, "alice", "/import", "\ufeff".encode() + semicolons.encode())
    assert "Ready to import:         2" in reply


def test_a_file_without_the_needed_columns_or_without_a_file_is_explained(team: ChatDriver) -> None:
    assert "has no column amount, due_date" in send(team, "alice", "/import", "number,customer\nX,Y\n")
    assert "Attach a CSV file" in team.say("alice", "/import")
    assert "not UTF-8" in send(team, "alice", "/import", b"\xff\xfe\x00bad")


def test_command_line_import_shows_progress_and_commits(tmp_path: Path) -> None:
    csv_path = tmp_path / "invoices.csv"
    csv_path.write_text(GOOD.replace("bob", "").replace("carol", ""), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "DATABASE_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    run = lambda *args: subprocess.run([sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True,  # noqa: E731
                                       cwd=tmp_path, env=env, timeout=120)
    subprocess.run([sys.executable, "-m", "bot.app.cli", "console", "--as", "alice"], input="/start\n", capture_output=True,
                   text=True, cwd=tmp_path, env=env, timeout=60)
    dry = run("import", str(csv_path), "--as", "alice")
    assert dry.returncode == 0, dry.stderr
    assert "2 rows: 2 new, 0 unchanged, 0 with problems." in dry.stdout and "Dry run: nothing stored" in dry.stdout
    done = run("import", str(csv_path), "--as", "alice", "--commit")
    assert "Imported 2 invoices." in done.stdout, done.stderr
    again = run("import", str(csv_path), "--as", "alice", "--commit")
    assert "0 new, 2 unchanged" in again.stdout
    stranger = run("import", str(csv_path), "--as", "mallory")
    assert stranger.returncode == 1 and "not on team" in stranger.stderr


def test_command_line_import_is_refused_to_whoever_may_not_import_in_the_chat(tmp_path: Path) -> None:
    """The command line imports as a team member, through the same permission table as /import:
    a lawyer (who may not import in the chat) is refused there too, with the same words."""
    csv_path = tmp_path / "invoices.csv"
    csv_path.write_text(GOOD.replace("bob", "").replace("carol", ""), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "DATABASE_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    chat = subprocess.run([sys.executable, "-m", "bot.app.cli", "console", "--as", "alice"], capture_output=True, text=True,
                          input="/start\n/team add @larry lawyer\n/as larry\n/import invoices.csv\n", cwd=tmp_path, env=env,
                          timeout=60)
    assert "Lawyers can't import invoices" in chat.stdout, chat.stdout
    refused_here = subprocess.run([sys.executable, "-m", "bot.app.cli", "import", str(csv_path), "--as", "larry", "--commit"],
                                  capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert refused_here.returncode == 1 and "Lawyers can't import invoices" in refused_here.stderr, refused_here
    assert "Imported" not in refused_here.stdout
    help_text = subprocess.run([sys.executable, "-m", "bot.app.cli", "import", "--help"], capture_output=True, text=True,
                               cwd=tmp_path, env=env, timeout=60)
    assert "same permissions as /import" in " ".join(help_text.stdout.split()), help_text.stdout
