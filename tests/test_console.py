"""The console chat works as a new user would use it: the real `collectbot` command, piped, and the
console chat itself where a story needs a moving clock (pings and their buttons)."""
import io
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.app.bootstrap import build_scheduler
from bot.floor.clock import MovableClock
from bot.platforms.console.chat import ConsoleChat
from bot.platforms.console.platform import ConsolePlatform
from bot.store.models import LadderStep
from handlers.core import Core
from bot.platforms.console.limits import CONSOLE_LIMITS
from tests.conftest import OSLO

COLLECTBOT = [sys.executable, "-m", "bot.app.cli"]


def run_cli(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "SLACK_", "DATABASE_"))}
    clean.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}", **env})
    return subprocess.run(COLLECTBOT + args, input=stdin, capture_output=True, text=True, cwd=tmp_path, env=clean, timeout=60)


def test_piped_console_session_adds_lists_and_pays_an_invoice(tmp_path: Path) -> None:
    session = "\n".join([
        "/start",
        "/add INV-1042 1200.50 EUR 2026-12-01 Acme Trading Ltd",
        "/list",
        "/paid INV-1042 200.50",
        "/show INV-1042",
        "/as bob",
        "/list",
    ]) + "\n"
    result = run_cli(["console", "--as", "alice"], tmp_path, session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You are an admin" in out
    assert "Added invoice INV-1042" in out
    assert "INV-1042  Acme Trading Ltd" in out
    assert "Balance:   €1,000.00" in out
    assert "You are now @bob." in out
    assert "you are not on team" in out
    assert "collectbot console —" not in out, "no banner or prompts when piped"


def test_data_survives_a_restart(tmp_path: Path) -> None:
    run_cli(["console", "--as", "alice"], tmp_path, "/start\n/add INV-1 10 2026-12-01 Acme\n")
    result = run_cli(["console", "--as", "alice"], tmp_path, "/list\n")
    assert "INV-1" in result.stdout


def test_run_without_tokens_opens_the_console(tmp_path: Path) -> None:
    result = run_cli(["run", "--as", "alice"], tmp_path, "/start\n")
    assert result.returncode == 0, result.stderr
    assert "starting the console chat" in result.stderr
    assert "Hello, I'm collectbot" in result.stdout


def test_a_bad_setting_is_reported_clearly(tmp_path: Path) -> None:
    result = run_cli(["console"], tmp_path, "", DEFAULT_CURRENCY="EURO")
    assert result.returncode == 2
    assert "DEFAULT_CURRENCY" in result.stderr and "ISO 4217" in result.stderr


@pytest.mark.parametrize("command", [["--help"], ["console", "--help"], ["migrate"]])
def test_cli_commands_run(tmp_path: Path, command: list[str]) -> None:
    result = run_cli(command, tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_csv_is_imported_on_the_console_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text("number,customer,amount,currency,due date\nA-1,Acme,100,EUR,2026-12-20\n"
                                           "A-2,Fjord AS,250,NOK,2026-12-24\n", encoding="utf-8")
    (tmp_path / "a folder").mkdir()
    session = "\n".join([
        "/start", "/import invoices.csv", "1", "/list", "/import nope.csv", '/import "a folder"', "/import", "/help import",
    ]) + "\n"
    result = run_cli(["console", "--as", "alice"], tmp_path, session)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())  # paragraphs wrap at 100 characters
    assert "Checked invoices.csv: 2 rows (nothing imported yet)" in out
    assert "Imported 2 invoices from invoices.csv" in out
    assert "A-1" in out and "Fjord AS" in out
    assert f"There is no file at nope.csv (relative paths start in {tmp_path})" in out
    assert "a folder is a folder, not a file" in out
    assert "Give the path of a CSV file after /import" in out
    assert out.count("Example: /import invoices.csv") == 4, "the bad path, the folder, no path, and /help"
    assert "Attach a CSV file" not in out and "attached" not in out, "the console never asks for an attachment"


def test_files_of_replies_are_written_to_a_folder_and_the_reply_gives_the_path(tmp_path: Path) -> None:
    session = "\n".join(["/start", "/add INV-1 100 EUR 2026-01-15 Acme", "/overdue chart", "/casefile INV-1"]) + "\n"
    default = run_cli(["console", "--as", "alice"], tmp_path, session)
    assert default.returncode == 0, default.stderr
    folder = tmp_path / "collectbot-files"
    assert sorted(path.name for path in folder.iterdir()) == ["casefile-INV-1.html", "overdue-aging.png"]
    assert f"Saved overdue-aging.png to {folder / 'overdue-aging.png'}" in default.stdout
    assert f"Saved casefile-INV-1.html to {folder / 'casefile-INV-1.html'}" in default.stdout
    assert "[file:" not in default.stdout, "the path, not a placeholder"
    assert (folder / "overdue-aging.png").read_bytes().startswith(b"\x89PNG")

    exports = run_cli(["console", "--as", "alice"], tmp_path, "/overdue export csv\n/overdue export xlsx\n", FILES_DIR="exports")
    assert exports.returncode == 0, exports.stderr
    written = sorted(path.name for path in (tmp_path / "exports").iterdir())
    assert [name.rsplit(".", 1)[1] for name in written] == ["csv", "xlsx"]
    for name in written:
        assert f"Saved {name} to {tmp_path / 'exports' / name}" in exports.stdout
    assert "INV-1" in (tmp_path / "exports" / written[0]).read_text(encoding="utf-8-sig")


async def test_a_mistyped_answer_to_a_buttons_question_leaves_the_question_open(core: Core, clock: MovableClock) -> None:
    output = io.StringIO()
    chat = ConsoleChat(core, "alice", output)
    scheduler = build_scheduler(core.services)
    scheduler.attach(ConsolePlatform(chat).notifier, CONSOLE_LIMITS)
    await chat.say("/start")
    await chat.say("/add INV-7 900 EUR 2026-12-01 Acme Trading Ltd")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=OSLO))
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    ping = output.getvalue()
    assert "🔔 Ping for @alice" in ping and "[3] 📅 Promised" in ping

    def after(action: str) -> int:
        return len(output.getvalue())

    mark = after("press Promised")
    await chat.say("3")
    assert "Which date did they promise to pay INV-7 by?" in output.getvalue()[mark:]
    mark = after("a mistyped date")
    refused = await chat.say("next friday")
    shown = output.getvalue()[mark:]
    assert refused is not None and refused.is_error
    assert "'next friday' is not a date I can read" in shown and "Example: 2026-12-08" in shown
    assert "Which date did they promise to pay INV-7 by?" in shown, "the question is asked again"
    assert "[3] 📅 Promised" in shown, "with the numbered buttons"
    assert chat.waiting_for is not None
    await chat.say("99")
    assert f"Choose a number from 1 to {len(chat.last_buttons)}." in output.getvalue() and chat.waiting_for is not None
    mark = after("the number again")
    await chat.say("3")
    assert "Which date did they promise to pay INV-7 by?" in output.getvalue()[mark:]
    mark = after("cancel")
    assert await chat.say("/cancel") is None
    assert "Cancelled." in output.getvalue()[mark:] and chat.waiting_for is None
    await chat.say("3")
    recorded = await chat.say("i morgen")
    assert recorded is not None and not recorded.is_error
    assert "Promise recorded on INV-7: pay by Dec 2, 2026" in output.getvalue()
    assert chat.waiting_for is None


