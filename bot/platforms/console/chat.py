"""The built-in console chat: the same commands and replies as Telegram or Slack, in a terminal.

Interactive on a terminal (prompt shows who you are); scriptable when stdin is a pipe (one
command per line in, replies out). `/as bob` switches identity; a number presses that button of
the last reply; `/quit` or end of input leaves.
"""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.platforms.text import render_text
from handlers.context import Sender
from handlers.core import Core
from bot.floor.reply import Attachment, Button, Reply

PLATFORM = "console"


def save_file(folder: Path, attachment: Attachment) -> Path:
    """Write the file under its own name in `folder`; never overwrite an earlier one (name-2.ext…)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(attachment.filename).name or "file"
    path = folder / name
    counter = 2
    while path.exists():
        path = folder / f"{Path(name).stem}-{counter}{Path(name).suffix}"
        counter += 1
    path.write_bytes(attachment.content)
    return path.resolve()


def console_sender(name: str) -> Sender:
    handle = name.strip().lstrip("@").lower()
    return Sender(platform=PLATFORM, external_id=handle, display_name=handle, chat_id=handle, verified_handle=handle)


class ConsoleChat:
    def __init__(self, core: Core, identity: str, output: TextIO = sys.stdout) -> None:
        self.core = core
        self.files_dir = core.services.settings.files_dir
        """Where the files of replies (charts, exports, case files) are written; their path is printed."""
        self.sender = console_sender(identity)
        self.output = output
        self.last_buttons: list[Button] = []
        self.waiting_for: Button | None = None
        """A pressed button that asked a question: the next line is its answer."""

    def write(self, text: str) -> None:
        self.output.write(text + "\n\n")
        self.output.flush()

    async def say(self, line: str) -> Reply | None:
        """One line typed by the user; returns the reply it produced (None for console-only lines)."""
        text = line.strip()
        if not text:
            return None
        if text.startswith("/as"):
            name = text[3:].strip()
            if not name:
                self.write(f"You are @{self.sender.external_id}. Switch with /as bob.")
                return None
            self.sender = console_sender(name)
            self.write(f"You are now @{self.sender.external_id}.")
            return None
        if self.waiting_for is not None:
            button, self.waiting_for = self.waiting_for, None
            if text == "/cancel":
                self.write("Cancelled.")
                return None
            reply = await asyncio.to_thread(self.core.press, self.sender, button.with_input(text))
        elif text.isdigit() and self.last_buttons:
            index = int(text) - 1
            if not 0 <= index < len(self.last_buttons):
                self.write(f"Choose a number from 1 to {len(self.last_buttons)}.")
                return None
            button = self.last_buttons[index]
            if button.asks:
                self.waiting_for = button
                self.write(f"{button.asks} (or /cancel)")
                return None
            reply = await asyncio.to_thread(self.core.press, self.sender, button.action)
        else:
            reply = await asyncio.to_thread(self.core.handle_text, self.sender, text)
        self.show(reply)
        return reply

    def show(self, reply: Reply) -> None:
        self.last_buttons = list(reply.buttons)
        saved = [f"  Saved {attachment.filename} to {save_file(self.files_dir, attachment)}" for attachment in reply.files]
        self.write("\n".join([render_text(reply), *saved]))

    def prompt(self) -> str:
        return f"{self.sender.external_id}> "


async def run_console(chat: ConsoleChat, read_line: Callable[[], str], interactive: bool) -> None:
    if interactive:
        chat.write("collectbot console — type /help for commands, /as <name> to switch person, /quit to leave.")
    while True:
        if interactive:
            chat.output.write(chat.prompt())
            chat.output.flush()
        line = await asyncio.to_thread(read_line)
        if not line or line.strip() in ("/quit", "/exit"):
            break
        await chat.say(line)
