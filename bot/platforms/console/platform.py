"""The console as a platform: pings print in the terminal session as they fire."""
from __future__ import annotations

from bot.platforms.console.chat import PLATFORM, ConsoleChat
from bot.floor.reply import Reply
from scheduling.notifier import CONSOLE_LIMITS, RateLimits


class ConsoleNotifier:
    platform = PLATFORM

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def send(self, chat_id: str, reply: Reply) -> None:
        handle = chat_id.lstrip("@")
        note = "" if handle == self.chat.sender.external_id else f" (answer as them with /as {handle})"
        self.chat.write(f"🔔 Ping for @{handle}{note}")
        self.chat.show(reply)


class ConsolePlatform:
    """Receiving is the console loop itself (`run_console`); this side only delivers pings."""

    name = PLATFORM
    limits: RateLimits = CONSOLE_LIMITS

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat
        self.notifier = ConsoleNotifier(chat)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
