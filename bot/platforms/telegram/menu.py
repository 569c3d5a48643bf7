"""The command menu Telegram shows next to the message box (setMyCommands), in each language the
bot speaks. The verbs and the English lines come from the core's catalogue; the other languages'
lines are the summaries' translations in the gettext catalogs (bot/i18n/locale)."""
from __future__ import annotations

from collections.abc import Iterable

from telegram import BotCommand

from bot.i18n import LANGUAGES as ALL_LANGUAGES
from bot.i18n import translated
from handlers.catalogue import CommandSpec

LANGUAGES = ALL_LANGUAGES
"""A menu per language the bot speaks, besides the default one (English) for phones in other languages."""
DESCRIPTION_LIMIT = 256


def commands_for(specs: Iterable[CommandSpec], language: str | None = None) -> list[BotCommand]:
    """The menu in `language` (None: the default menu, in English): each command's summary from
    the language's catalog (bot/i18n)."""
    return [BotCommand(spec.verb, translated(language or "en", spec.summary)[:DESCRIPTION_LIMIT]) for spec in specs]
