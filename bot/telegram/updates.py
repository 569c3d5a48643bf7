"""What a Telegram update means to the core: who sent it, whether it is meant for this bot, and
the command text without the bot's name."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import filters

from handlers.context import Sender

PLATFORM = "telegram"
NEW = filters.UpdateType.MESSAGE
"""Commands act on new messages only: editing an old `/paid …` must not record it twice."""
ANSWER = NEW & filters.TEXT & ~filters.COMMAND
"""Words typed in answer to a question (not a command)."""


def sender_of(update: Update) -> Sender:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    return Sender(
        platform=PLATFORM,
        external_id=str(user.id),
        display_name=user.full_name,
        chat_id=str(user.id),
        in_group=chat.type != ChatType.PRIVATE,
    )


def addressed_to_me(text: str, username: str | None) -> bool:
    """`/verb` and `/verb@ThisBot` are for this bot; `/verb@OtherBot` is not."""
    head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return "@" not in head or head.split("@", 1)[1].lower() == (username or "").lower()


def without_bot_name(text: str) -> str:
    """`/add@CollectBot INV-1 …` → `/add INV-1 …`."""
    head, _, rest = text.strip().partition(" ")
    return f"{head.split('@', 1)[0]} {rest}".strip()
