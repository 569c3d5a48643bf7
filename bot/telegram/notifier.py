"""Pings from the shared scheduler, sent to a person's Telegram chat."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from telegram import Message

from bot.telegram.render import render_messages
from bot.telegram.updates import PLATFORM
from handlers.reply import Reply


@dataclass
class Delivery:
    """How many parts (messages, then files) of one reply have reached the chat."""

    done: int = 0


class SendsReplies(Protocol):
    async def send_reply(self, chat_id: int, reply: Reply, reply_to: int | None = None,
                         delivery: Delivery | None = None) -> list[Message]: ...


class TelegramNotifier:
    """A ping too long for one message goes out in parts; when a later part fails, the send
    queue retries the ping and the parts already delivered are not repeated. Failures raise, as
    the send queue expects; RetryAfter is waited out by the AIORateLimiter before that."""

    platform = PLATFORM
    remembered = 1_000

    def __init__(self, telegram: SendsReplies) -> None:
        self.telegram = telegram
        self.unfinished: OrderedDict[tuple[str, str], Delivery] = OrderedDict()

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
