"""`/add` without arguments: a short dialogue (number, amount, due date, customer, confirm) with
/cancel at every step.

Each answer is checked as it comes, with the core's own parsers; the answers then become one
`/add …` line for the core, so the dialogue adds nothing the command itself would refuse.

The dialogue's state (which question is open, the answers so far) is kept in the database per
chat and person, not in this process: behind a load balancer the next answer may reach another
instance, and a restart loses nothing."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.i18n import _, speaking
from bot.store.stored_state import InteractionStore
from bot.platforms.telegram.updates import NEW, refused_as_not_addressee, sender_of, without_bot_name
from bot.floor.dates import DATE_FORMS, parse_date
from bot.floor.errors import UsageError
from bot.floor.money import parse_amount

KIND = "tg-guided-add"
OPEN_FOR = timedelta(hours=1)
"""A dialogue left alone this long is forgotten (the next words are ordinary messages again)."""
NUMBER, AMOUNT, DUE, CUSTOMER, CONFIRM = "number", "amount", "due", "customer", "confirm"
RunText = Callable[[Update, str], Awaitable[None]]
Speaks = Callable[[Update], Awaitable[str]]
TodayOf = Callable[[Update], Awaitable[date]]
"""The writer's own today (their time zone), by the core's rule for typed dates."""
CONFIRM_PATTERN = r"^add:(yes|no)$"


def dialogue_key(update: Update) -> str:
    """Per chat and person: one may run a dialogue in a group and another in private."""
    assert update.effective_chat is not None and update.effective_user is not None
    return f"{update.effective_chat.id}:{update.effective_user.id}"


class GuidedAdd:
    def __init__(self, store: InteractionStore, today_of: TodayOf, run_text: RunText, speaks: Speaks | None = None) -> None:
        self.speaks = speaks or hinted_language
        """The language the dialogue asks in: the person's (the core's choice), else their app's."""
        self.store = store
        self.today_of = today_of
        self.run_text = run_text

    def handlers(self) -> tuple[CommandHandler[Any, Any], CallbackQueryHandler[Any, Any]]:
        """The entry (`/add`) and the confirmation's buttons; answers come through `answer`."""
        return (CommandHandler("add", self.start, filters=NEW),
                CallbackQueryHandler(self.confirm, pattern=CONFIRM_PATTERN))

    async def _load(self, update: Update) -> dict[str, str] | None:
        return await asyncio.to_thread(self.store.get, KIND, dialogue_key(update))

    async def _save(self, update: Update, draft: dict[str, str]) -> None:
        await asyncio.to_thread(self.store.put, KIND, dialogue_key(update), draft, OPEN_FOR)

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if context.args:
            await self.run_text(update, without_bot_name(message.text or ""))
            return
        await self._save(update, {"step": NUMBER})
        with speaking(await self.speaks(update)):
            await ask(update, _("Let's add an invoice. What is its number? (/cancel to stop)"))

    async def answer(self, update: Update) -> bool:
        """Words typed while a question of the dialogue is open: True when they were its answer."""
        if update.effective_chat is None or update.effective_user is None:
            return False
        draft = await self._load(update)
        if draft is None or draft.get("step") == CONFIRM:
            return False
        with speaking(await self.speaks(update)):
            return await self._answer(update, draft)

    async def _answer(self, update: Update, draft: dict[str, str]) -> bool:
        step = draft["step"]
        text = answer_text(update)
        if step == NUMBER:
            if not text or " " in text:
                await ask(update, _("An invoice number is one word, like INV-1042. What is it?"))
                return True
            draft.update(number=text, step=AMOUNT)
            question = _("The amount, with the currency if not the team's (e.g. 1200.50 EUR)?")
        elif step == AMOUNT:
            try:
                parse_amount(" ".join(word for word in text.split() if not (len(word) == 3 and word.isalpha())))
            except UsageError as error:
                await ask(update, _("{problem} Try again, e.g. 1200.50 EUR.", problem=error.problem))
                return True
            draft.update(amount=text, step=DUE)
            question = _("The due date? ({forms})", forms=_(DATE_FORMS))
        elif step == DUE:
            try:
                parse_date(text, await self.today_of(update), "2026-12-01")
            except UsageError as error:
                await ask(update, _("{problem} Try again.", problem=error.problem))
                return True
            draft.update(due=text, step=CUSTOMER)
            question = _("The customer's name?")
        else:
            name = text.replace('"', "").strip()
            if not name:
                await ask(update, _("The customer's name, please?"))
                return True
            draft.update(customer=name, step=CONFIRM)
            await self._save(update, draft)
            summary = _("Add invoice {invoice}: {amount}, due {due}, customer {customer}?", invoice=draft["number"],
                        amount=draft["amount"], due=draft["due"], customer=name)
            await ask(update, summary, InlineKeyboardMarkup([[
                InlineKeyboardButton(_("✅ Add it"), callback_data="add:yes"),
                InlineKeyboardButton(_("✖ Cancel"), callback_data="add:no")]]))
            return True
        await self._save(update, draft)
        await ask(update, question)
        return True

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        if await refused_as_not_addressee(query):
            return
        draft = await asyncio.to_thread(self.store.take, KIND, dialogue_key(update))
        with speaking(await self.speaks(update)):
            if draft is None:  # ended, expired, or someone else's confirmation
                await query.answer(_("That dialogue is not open for you; send /add to start one."), show_alert=True)
                return
            await query.answer()
            if query.data == "add:no" or draft.get("step") != CONFIRM:
                await query.edit_message_text(_("Cancelled; nothing was added."))
                return
        await query.edit_message_reply_markup(None)
        await self.run_text(update, f"/add {draft['number']} {draft['amount']} {draft['due']} \"{draft['customer']}\"")

    async def cancel(self, update: Update) -> bool:
        """/cancel: True when a dialogue was open (and is now dropped)."""
        return await asyncio.to_thread(self.store.drop, KIND, dialogue_key(update))


def answer_text(update: Update) -> str:
    return (update.effective_message.text or "").strip() if update.effective_message else ""


async def ask(update: Update, text: str, buttons: InlineKeyboardMarkup | None = None, *, question: bool = True) -> None:
    """Reply in the dialogue. In a group a question quotes the person's message and forces a reply
    for them only (selective), so their answer reaches the bot even with group privacy mode on."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    in_group = chat.type != ChatType.PRIVATE
    markup = buttons or (ForceReply(selective=True) if question and in_group else None)
    await message.reply_text(text, reply_markup=markup, do_quote=in_group)


async def hinted_language(update: Update) -> str:
    """The language the person's Telegram app is set to."""
    return sender_of(update).language_hint or "en"
