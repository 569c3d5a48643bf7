"""Test helpers shared by the fixtures in conftest.py and the tests themselves."""
from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, func, select

from bot.platforms.console.chat import console_sender
from bot.platforms.text import render_text
from handlers.core import Core
from bot.floor.reply import Reply


class ChatDriver:
    """Push a console message as someone, pop the reply as text."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.last: Reply | None = None

    def say(self, who: str, text: str) -> str:
        self.last = self.core.handle_text(console_sender(who), text)
        return render_text(self.last)

    def press(self, who: str, action: str) -> str:
        self.last = self.core.press(console_sender(who), action)
        return render_text(self.last)


CONVERSATION_TABLES = frozenset({"interaction_state", "lease"})
"""Where the bot keeps conversations going (a checked CSV awaiting its confirmation, a question
awaiting its answer): not the team's records; tests of those count them by themselves."""


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows per table of the team's records: a bad command must leave every count as it was."""
    with Session(engine) as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables if table.name not in CONVERSATION_TABLES
        }


class RecordingNotifier:
    """A platform that records what it was asked to send; it can be told to fail a few times."""

    def __init__(self, platform: str = "console", failures: int = 0) -> None:
        self.platform = platform
        self.failures = failures
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform unavailable")
        self.sent.append((chat_id, reply))

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [render_text(reply) for chat, reply in self.sent if chat_id in (None, chat)]
