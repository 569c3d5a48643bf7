"""collectbot on Telegram (python-telegram-bot 22): the application, commands, buttons and their
questions, documents, and replies; the guided /add, the pings' notifier, rendering, the button book
and the command menu live in their own modules beside this one.

The adapter only translates: a Telegram update becomes a `Sender` and a command text for the core;
the core's `Reply` becomes HTML messages with an inline keyboard.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from html import escape
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommandScopeChat, CallbackQuery, ForceReply, InputFile, Message, ReplyParameters, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.i18n import N_, _, language_of, speaking, translated
from bot.floor.config import Settings, reveal
from bot.floor.logs import keep_secret
from bot.store.stored_state import InteractionStore, LeaseKeeper
from bot.platforms.telegram.buttons import ButtonBook
from bot.platforms.telegram.chat_order import OneChatAtATime
from bot.platforms.telegram.guided_add import GuidedAdd
from bot.platforms.telegram.menu import LANGUAGES, commands_for
from bot.platforms.telegram.notifier import Delivery, TelegramNotifier
from bot.platforms.telegram.render import CALLBACK_ANSWER_LIMIT, CAPTION_LIMIT, LIMIT, fit, keyboard, render_messages, utf16_len
from bot.platforms.telegram.updates import ANSWER, NEW, PLATFORM, addressed_to_me, refused_as_not_addressee, sender_of, without_bot_name
from handlers.core import Core
from bot.floor.dates import DATE_FORMS, parse_date
from bot.floor.errors import UsageError
from handlers.grammar import IncomingFile
from handlers.importing import IMPORT_EXAMPLE, MAX_UPLOAD_BYTES
from bot.floor.reply import Button, Paragraph, Reply, error_reply
from scheduling.notifier import RateLimits
from bot.platforms.telegram.limits import TELEGRAM_LIMITS

log = logging.getLogger(__name__)
QUESTION_HINT = N_("(reply to this message; /cancel to stop)")
QUESTION = "tg-question"
QUESTION_OPEN_FOR = timedelta(days=1)
GATE = -1
"""The handler group of the gate, run before every listener (PTB runs groups in ascending order)."""
POLLING_LEASE = "telegram-polling"
POLLING_LOOP = "telegram polling lease"
"""The lease loop's name in the liveness register (/healthz, /metrics)."""


