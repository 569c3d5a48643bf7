"""The README's console session is what the console really prints (a test, so the two never drift)."""
from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import pytest

from bot.floor.clock import MovableClock
from bot.platforms.console.chat import ConsoleChat
from handlers.core import Core
from tests.conftest import OSLO

README = Path(__file__).resolve().parent.parent / "README.md"
SESSION_START = "$ .venv/bin/collectbot console --as alice\n"
PROMPT = re.compile(r"^(\w+)> (.*)$")


def readme_session() -> list[tuple[str, str]]:
    """(typed line, the reply shown under it) in the README's order; `…` stands for lines left out."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SESSION_START) + len(SESSION_START)
    block = text[start:text.index("```", start)]
    turns: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if match := PROMPT.match(line):
            turns.append((match.group(2), []))
        elif turns:
            turns[-1][1].append(line)
    return [(typed, "\n".join(shown).strip()) for typed, shown in turns]


def matches(expected: str, actual: str) -> bool:
    head, ellipsis, tail = expected.partition("\n…\n")
    if not ellipsis:
        return expected == actual
    return actual.startswith(head + "\n") and actual.endswith("\n" + tail)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_readme_console_session_is_what_the_console_prints(core: Core, clock: MovableClock) -> None:
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=OSLO))
    output = io.StringIO()
    chat = ConsoleChat(core, "alice", output)
    turns = readme_session()
    assert any(typed.startswith("/add") for typed, _ in turns)
    for typed, expected in turns:
        mark = len(output.getvalue())
        await chat.say(typed)
        actual = "\n".join(line.rstrip() for line in output.getvalue()[mark:].strip().splitlines())
        assert matches(expected, actual), f"README shows for {typed!r}:\n{expected}\n\nthe console prints:\n{actual}"
