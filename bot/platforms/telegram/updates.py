"""What a Telegram update means to the core: who sent it, whether it is meant for this bot, and
the command text without the bot's name."""
from __future__ import annotations

from telegram import CallbackQuery, Message, Update, User
from telegram.constants import ChatType
from telegram.ext import filters

from bot.i18n import N_, supported_language, translated
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
        language_hint=user.language_code,
    )


def addressed_to_me(text: str, username: str | None) -> bool:
    """`/verb` and `/verb@ThisBot` are for this bot; `/verb@OtherBot` is not."""
    head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return "@" not in head or head.split("@", 1)[1].lower() == (username or "").lower()


def without_bot_name(text: str) -> str:
    """`/add@CollectBot INV-1 …` → `/add INV-1 …`."""
    head, _, rest = text.strip().partition(" ")
    return f"{head.split('@', 1)[0]} {rest}".strip()


def addressee_of(message: Message | None) -> User | None:
    """In a group, whom a message with buttons answers: the author of the message it quotes.
    (Pings and private answers go to private chats, where only their reader can press.)"""
    if message is None or message.chat.type == ChatType.PRIVATE or message.reply_to_message is None:
        return None
    return message.reply_to_message.from_user


async def refused_as_not_addressee(query: CallbackQuery) -> bool:
    """A button in a group answers one person: anyone else pressing it is told so, and nothing runs."""
    addressee = addressee_of(query.message if isinstance(query.message, Message) else None)
    if addressee is None or query.from_user.id == addressee.id:
        return False
    await query.answer(translated(supported_language(query.from_user.language_code),
                                  N_("These buttons are {name}'s; send the command yourself to do the same."),
                                  name=addressee.full_name), show_alert=True)
    return True
