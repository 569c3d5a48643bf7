"""Callback data for inline buttons, within Telegram's 64 bytes.

A button's action travels in the callback data itself when it fits (`b:paid INV-1042`). Longer
actions, and buttons that ask a question first (Promised → "Which date…?"), are stored in the
database under a short key derived from their content (`k:<key>`), so a ping answered days later,
after a restart, still works.
"""
from __future__ import annotations

import asyncio
import hashlib
from base64 import urlsafe_b64encode
from collections import OrderedDict
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from bot.floor.clock import Clock
from bot.store.stored_state import insert_for
from bot.platforms.telegram.tables import ChatButton
from bot.floor.reply import Button

CALLBACK_LIMIT = 64
PLATFORM = "telegram"


def key_of(button: Button) -> str:
    content = "\0".join((button.action, button.asks or "", button.input or ""))
    return urlsafe_b64encode(hashlib.sha256(content.encode()).digest()).decode()[:16]


def inline_data(button: Button) -> str | None:
    """The callback data carrying the action itself, when it fits and nothing is asked first."""
    inline = f"b:{button.action}"
    return inline if button.asks is None and len(inline.encode()) <= CALLBACK_LIMIT else None


class ButtonBook:
    def __init__(self, engine: Engine, clock: Clock, cache_size: int = 10_000) -> None:
        self.engine = engine
        self.clock = clock
        self.cache_size = cache_size
        self._recent: OrderedDict[str, Button] = OrderedDict()

    async def data_for(self, buttons: Sequence[Button]) -> list[str]:
        """Each button's callback data; the ones that need a key are stored first."""
        to_keep = self._unknown(buttons)
        if to_keep:
            await asyncio.to_thread(self._store, to_keep)
            self.remember(to_keep)
        return [inline_data(button) or f"k:{key_of(button)}" for button in buttons]

    def keep(self, buttons: Sequence[Button]) -> dict[str, Button]:
        """Store the buttons that need a key, in the caller's thread (a worker's, right after the
        command, so the answer does not queue for a worker again); `remember` the result on the loop."""
        to_keep = self._unknown(buttons)
        if to_keep:
            self._store(to_keep)
        return to_keep

    def remember(self, kept: dict[str, Button]) -> None:
        for key, button in kept.items():
            self._remember(key, button)

    def _unknown(self, buttons: Sequence[Button]) -> dict[str, Button]:
        return {key_of(button): button for button in buttons
                if inline_data(button) is None and key_of(button) not in self._recent}

    async def button_for(self, data: str) -> Button | None:
        """The button behind pressed callback data, or None when it is unknown."""
        if data.startswith("b:"):
            return Button(label="", action=data[2:])
        if not data.startswith("k:"):
            return None
        key = data[2:]
        if key in self._recent:
            return self._recent[key]
        button = await asyncio.to_thread(self._load, key)
        if button is not None:
            self._remember(key, button)
        return button

    def _remember(self, key: str, button: Button) -> None:
        self._recent[key] = button
        self._recent.move_to_end(key)
        while len(self._recent) > self.cache_size:
            self._recent.popitem(last=False)

    def _store(self, buttons: dict[str, Button]) -> None:
        """One `INSERT … ON CONFLICT DO NOTHING`: a button stored already (by this instance before a
        restart, or by another at the same moment) is the same button, its key being its content."""
        table = ChatButton.__table__  # type: ignore[attr-defined]
        rows = [{"key": key, "platform": PLATFORM, "action": button.action, "asks": button.asks, "input": button.input,
                 "created_at": self.clock.now()} for key, button in buttons.items()]
        with self.engine.begin() as connection:
            connection.execute(insert_for(connection.dialect.name)(table).values(rows).on_conflict_do_nothing(
                index_elements=[table.c.key]))

    def _load(self, key: str) -> Button | None:
        with Session(self.engine) as session:
            kept = session.get(ChatButton, key)
            if kept is None:
                return None
            return Button(label="", action=kept.action, asks=kept.asks, input=kept.input)  # type: ignore[arg-type]
