"""The port through which the scheduler reaches people: each platform adapter implements it.

A notifier may render a ping into parts itself (`PartsNotifier`): the parts are what the
platform gets, stored as they are (JSON) so a retry sends exactly the same text. A notifier that
only knows `send` gets the whole reply as one part.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["REPEAT_NOTE", "NotDelivered", "Notifier", "Part", "PartsNotifier", "RateLimits", "Undeliverable", "WholeReplies",
           "parts_notifier", "repeat_note"]

from bot.i18n import N_, translated
from bot.floor.reply import Paragraph, Reply
from bot.floor.reply_codec import reply_from_json, reply_to_json

REPEAT_NOTE = N_("Repeat: delivery of this reminder was not confirmed before, so you may have seen it already.")
"""Put above a ping sent again because its delivery was not confirmed."""


def repeat_note(language: str | None) -> str:
    """The repeat note in the reader's language."""
    return translated(language, REPEAT_NOTE)

Part = Any
"""One message as a platform sends it, in JSON-able form."""


class Undeliverable(Exception):
    """The platform refuses this message for good (the person blocked the bot, left, or the
    message can never be accepted): retrying is pointless."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotDelivered(Exception):
    """The platform answered with an error: the message certainly did not arrive; retry later.
    Any other exception (a timeout) leaves it open whether it arrived, so a resend is marked as a
    repeat."""


class Notifier(Protocol):
    platform: str

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one message; raise on failure (the send queue retries later)."""
        ...


@runtime_checkable
class PartsNotifier(Protocol):
    platform: str

    async def render(self, chat_id: str, reply: Reply) -> list[Part]:
        """The reply as the messages this platform will get, each within its limits, with room
        left for the repeat mark."""
        ...

    def mark_repeat(self, part: Part) -> Part:
        """The same message marked as a repeat in its reader's language, unless it says so already
        (the part carries `repeat`)."""
        ...

    async def send_part(self, chat_id: str, part: Part) -> None:
        """Deliver one part; raise Undeliverable, NotDelivered or anything else on failure."""
        ...


class WholeReplies:
    """Parts for a notifier that only has `send`: the reply as one part."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.platform = notifier.platform

    async def render(self, chat_id: str, reply: Reply) -> list[Part]:
        return [reply_to_json(reply)]

    def mark_repeat(self, part: Part) -> Part:
        reply = reply_from_json(part)
        if not reply.repeat:
            reply.blocks.insert(0, Paragraph(repeat_note(reply.language)))
            reply.repeat = True
        return reply_to_json(reply)

    async def send_part(self, chat_id: str, part: Part) -> None:
        await self.notifier.send(chat_id, reply_from_json(part))


def parts_notifier(notifier: Notifier) -> PartsNotifier:
    return notifier if isinstance(notifier, PartsNotifier) else WholeReplies(notifier)


@dataclass(frozen=True)
class RateLimits:
    """How fast one platform may be written to (each platform package declares its own)."""

    per_second: float
    per_chat_interval: float

