"""The console as a platform: pings print in the terminal session as they fire."""
from __future__ import annotations

from bot.platforms.console.chat import PLATFORM, ConsoleChat
from bot.floor.reply import Reply
from bot.i18n import _, speaking
from scheduling.notifier import RateLimits
from bot.platforms.console.limits import CONSOLE_LIMITS


class ConsoleNotifier:
    platform = PLATFORM

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def send(self, chat_id: str, reply: Reply) -> None:
        handle = chat_id.lstrip("@")
        with speaking(reply.language):
            if handle == self.chat.sender.external_id:
                self.chat.write(_("🔔 Ping for @{handle}", handle=handle))
            else:
                self.chat.write(_("🔔 Ping for @{handle} (answer as them with /as {handle})", handle=handle))
        self.chat.show(reply)


class ConsolePlatform:
    """Receiving is the console loop itself (`run_console`); this side only delivers pings."""

    name = PLATFORM
    limits: RateLimits = CONSOLE_LIMITS
    catch_all = True
    """Whoever sits at the terminal sees every ping of people with no chat elsewhere."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat
        self.notifier = ConsoleNotifier(chat)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
