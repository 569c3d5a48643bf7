"""The port through which the scheduler reaches people: each platform adapter implements it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handlers.reply import Reply


class Notifier(Protocol):
    platform: str

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one message; raise on failure (the send queue retries later)."""
        ...


@dataclass(frozen=True)
class RateLimits:
    """How fast one platform may be written to."""

    per_second: float
    per_chat_interval: float


# Telegram: about 30 messages/s overall, 1/s per chat. Slack: about 1/s per channel.
TELEGRAM_LIMITS = RateLimits(per_second=30.0, per_chat_interval=1.0)
SLACK_LIMITS = RateLimits(per_second=20.0, per_chat_interval=1.0)
CONSOLE_LIMITS = RateLimits(per_second=1000.0, per_chat_interval=0.0)
