"""`/add` without arguments: a short dialogue (number, amount, due date, customer, confirm) with
/cancel at every step.

Each answer is checked as it comes, with the core's own parsers; the answers then become one
`/add …` line for the core, so the dialogue adds nothing the command itself would refuse."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from warnings import catch_warnings, filterwarnings

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, ConversationHandler, MessageHandler
from telegram.warnings import PTBUserWarning

from bot.clock import Clock
from bot.telegram.updates import ANSWER, NEW, without_bot_name
from handlers.dates import DATE_FORMS, parse_date
from handlers.errors import UsageError
from handlers.money import parse_amount

NUMBER, AMOUNT, DUE, CUSTOMER, CONFIRM = range(5)
RunText = Callable[[Update, str], Awaitable[None]]
Accepts = Callable[[Update], Awaitable[bool]]


class GuidedAdd:
    def __init__(self, clock: Clock, run_text: RunText, accepts: Accepts) -> None:
        self.clock = clock
        self.run_text = run_text
        self.accepts = accepts

    def handler(self) -> ConversationHandler:
        with catch_warnings():
            # The confirmation's inline buttons belong to the user's conversation, not to one
            # message; PTB warns about exactly that choice.
            filterwarnings("ignore", message=r".*per_message=False.*CallbackQueryHandler", category=PTBUserWarning)
            return ConversationHandler(
                entry_points=[CommandHandler("add", self.start, filters=NEW)],
                states={
                    NUMBER: [MessageHandler(ANSWER, self.number)],
                    AMOUNT: [MessageHandler(ANSWER, self.amount)],
                    DUE: [MessageHandler(ANSWER, self.due)],
                    CUSTOMER: [MessageHandler(ANSWER, self.customer)],
                    CONFIRM: [CallbackQueryHandler(self.confirm, pattern=r"^add:(yes|no)$")],
                },
                fallbacks=[CommandHandler("cancel", self.cancel, filters=NEW)],
                per_message=False,
            )

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message = update.effective_message
        assert message is not None
        if context.args:
            await self.run_text(update, without_bot_name(message.text or ""))
            return ConversationHandler.END
        if not await self.accepts(update):
            return ConversationHandler.END
        new_invoice(update, context).clear()
        await ask(update, "Let's add an invoice. What is its number? (/cancel to stop)")
        return NUMBER

    async def number(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        text = answer_text(update)
        if not text or " " in text:
            await ask(update, "An invoice number is one word, like INV-1042. What is it?")
            return NUMBER
        new_invoice(update, context)["number"] = text
        await ask(update, "The amount, with the currency if not the team's (e.g. 1200.50 EUR)?")
        return AMOUNT

    async def amount(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        text = answer_text(update)
        amount_text = " ".join(word for word in text.split() if not (len(word) == 3 and word.isalpha()))
        try:
            parse_amount(amount_text)
        except UsageError as error:
            await ask(update, f"{error.problem} Try again, e.g. 1200.50 EUR.")
            return AMOUNT
        new_invoice(update, context)["amount"] = text
        await ask(update, f"The due date? ({DATE_FORMS})")
        return DUE

    async def due(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        text = answer_text(update)
        try:
            parse_date(text, self.clock.now().date(), "2026-12-01")
        except UsageError as error:
            await ask(update, f"{error.problem} Try again.")
            return DUE
        new_invoice(update, context)["due"] = text
        await ask(update, "The customer's name?")
        return CUSTOMER

    async def customer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        name = answer_text(update).replace('"', "").strip()
        if not name:
            await ask(update, "The customer's name, please?")
            return CUSTOMER
        draft = new_invoice(update, context)
        draft["customer"] = name
        summary = f"Add invoice {draft['number']}: {draft['amount']}, due {draft['due']}, customer {name}?"
        await ask(update, summary, InlineKeyboardMarkup([[
            InlineKeyboardButton("✅ Add it", callback_data="add:yes"), InlineKeyboardButton("✖ Cancel", callback_data="add:no")]]))
        return CONFIRM

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None
        await query.answer()
        draft = dict(new_invoice(update, context))
        new_invoice(update, context).clear()
        if query.data == "add:no" or not draft:
            await query.edit_message_text("Cancelled; nothing was added.")
            return ConversationHandler.END
        await query.edit_message_reply_markup(None)
        await self.run_text(update, f"/add {draft['number']} {draft['amount']} {draft['due']} \"{draft['customer']}\"")
        return ConversationHandler.END

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        new_invoice(update, context).clear()
        await ask(update, "Cancelled; nothing was added.", question=False)
        return ConversationHandler.END


def new_invoice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> dict[str, str]:
    """The answers so far, for this user in this chat (a user may run one dialogue in a group and
    another in private)."""
    assert context.user_data is not None and update.effective_chat is not None
    drafts: dict[int, dict[str, str]] = context.user_data.setdefault("new_invoices", {})
    return drafts.setdefault(update.effective_chat.id, {})


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
