"""Updates of different chats handled side by side, each chat's in the order they came.

python-telegram-bot handles one update at a time unless told otherwise, so 50 people typing at
once wait for each other's commands. Fully concurrent updates would let one person's quick
answer to a question overtake the question's own command; here a chat's updates wait for each
other and nobody else's.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

CONCURRENT_UPDATES = 64
"""Updates in progress at once (across chats); each command's work waits for a worker thread."""


class OneChatAtATime(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int | None, tuple[asyncio.Lock, int]] = {}
        """Per chat with updates in progress: its lock and how many updates hold or wait for it."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        lock, users = self._chats.get(chat) or (asyncio.Lock(), 0)
        self._chats[chat] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._chats[chat]
            if users == 1:
                del self._chats[chat]
            else:
                self._chats[chat] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