class TelegramPlatform:
    name = PLATFORM
    limits: RateLimits = TELEGRAM_LIMITS
    catch_all = False

    def __init__(self, core: Core, settings: Settings) -> None:
        assert settings.telegram_bot_token, "TELEGRAM_BOT_TOKEN is not set"
        self.core = core
        self.settings = settings
        self.buttons = ButtonBook(core.services.engine, core.services.clock)
        self.store = InteractionStore(core.services.engine, core.services.clock)
        """Questions asked with a forced reply and guided dialogues, in the database: any instance
        takes the answer."""
        self.guided_add = GuidedAdd(self.store, self.today_of, self.run_text, self.speaks)
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.polling_lease = LeaseKeeper(core.services.engine, core.services.clock, POLLING_LEASE, self.instance,
                                         timedelta(seconds=settings.telegram_polling_lease_seconds))
        self._polling: asyncio.Task[None] | None = None
        self.menus: dict[int, str] = {}
        """The language of the command menu each private chat shows, where this instance set one (`follow_language`)."""
        self.notifier = TelegramNotifier(self)
        self.application = self._build_application()

    # -- application ------------------------------------------------------------------------
    def _build_application(self) -> Application:
        application = (
            ApplicationBuilder()
            .token(reveal(self.settings.telegram_bot_token) or "")
            .base_url(self.settings.telegram_api_base_url)
            .base_file_url(self.settings.telegram_file_base_url)
            .rate_limiter(AIORateLimiter(overall_max_rate=self.settings.telegram_messages_per_second, max_retries=5))
            .concurrent_updates(OneChatAtATime())
            .build()
        )
        verbs = sorted(self.core.catalogue)
        application.add_handler(TypeHandler(Update, self.gate), group=GATE)
        add_command, add_confirmation = self.guided_add.handlers()
        application.add_handler(add_command)
        application.add_handler(CommandHandler([v for v in verbs if v not in ("add", "cancel")], self.on_command, filters=NEW))
        application.add_handler(MessageHandler(NEW & filters.Document.ALL & filters.CaptionRegex(r"^/import\b"), self.on_document))
        application.add_handler(MessageHandler(ANSWER, self.on_words))
        application.add_handler(CommandHandler("cancel", self.on_cancel, filters=NEW))
        application.add_handler(MessageHandler(NEW & filters.COMMAND, self.on_unknown_command))
        application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.COMMAND, self.on_edited_command))
        application.add_handler(add_confirmation)
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_error_handler(self.on_error)
        return application

    async def start(self) -> None:
        await self.application.initialize()
        me = self.application.bot
        self.core.services.bot_usernames[PLATFORM] = me.username
        self.core.services.invite_links[N_("Telegram link")] = lambda code: f"https://t.me/{me.username}?start={code}"
        await self.publish_commands()
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        if self.settings.telegram_webhook_url:
            webhook_url = self.settings.telegram_webhook_url
            secret = reveal(self.settings.telegram_webhook_secret) or secrets.token_urlsafe(32)
            keep_secret(secret)
            await updater.start_webhook(
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                url_path=urlparse(webhook_url).path.strip("/") or "telegram",
                webhook_url=webhook_url,
                # Without a configured secret a fresh one is made: setWebhook hands it to Telegram
                # at every start, so only Telegram's own calls are accepted.
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            # Telegram hands each update to one getUpdates caller: one instance polls at a time,
            # the others wait for the lease and take over when it lapses or is let go.
            await self.poll_if_leased()
            self._polling = asyncio.create_task(self.keep_polling_lease(), name="telegram-polling-lease")

    async def poll_if_leased(self) -> None:
        updater = self.application.updater
        assert updater is not None
        health = self.core.services.health
        try:
            leased = await asyncio.to_thread(self.polling_lease.acquire)
            why = "the Telegram polling lease went to another instance; polling stops here"
            health.beat(POLLING_LOOP)  # holding or waiting, the loop is alive (wall time, like every loop)
        except Exception as error:
            log.warning("could not renew the Telegram polling lease", exc_info=True)
            health.failed(POLLING_LOOP, RuntimeError(f"could not keep the Telegram polling lease ({type(error).__name__})"))
            leased, why = False, "without the database the polling lease cannot be kept; polling pauses"
        if leased and not updater.running:
            log.info("polling Telegram (this instance holds the lease)")
            await updater.start_polling(timeout=self.settings.telegram_poll_timeout, poll_interval=0.0,
                                        allowed_updates=Update.ALL_TYPES)
        elif not leased and updater.running:
            log.warning(why)
            await updater.stop()

    async def keep_polling_lease(self) -> None:
        """Renew the lease every third of its length; take it when it lapses; never give up. Each
        round reports to the liveness register (POLLING_LOOP), like the scheduler's loops."""
        health = self.core.services.health
        try:
            while True:
                await asyncio.sleep(self.settings.telegram_polling_lease_seconds / 3)
                try:
                    await self.poll_if_leased()
                except Exception as error:
                    log.exception("Telegram polling could not be started or stopped; trying again")
                    health.failed(POLLING_LOOP, error)
        finally:
            health.stopped(POLLING_LOOP)

    async def stop(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            await asyncio.gather(self._polling, return_exceptions=True)
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._polling is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.polling_lease.release)
            self._polling = None
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
        markup = keyboard([(button.label, key) for button, key in zip(reply.buttons, data, strict=True)])
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
                await self.application.bot.send_photo(chat_id, document, caption=fit(attachment.filename, CAPTION_LIMIT))
            else:
                await self.application.bot.send_document(chat_id, document, caption=fit(attachment.filename, CAPTION_LIMIT))
            delivery.done += 1
        return sent

    async def answer(self, update: Update, reply: Reply) -> None:
        """Reply where the user wrote; in a group, an answer meant for one person goes to their
        private chat and the group is told so (or, if they never opened one, how to)."""
        message = update.effective_message
        chat = update.effective_chat
        user = update.effective_user
        assert message is not None and chat is not None
        if chat.type == ChatType.PRIVATE and user is not None:
            await self.follow_language(chat.id, user.language_code, reply.language)
        if reply.private and chat.type != ChatType.PRIVATE:
            username = self.core.services.bot_usernames.get(PLATFORM, "")
            try:
                if user is None:
                    raise TelegramError("no user to write to")
                await self.send_reply(user.id, reply)
                with speaking(reply.language) as language:
                    what = reply.title if reply.title and not reply.is_error else _("My answer")
                    reply = Reply(title=what, language=language).say(_(
                        "I sent you the details in our private chat (https://t.me/{username}), so they stay out of the group.",
                        username=username))
            except TelegramError:  # they never opened a private chat with the bot
                log.info("could not answer user %s privately", user.id if user else None, exc_info=True)
                with speaking(reply.language) as language:
                    reply = Reply(title=_("Let's take this to a private chat"), language=language).say(_(
                        "That answer holds details meant for you only, so I don't show it in a group. "
                        "Ask me in a private chat: https://t.me/{username}", username=username))
        await self.send_reply(chat.id, reply, reply_to=message.message_id if chat.type != ChatType.PRIVATE else None)

    async def follow_language(self, chat_id: int, app_language: str | None, language: str | None) -> None:
        """A private chat's command menu in the language its person chose (`/team set lang=…`) where
        that is not the one their app shows (the menus per app language are set at start)."""
        chosen = language_of(language)
        if chosen == self.menus.get(chat_id, language_of(app_language)):
            return
        try:
            await self.application.bot.set_my_commands(commands_for(self.core.catalogue.values(), chosen),
                                                       scope=BotCommandScopeChat(chat_id))
        except TelegramError:
            log.warning("could not set the command menu of chat %s", chat_id, exc_info=True)
            return
        self.menus[chat_id] = chosen

    # -- receiving --------------------------------------------------------------------------
    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Before every listener (handler group GATE): in a group chat, a message from someone not
        on the team goes no further. A button press passes: its listener first tells someone
        pressing another person's button so, then asks the same question."""
        if update.callback_query is None and not await self.accepts(update):
            raise ApplicationHandlerStop

    async def speaks(self, update: Update) -> str:
        """The language to answer this person in, for the adapter's own words (the core's choice)."""
        return await asyncio.to_thread(self.core.language_of, sender_of(update))

    async def accepts(self, update: Update) -> bool:
        """In group chats the bot answers team members only; strangers are ignored."""
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE:
            return True
        return await asyncio.to_thread(self.core.is_member, sender_of(update))

    async def run_text(self, update: Update, text: str, files: tuple[IncomingFile, ...] = ()) -> None:
        reply = await self.in_worker(self.core.handle_text, sender_of(update), text, files)
        await self.answer(update, reply)

    async def in_worker(self, work: Callable[..., Reply], *arguments: Any) -> Reply:
        """The core's reply, with its buttons stored in the same worker thread's turn."""
        def run() -> tuple[Reply, dict[str, Button]]:
            reply = work(*arguments)
            return reply, self.buttons.keep(reply.buttons)

        reply, kept = await asyncio.to_thread(run)
        self.buttons.remember(kept)
        return reply

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
        with speaking(await self.speaks(update)):
            await message.reply_text(_("I don't run edited commands again; send the corrected command as a new message."))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Plain words in a private chat: the core says how commands look (and guesses one)."""
        message = update.effective_message
        if message and message.text:
            await self.run_text(update, message.text)

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/cancel: end the guided /add, or drop the questions a button asked, if any. With
        arguments it is the core's `/cancel <invoice-no> <reason>`."""
        if context.args:
            await self.on_command(update, context)
            return
        chat, user, message = update.effective_chat, update.effective_user, update.effective_message
        assert chat is not None and user is not None and message is not None
        with speaking(await self.speaks(update)):
            if await self.guided_add.cancel(update):
                await message.reply_text(_("Cancelled; nothing was added."), do_quote=chat.type != ChatType.PRIVATE)
                return
            dropped = await asyncio.to_thread(self.store.drop_where, QUESTION, f"{chat.id}:{user.id}")
            await message.reply_text(_("Cancelled; nothing was recorded.") if dropped else _("There is nothing to cancel."))

    async def on_words(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Words that are not a command: an answer in the guided /add, an answer to a question,
        or (in a private chat) plain words the core explains."""
        message = update.effective_message
        assert message is not None
        if await self.guided_add.answer(update):
            return
        if message.reply_to_message is not None:
            await self.on_answer(update, context)
        elif message.chat.type == ChatType.PRIVATE:
            await self.on_text(update, context)

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        if not addressed_to_me(message.caption or "", context.bot.username):
            return
        if (message.document.file_size or 0) > MAX_UPLOAD_BYTES:
            await self.answer(update, error_reply(
                f"{message.document.file_name or 'That file'} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
                "split it into smaller CSV files and send them one by one.", IMPORT_EXAMPLE))
            return
        telegram_file = await message.document.get_file()
        content = bytes(await telegram_file.download_as_bytearray())
        incoming = IncomingFile(message.document.file_name or "upload.csv", content, message.document.mime_type or "text/csv")
        command = without_bot_name(message.caption or "/import")
        reply = await self.in_worker(self.core.handle_text, sender_of(update), command, (incoming,))
        await self.answer(update, reply)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        if await refused_as_not_addressee(query):
            return
        button = await self.buttons.button_for(query.data or "")
        if button is None:
            with speaking(await self.speaks(update)):
                await query.answer(_("This button has expired; please use the command instead."), show_alert=True)
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
        """The button's question, as a forced reply; the answer comes back to on_answer, on
        whichever instance receives it."""
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        # In a group the forced reply opens only for the person named in the question.
        whom = "" if chat.type == ChatType.PRIVATE else f"{user.mention_html()}, "
        with speaking(await self.speaks(update)):
            forms = _(" ({forms})", forms=_(DATE_FORMS)) if button.input == "date" else ""
            hint = escape(_(QUESTION_HINT))
        prompt = await self.application.bot.send_message(
            chat.id, f"{escape(problem)}{whom}{escape(button.asks or '')}{escape(forms)}\n{hint}",
            parse_mode=ParseMode.HTML, reply_markup=ForceReply(selective=True))
        asked = {"button": {"label": button.label, "action": button.action, "asks": button.asks, "input": button.input},
                 "original": original.to_dict() if original is not None else None, "user": user.id}
        await asyncio.to_thread(self.store.put, QUESTION, f"{chat.id}:{prompt.message_id}", asked, QUESTION_OPEN_FOR,
                                f"{chat.id}:{user.id}")

    async def on_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.reply_to_message is not None
        key = f"{message.chat_id}:{message.reply_to_message.message_id}"
        asked = await asyncio.to_thread(self.store.get, QUESTION, key)
        if asked is None:
            if is_question(message.reply_to_message, context.bot.id):
                with speaking(await self.speaks(update)):
                    await message.reply_text(_("That question is no longer open (it was answered or cancelled, or it expired). "
                                               "Press the button again to answer it."))
            elif message.chat.type == ChatType.PRIVATE:
                await self.on_text(update, context)
            return
        if message.from_user is None or message.from_user.id != asked["user"]:
            return  # someone else answering another person's question
        if await asyncio.to_thread(self.store.take, QUESTION, key) is None:
            return  # answered meanwhile, through another instance
        button = Button(**asked["button"])
        original = Message.de_json(asked["original"], self.application.bot) if asked.get("original") else None
        answer = (message.text or "").strip()
        if button.input == "date":
            try:
                parse_date(answer, await self.today_of(update), "2026-12-15")
            except UsageError as error:
                await self.ask_for(update, button, original, f"{error.problem}\n")
                return
        await self.press(update, None, button.with_input(answer), original)

    async def today_of(self, update: Update) -> date:
        """The writer's today in their own time zone (the core's rule), for checking a date answer."""
        return await asyncio.to_thread(self.core.today_of, sender_of(update))

    async def press(self, update: Update, query: CallbackQuery | None, action: str, original: Message | None) -> None:
        reply = await self.in_worker(self.core.press, sender_of(update), action)
        if query is not None:
            await query.answer(toast(reply), show_alert=reply.is_error)
        if original is not None and not reply.is_error:
            await self.mark_done(original, reply, update)
        await self.answer(update, reply)

    async def mark_done(self, original: Message, reply: Reply, update: Update) -> None:
        """Keep the chat truthful: the ping now says what was done, by whom, and loses its buttons."""
        with speaking(reply.language):
            what = reply.title or _("Done")
            who = update.effective_user.full_name if update.effective_user else _("someone")
            plain = _("✔ {what} — by {who}", what=what, who=who)
            emphasized = "<i>" + escape(what) + "</i>"
            note = _("✔ {what} — by {who}", what=emphasized, who=escape(who))
        try:
            if utf16_len(original.text or "") + utf16_len(f"\n\n{plain}") <= LIMIT:
                await original.edit_text((original.text_html or "") + f"\n\n{note}", parse_mode=ParseMode.HTML, reply_markup=None)
            else:  # no room for the note: drop the buttons and say it underneath
                await original.edit_reply_markup(None)
                await original.reply_text(plain)
        except TelegramError:  # an old or deleted message: the answer itself is still sent
            log.info("could not mark message %s as answered", original.message_id, exc_info=True)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed", exc_info=context.error)


def toast(reply: Reply) -> str | None:
    """The short note Telegram shows on the pressed button: the title, or an error's problem."""
    first = reply.blocks[0] if reply.blocks else None
    text = reply.title or (first.text if reply.is_error and isinstance(first, Paragraph) else "")
    return fit(text, CALLBACK_ANSWER_LIMIT) or None


def is_question(message: Message, bot_id: int) -> bool:
    """Whether `message` is one of this bot's forced-reply questions."""
    return message.from_user is not None and message.from_user.id == bot_id and (message.text or "").endswith(
        tuple(translated(language, QUESTION_HINT) for language in LANGUAGES))


def build_platform(core: Core, settings: Settings) -> TelegramPlatform:
    return TelegramPlatform(core, settings)