async def test_a_date_answer_on_the_console_is_read_on_the_persons_own_day(core: Core, clock: MovableClock) -> None:
    """Alice works from Auckland: when the server's UTC date is still 31 December, her today is
    1 January 2027, so a refused answer's example is a week from her today."""
    output = io.StringIO()
    chat = ConsoleChat(core, "alice", output)
    scheduler = build_scheduler(core.services)
    scheduler.attach(ConsolePlatform(chat).notifier, CONSOLE_LIMITS)
    await chat.say("/start")
    await chat.say("/team set tz=Pacific/Auckland")
    await chat.say("/add INV-7 900 EUR 2026-12-01 Acme Trading Ltd")
    with Session(core.services.engine) as session:
        first = session.exec(select(LadderStep).where(LadderStep.position == 1)).one()
    clock.set(first.due_at)
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    assert "[3] 📅 Promised" in output.getvalue()
    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc))
    await chat.say("3")
    mark = len(output.getvalue())
    await chat.say("next friday")
    assert "Example: 2027-01-08" in output.getvalue()[mark:], output.getvalue()[mark:]
    mark = len(output.getvalue())
    await chat.say("2037-01-04")
    assert "Promise recorded on INV-7" in output.getvalue()[mark:], output.getvalue()[mark:]


async def test_the_console_speaks_its_own_lines_in_the_persons_language(core: Core, clock: MovableClock, tmp_path: Path) -> None:
    """A Norwegian at the terminal: the ping's heading, the question's prompt, the button numbers,
    /cancel, /as and a path that is not there are all in Norwegian, like the replies."""
    output = io.StringIO()
    chat = ConsoleChat(core, "alice", output)
    scheduler = build_scheduler(core.services)
    scheduler.attach(ConsolePlatform(chat).notifier, CONSOLE_LIMITS)
    await chat.say("/start")
    await chat.say("/team set lang=nb")
    await chat.say("/add INV-7 900 EUR 2026-12-01 Acme Trading Ltd")
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=OSLO))
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    await chat.say("3")
    await chat.say("99")
    await chat.say("/cancel")
    await chat.say("/as")
    await chat.say(f"/import {tmp_path / 'nowhere.csv'}")
    shown = output.getvalue()
    for english in ("Ping for", "type the answer", "type another button's number", "Choose a number", "Cancelled.",
                    "You are @", "There is no file at"):
        assert english not in shown, f"{english!r} left in English:\n{shown}"
    for norwegian in ("Påminnelse til @alice", "skriv svaret, eller /cancel", "Velg et tall fra 1 til", "Avbrutt.",
                      "Du er @alice", "Det finnes ingen fil på"):
        assert norwegian in shown, f"{norwegian!r} missing:\n{shown}"


async def test_on_a_narrow_console_a_newcomer_is_told_how_to_join_with_each_command_example_on_one_line(core: Core) -> None:
    """Zoe is not on the team yet and types /list in a terminal 48 columns wide. The reply tells her
    what to ask an admin for; she copies the commands from the screen, so "/team" is never left at
    the end of one line with "invite" on the next, nor a bracketed example cut in two."""
    alice, zoe = io.StringIO(), io.StringIO()
    await ConsoleChat(core, "alice", alice).say("/start")
    reply = await ConsoleChat(core, "zoe", zoe, width=48).say("/list")
    assert reply is not None and reply.is_error
    lines = zoe.getvalue().splitlines()
    assert any("(/team add @yourname salesperson)" in line for line in lines), zoe.getvalue()
    assert any("(/team invite @yourname)" in line for line in lines), zoe.getvalue()
    assert any("/start <code>" in line for line in lines), zoe.getvalue()
    assert not [line for line in lines if re.search(r"(^|[\s(])/[a-z]+$", line)], "no line ends with a command cut from its words"
    assert len(lines) > 4 and all(len(line) <= 48 for line in lines if "(/team" not in line), "the rest is wrapped to 48 columns"
