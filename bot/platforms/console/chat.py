"""The built-in console chat: the same commands and replies as Telegram or Slack, in a terminal.

Interactive on a terminal (prompt shows who you are); scriptable when stdin is a pipe (one
command per line in, replies out). `/as bob` switches identity; a number presses that button of
the last reply; `/quit` or end of input leaves.

No dead ends compared with the chat apps: `/import path/to.csv` reads the file from its path; the
files of replies are written to `FILES_DIR` and their paths printed; a button's question stays open
after a mistyped answer (with the numbered buttons) until it is answered or `/cancel`led.
"""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.platforms.console.import_path import import_with_path
from bot.platforms.text import WIDTH, render_buttons, render_text
from handlers.context import Sender
from handlers.grammar import IncomingFile
from handlers.core import Core
from bot.floor.dates import DATE_FORMS, parse_date
from bot.floor.errors import UsageError
from bot.floor.reply import Attachment, Button, Reply, error_reply
from bot.i18n import N_, _, speaking

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


def console_sender(name: str, files_by_path: bool = False) -> Sender:
    """A console person; the chat gives files by path, the test driver and the command line attach them."""
    handle = name.strip().lstrip("@").lower()
    return Sender(platform=PLATFORM, external_id=handle, display_name=handle, chat_id=handle, verified_handle=handle,
                  files_by_path=files_by_path)


class ConsoleChat:
    def __init__(self, core: Core, identity: str, output: TextIO = sys.stdout, width: int = WIDTH) -> None:
        self.core = core
        self.width = width
        """Columns the replies' paragraphs are wrapped to."""
        self.files_dir = core.services.settings.files_dir
        """Where the files of replies (charts, exports, case files) are written; their path is printed."""
        self.sender = console_sender(identity, files_by_path=True)
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
                self.write(self.said(N_("You are @{handle}. Switch with /as bob."), handle=self.sender.external_id))
                return None
            self.sender = console_sender(name, files_by_path=True)
            self.waiting_for = None  # a question is answered by whoever pressed its button
            self.write(self.said(N_("You are now @{handle}."), handle=self.sender.external_id))
            return None
        if self.waiting_for is not None:
            if text == "/cancel":
                self.waiting_for = None
                self.write(self.said(N_("Cancelled.")))
                return None
            if not text.startswith("/") and not (text.isdigit() and self.waiting_for.input == "date"):
                return await self.answer(self.waiting_for, text)
        if text.isdigit() and self.last_buttons:
            index = int(text) - 1
            if not 0 <= index < len(self.last_buttons):
                self.write(self.said(N_("Choose a number from 1 to {last}."), last=len(self.last_buttons)))
                return None
            self.waiting_for = None  # another button's number (never a date) leaves the question
            button = self.last_buttons[index]
            if button.asks:
                self.waiting_for = button
                self.ask(button)
                return None
            reply = await asyncio.to_thread(self.core.press, self.sender, button.action)
            self.show(reply)
            return reply
        self.waiting_for = None  # a command leaves the question
        path_import: tuple[str, IncomingFile] | Reply | None = None
        if text.lower().startswith("/import"):  # refused in the person's language, like a reply
            with speaking(self.core.language_of(self.sender)) as language:
                path_import = import_with_path(text, Path.cwd())
            if isinstance(path_import, Reply):
                path_import.language = language
        if path_import is not None:
            if isinstance(path_import, Reply):
                reply = path_import
            else:
                reply = await asyncio.to_thread(self.core.handle_text, self.sender, path_import[0], (path_import[1],))
        else:
            reply = await asyncio.to_thread(self.core.handle_text, self.sender, text)
        self.show(reply)
        return reply

    async def answer(self, button: Button, text: str) -> Reply:
        """The answer to a button's question. A refused answer leaves the question open, with the
        last reply's numbered buttons, until it is answered or cancelled."""
        reply = await asyncio.to_thread(self.check_date, text) if button.input == "date" else None
        if reply is None:
            reply = await asyncio.to_thread(self.core.press, self.sender, button.with_input(text))
        if reply.is_error:
            self.write(render_text(reply, width=self.width))
            self.ask(button)
            return reply
        self.waiting_for = None
        self.show(reply)
        return reply

    def check_date(self, text: str) -> Reply | None:
        """A date answer is read whole before it goes in ("next friday" is refused, not cut to "next")."""
        today = self.core.today_of(self.sender)  # the person's own day, as typed commands read it
        with speaking(self.core.language_of(self.sender)) as language:
            try:
                parse_date(text, today)
            except UsageError as error:
                refused = error_reply(error.problem, (today + timedelta(days=7)).isoformat())
                refused.language = language
                return refused
        return None

    def ask(self, button: Button) -> None:
        with speaking(self.core.language_of(self.sender)):
            if button.input == "date":
                question = _("{question} ({forms}) — type the answer, or /cancel.", question=button.asks or "",
                             forms=_(DATE_FORMS))
            else:
                question = _("{question} — type the answer, or /cancel.", question=button.asks or "")
            if button.input == "date" and self.last_buttons:
                question += "\n" + _("{buttons}  — or type another button's number", buttons=render_buttons(self.last_buttons))
        self.write(question)

    def show(self, reply: Reply) -> None:
        self.last_buttons = list(reply.buttons)
        with speaking(reply.language):
            saved = [_("  Saved {file} to {path}", file=attachment.filename, path=save_file(self.files_dir, attachment))
                     for attachment in reply.files]
        self.write("\n".join([render_text(reply, files=False, width=self.width), *saved]))

    def said(self, message: str, /, **values: object) -> str:
        """`message` (a console-only line) in the language of the person at the terminal."""
        with speaking(self.core.language_of(self.sender)):
            return _(message, **values)

    def prompt(self) -> str:
        return f"{self.sender.external_id}> "


async def run_console(chat: ConsoleChat, read_line: Callable[[], str], interactive: bool) -> None:
    if interactive:
        chat.write(chat.said(N_("collectbot console — type /help for commands, /as <name> to switch person, /quit to leave.")))
    while True:
        if interactive:
            chat.output.write(chat.prompt())
            chat.output.flush()
        line = await asyncio.to_thread(read_line)
        if not line or line.strip() in ("/quit", "/exit"):
            break
        await chat.say(line)
