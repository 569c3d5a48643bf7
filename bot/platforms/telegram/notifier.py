"""Pings from the shared scheduler, sent to a person's Telegram chat.

The send queue renders a ping once into parts (`render`: HTML messages within Telegram's limits,
the keyboard on the last) and sends them one by one (`send_part`), so a retry sends exactly the
same text. Telegram's answers are sorted for the queue: 403 (the person blocked the bot, or the
chat is gone) and 400 (a message Telegram will never accept) are refusals for good
(`Undeliverable`); other error answers (5xx, 429 after the rate limiter's own retries, a refused
connection) certainly did not deliver (`NotDelivered`); a timeout may have delivered, so the queue
marks the resend as a repeat.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from html import escape
from typing import Any, Protocol

from telegram import Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut
from telegram.ext import Application

from bot.platforms.telegram.buttons import ButtonBook
from bot.platforms.telegram.render import LIMIT, keyboard, render_messages, utf16_len
from bot.platforms.telegram.updates import PLATFORM
from bot.floor.reply import Reply
from bot.i18n import LANGUAGES
from scheduling.notifier import NotDelivered, Undeliverable, repeat_note


def repeat_mark(language: str | None) -> str:
    return f"<i>🔁 {escape(repeat_note(language))}</i>\n"


PART_LIMIT = LIMIT - max(utf16_len(repeat_mark(language)) for language in LANGUAGES)
"""Room left in every part for the repeat mark in any language, so a marked resend still fits."""


@dataclass
class Delivery:
    """How many parts (messages, then files) of one reply have reached the chat."""

    done: int = 0


class SendsReplies(Protocol):
    buttons: ButtonBook
    application: Application

    async def send_reply(self, chat_id: int, reply: Reply, reply_to: int | None = None,
                         delivery: Delivery | None = None) -> list[Message]: ...


class TelegramNotifier:
    """A ping too long for one message goes out in parts; when a later part fails, the parts
    already delivered are not repeated."""

    platform = PLATFORM
    remembered = 1_000

    def __init__(self, telegram: SendsReplies) -> None:
        self.telegram = telegram
        self.unfinished: OrderedDict[tuple[str, str], Delivery] = OrderedDict()
        self.read_timeout: float | None = None
        """Seconds to wait for Telegram's answer to a ping (None: the library's default)."""

    async def render(self, chat_id: str, reply: Reply) -> list[dict[str, Any]]:
        data = await self.telegram.buttons.data_for(reply.buttons)
        rows = [[button.label, key] for button, key in zip(reply.buttons, data, strict=True)]
        parts: list[dict[str, Any]] = [{"text": text, "language": reply.language, "repeat": reply.repeat and index == 0}
                                       for index, text in enumerate(render_messages(reply, PART_LIMIT))]
        if rows:
            parts[-1]["keyboard"] = rows
        return parts

    def mark_repeat(self, part: dict[str, Any]) -> dict[str, Any]:
        if part.get("repeat"):
            return part  # its text says so already (the ping was composed as a repeat)
        return {**part, "text": repeat_mark(part.get("language")) + part["text"], "repeat": True}

    async def send_part(self, chat_id: str, part: dict[str, Any]) -> None:
        markup = keyboard([(label, data) for label, data in part.get("keyboard", [])])
        try:
            await self.telegram.application.bot.send_message(int(chat_id), part["text"], parse_mode=ParseMode.HTML,
                                                 reply_markup=markup, read_timeout=self.read_timeout)
        except Forbidden as error:
            raise Undeliverable(f"Telegram refuses: {error.message}") from error
        except BadRequest as error:
            raise Undeliverable(f"Telegram does not accept the message: {error.message}") from error
        except TimedOut:
            raise  # it may have arrived
        except TelegramError as error:
            raise NotDelivered(f"Telegram: {error.message}") from error

    async def send(self, chat_id: str, reply: Reply) -> None:
        key = (chat_id, fingerprint(reply))
        delivery = self.unfinished.pop(key, None) or Delivery()
        try:
            await self.telegram.send_reply(int(chat_id), reply, delivery=delivery)
        except BaseException:
            if delivery.done:
                self.unfinished[key] = delivery
                while len(self.unfinished) > self.remembered:
                    self.unfinished.popitem(last=False)
            raise


def fingerprint(reply: Reply) -> str:
    content = (reply.step_ids, render_messages(reply), [attachment.filename for attachment in reply.files])
    return hashlib.sha256(repr(content).encode()).hexdigest()
