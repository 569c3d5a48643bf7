"""collectbot on Telegram (python-telegram-bot 22): commands, buttons, the guided /add, documents,
and pings delivered by the shared scheduler.

The adapter only translates: a Telegram update becomes a `Sender` and a command text for the core;
the core's `Reply` becomes HTML messages with an inline keyboard.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from html import escape
from urllib.parse import urlparse
from warnings import catch_warnings, filterwarnings

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.telegram.buttons import ButtonBook
from bot.telegram.menu import LANGUAGES, commands_for
from bot.telegram.render import LIMIT, keyboard, render_messages
from handlers.core import Core
from handlers.dates import DATE_FORMS, parse_date
from handlers.errors import UsageError
from handlers.grammar import IncomingFile
from handlers.context import Sender
from handlers.money import parse_amount
from handlers.reply import Button, Paragraph, Reply
from scheduling.notifier import TELEGRAM_LIMITS, RateLimits

log = logging.getLogger(__name__)
PLATFORM = "telegram"
QUESTION_HINT = "(reply to this message; /cancel to stop)"
NUMBER, AMOUNT, DUE, CUSTOMER, CONFIRM = range(5)
NEW = filters.UpdateType.MESSAGE
"""Commands act on new messages only: editing an old `/paid …` must not record it twice."""
ANSWER = NEW & filters.TEXT & ~filters.COMMAND


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


@dataclass
class Delivery:
    """How many parts (messages, then files) of one reply have reached the chat."""

    done: int = 0


class TelegramNotifier:
    """Pings from the scheduler. A ping too long for one message goes out in parts; when a later
    part fails, the send queue retries the ping and the parts already delivered are not repeated."""

    platform = PLATFORM
    remembered = 1_000

    def __init__(self, telegram: "TelegramPlatform") -> None:
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
    return hashlib.sha256(repr((reply.step_ids, render_messages(reply), [f.filename for f in reply.files])).encode()).hexdigest()


class TelegramPlatform:
    name = PLATFORM
    limits: RateLimits = TELEGRAM_LIMITS

    def __init__(self, core: Core, settings: Settings) -> None:
        assert settings.telegram_bot_token, "TELEGRAM_BOT_TOKEN is not set"
        self.core = core
        self.settings = settings
        self.buttons = ButtonBook(core.services.engine, core.services.clock)
        self.awaiting: dict[tuple[int, int], tuple[Button, Message | None, int]] = {}
        """Questions asked with a forced reply: (chat, prompt message) → the button that asked, the
        message it was on, and the user asked."""
        self.notifier = TelegramNotifier(self)
        self.application = self._build_application()

    # -- application ------------------------------------------------------------------------
    def _build_application(self) -> Application:
        application = (
            ApplicationBuilder()
            .token(self.settings.telegram_bot_token or "")
            .base_url(self.settings.telegram_api_base_url)
            .base_file_url(self.settings.telegram_file_base_url)
            .rate_limiter(AIORateLimiter(max_retries=5))
            .build()
        )
        verbs = sorted(self.core.catalogue)
        application.add_handler(self._guided_add())
        application.add_handler(CommandHandler([v for v in verbs if v != "add"], self.on_command, filters=NEW))
        application.add_handler(MessageHandler(NEW & filters.Document.ALL & filters.CaptionRegex(r"^/import\b"), self.on_document))
        application.add_handler(MessageHandler(NEW & filters.REPLY & filters.TEXT & ~filters.COMMAND, self.on_answer))
        application.add_handler(CommandHandler("cancel", self.on_cancel, filters=NEW))
        application.add_handler(MessageHandler(NEW & filters.COMMAND, self.on_unknown_command))
        application.add_handler(MessageHandler(NEW & filters.TEXT & filters.ChatType.PRIVATE, self.on_text))
        application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.COMMAND, self.on_edited_command))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_error_handler(self.on_error)
        return application

    def _guided_add(self) -> ConversationHandler:
        with catch_warnings():
            # The confirmation's inline buttons belong to the user's conversation, not to one
            # message; PTB warns about exactly that choice.
            filterwarnings("ignore", message=r".*per_message=False.*CallbackQueryHandler", category=PTBUserWarning)
            return ConversationHandler(
                entry_points=[CommandHandler("add", self.add_start, filters=NEW)],
                states={
                    NUMBER: [MessageHandler(ANSWER, self.add_number)],
                    AMOUNT: [MessageHandler(ANSWER, self.add_amount)],
                    DUE: [MessageHandler(ANSWER, self.add_due)],
                    CUSTOMER: [MessageHandler(ANSWER, self.add_customer)],
                    CONFIRM: [CallbackQueryHandler(self.add_confirm, pattern=r"^add:(yes|no)$")],
                },
                fallbacks=[CommandHandler("cancel", self.add_cancel, filters=NEW)],
                per_message=False,
            )

    async def start(self) -> None:
        await self.application.initialize()
        me = self.application.bot
        self.core.services.bot_usernames[PLATFORM] = me.username
        await self.publish_commands()
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        if self.settings.telegram_webhook_url:
            webhook_url = self.settings.telegram_webhook_url
            await updater.start_webhook(
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                url_path=urlparse(webhook_url).path.strip("/") or "telegram",
                webhook_url=webhook_url,
                # Without a configured secret a fresh one is made: setWebhook hands it to Telegram
                # at every start, so only Telegram's own calls are accepted.
                secret_token=self.settings.telegram_webhook_secret or secrets.token_urlsafe(32),
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            await updater.start_polling(timeout=self.settings.telegram_poll_timeout, poll_interval=0.0,
                                        allowed_updates=Update.ALL_TYPES)

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def publish_commands(self) -> None:
        """The command menu, from the core's catalogue: the default one and one per language."""
        specs = list(self.core.catalogue.values())
        await self.application.bot.set_my_commands(commands_for(specs))
        for language in LANGUAGES:
            await self.application.bot.set_my_commands(commands_for(specs, language), language_code=language)

    # -- sending ----------------------------------------------------------------------------
    async def send_reply(self, chat_id: int, reply: Reply, reply_to: int | None = None,
                         delivery: Delivery | None = None) -> list[Message]:
        """The reply's messages, then its files. With a `delivery`, the parts it counts as done
        are skipped and each part sent is counted, so a retry after a failure goes on from there."""
        delivery = delivery or Delivery()
        data = await self.buttons.data_for(reply.buttons)
        markup = keyboard([(button.label, key) for button, key in zip(reply.buttons, data)])
        texts = render_messages(reply)
        # A reply to a message deleted meanwhile is still sent, just without the quote.
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
        sent = []
        for index, text in enumerate(texts):
            if index < delivery.done:
                continue
            sent.append(await self.application.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup if index == len(texts) - 1 else None,
                reply_parameters=quote if index == 0 else None,
            ))
            delivery.done += 1
        for index, attachment in enumerate(reply.files, start=len(texts)):
            if index < delivery.done:
                continue
            document = InputFile(attachment.content, filename=attachment.filename)
            if attachment.kind == "photo":
                await self.application.bot.send_photo(chat_id, document, caption=attachment.filename)
            else:
                await self.application.bot.send_document(chat_id, document, caption=attachment.filename)
            delivery.done += 1
        return sent

    async def answer(self, update: Update, reply: Reply) -> None:
        """Reply where the user wrote; in a group, facts meant for one person stay out of it."""
        message = update.effective_message
        chat = update.effective_chat
        assert message is not None and chat is not None
        if reply.private and chat.type != ChatType.PRIVATE:
            username = self.core.services.bot_usernames.get(PLATFORM, "")
            reply = Reply(title="Let's take this to a private chat").say(
                f"That answer holds details meant for you only, so I don't show it in a group. "
                f"Ask me in a private chat: https://t.me/{username}")
        await self.send_reply(chat.id, reply, reply_to=message.message_id if chat.type != ChatType.PRIVATE else None)

    # -- receiving --------------------------------------------------------------------------
    async def accepts(self, update: Update) -> bool:
        """In group chats the bot answers team members only; strangers are ignored."""
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE:
            return True
        return await asyncio.to_thread(self.core.is_member, sender_of(update))

    async def run_text(self, update: Update, text: str, files: tuple[IncomingFile, ...] = ()) -> None:
        if not await self.accepts(update):
            return
        reply = await asyncio.to_thread(self.core.handle_text, sender_of(update), text, files)
        await self.answer(update, reply)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message and message.text:
            await self.run_text(update, without_bot_name(message.text))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if not message or not message.text:
            return
        if not addressed_to_me(message.text, context.bot.username):
            return
        await self.run_text(update, without_bot_name(message.text))

    async def on_edited_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if not message or not message.text or not addressed_to_me(message.text, context.bot.username):
            return
        if await self.accepts(update):
            await message.reply_text("I don't run edited commands again; send the corrected command as a new message.")

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Plain words in a private chat: the core says how commands look (and guesses one)."""
        message = update.effective_message
        if message and message.text:
            await self.run_text(update, message.text)

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/cancel outside the guided /add: drop the question a button asked, if any."""
        chat = update.effective_chat
        user = update.effective_user
        message = update.effective_message
        assert chat is not None and user is not None and message is not None
        asked = [key for key, (_, _, asker) in self.awaiting.items() if key[0] == chat.id and asker == user.id]
        for key in asked:
            del self.awaiting[key]
        await message.reply_text("Cancelled; nothing was recorded." if asked else "There is nothing to cancel.")

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        if not addressed_to_me(message.caption or "", context.bot.username) or not await self.accepts(update):
            return
        telegram_file = await message.document.get_file()
        content = bytes(await telegram_file.download_as_bytearray())
        incoming = IncomingFile(message.document.file_name or "upload.csv", content, message.document.mime_type or "text/csv")
        reply = await asyncio.to_thread(self.core.handle_text, sender_of(update), without_bot_name(message.caption or "/import"), (incoming,))
        await self.answer(update, reply)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        button = await self.buttons.button_for(query.data or "")
        if button is None:
            await query.answer("This button has expired; please use the command instead.", show_alert=True)
            return
        if not await self.accepts(update):
            await query.answer()
            return
        message = query.message if isinstance(query.message, Message) else None
        if button.asks:
            await query.answer()
            await self.ask_for(update, button, message)
            return
        await self.press(update, query, button.action, message)

    async def ask_for(self, update: Update, button: Button, original: Message | None, problem: str = "") -> None:
        """The button's question, as a forced reply; the answer comes back to on_answer."""
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        # In a group the forced reply opens only for the person named in the question.
        whom = "" if chat.type == ChatType.PRIVATE else f"{user.mention_html()}, "
        forms = f" ({DATE_FORMS})" if button.input == "date" else ""
        prompt = await self.application.bot.send_message(
            chat.id, f"{escape(problem)}{whom}{escape(button.asks or '')}{escape(forms)}\n{QUESTION_HINT}",
            parse_mode=ParseMode.HTML, reply_markup=ForceReply(selective=True))
        self.awaiting[(chat.id, prompt.message_id)] = (button, original, user.id)

    async def on_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.reply_to_message is not None
        key = (message.chat_id, message.reply_to_message.message_id)
        asked = self.awaiting.get(key)
        if asked is None:
            if is_question(message.reply_to_message, context.bot.id):
                await message.reply_text("That question is no longer open (it was cancelled, or I was restarted). Press the button again to answer it.")
            elif message.chat.type == ChatType.PRIVATE:
                await self.on_text(update, context)
            return
        if message.from_user is None or message.from_user.id != asked[2]:
            return  # someone else answering another person's question
        del self.awaiting[key]
        button, original, _ = asked
        answer = (message.text or "").strip()
        if button.input == "date":
            try:
                parse_date(answer, self.core.services.clock.now().date(), "2026-12-15")
            except UsageError as error:
                await self.ask_for(update, button, original, f"{error.problem}\n")
                return
        await self.press(update, None, button.with_input(answer), original)

    async def press(self, update: Update, query: CallbackQuery | None, action: str, original: Message | None) -> None:
        reply = await asyncio.to_thread(self.core.press, sender_of(update), action)
        if query is not None:
            await query.answer(toast(reply), show_alert=reply.is_error)
        if original is not None and not reply.is_error:
            await self.mark_done(original, reply, update)
        await self.answer(update, reply)

    async def mark_done(self, original: Message, reply: Reply, update: Update) -> None:
        """Keep the chat truthful: the ping now says what was done, by whom, and loses its buttons."""
        what = reply.title or "Done"
        who = update.effective_user.full_name if update.effective_user else "someone"
        try:
            if len(original.text or "") + len(f"\n\n✔ {what} — by {who}") <= LIMIT:
                note = f"\n\n✔ <i>{escape(what)}</i> — by {escape(who)}"
                await original.edit_text((original.text_html or "") + note, parse_mode=ParseMode.HTML, reply_markup=None)
            else:  # no room for the note: drop the buttons and say it underneath
                await original.edit_reply_markup(None)
                await original.reply_text(f"✔ {what} — by {who}")
        except TelegramError:  # an old or deleted message: the answer itself is still sent
            log.info("could not mark message %s as answered", original.message_id, exc_info=True)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed", exc_info=context.error)

    # -- the guided /add ----------------------------------------------------------------------
    # Each answer is checked as it comes, with the core's own parsers; the answers then become one
    # "/add …" line for the core, so the dialogue adds nothing the command itself would refuse.
    async def add_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
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

    async def add_number(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        text = answer_text(update)
        if not text or " " in text:
            await ask(update, "An invoice number is one word, like INV-1042. What is it?")
            return NUMBER
        new_invoice(update, context)["number"] = text
        await ask(update, "The amount, with the currency if not the team's (e.g. 1200.50 EUR)?")
        return AMOUNT

    async def add_amount(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
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

    async def add_due(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        text = answer_text(update)
        try:
            parse_date(text, self.core.services.clock.now().date(), "2026-12-01")
        except UsageError as error:
            await ask(update, f"{error.problem} Try again.")
            return DUE
        new_invoice(update, context)["due"] = text
        await ask(update, "The customer's name?")
        return CUSTOMER

    async def add_customer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
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

    async def add_confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
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

    async def add_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        new_invoice(update, context).clear()
        await ask(update, "Cancelled; nothing was added.", question=False)
        return ConversationHandler.END


def new_invoice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> dict[str, str]:
    """The guided /add's answers so far, for this user in this chat (a user may run one in a
    group and another in private)."""
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


def toast(reply: Reply) -> str | None:
    """The short note Telegram shows on the pressed button: the title, or an error's problem."""
    first = reply.blocks[0] if reply.blocks else None
    text = reply.title or (first.text if reply.is_error and isinstance(first, Paragraph) else "")
    return text[:200] or None


def is_question(message: Message, bot_id: int) -> bool:
    """Whether `message` is one of this bot's forced-reply questions."""
    return message.from_user is not None and message.from_user.id == bot_id and (message.text or "").endswith(QUESTION_HINT)


def addressed_to_me(text: str, username: str | None) -> bool:
    """`/verb` and `/verb@ThisBot` are for this bot; `/verb@OtherBot` is not."""
    head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return "@" not in head or head.split("@", 1)[1].lower() == (username or "").lower()


def without_bot_name(text: str) -> str:
    """`/add@CollectBot INV-1 …` → `/add INV-1 …`."""
    head, _, rest = text.strip().partition(" ")
    return f"{head.split('@', 1)[0]} {rest}".strip()


def build_platform(core: Core, settings: Settings) -> TelegramPlatform:
    return TelegramPlatform(core, settings)
