"""The console chat works as a new user would use it: the real `collectbot` command, piped."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
