"""collectbot on Slack (Bolt, AsyncApp): one slash command `/collect <verb> …`, Block Kit pings
with buttons, modals for `/collect add` and for buttons that ask, the App Home tab, and CSV files
shared with the bot.

The adapter only translates: Slack payloads become a `Sender` and a command for the core; the
core's `Reply` becomes Block Kit (render.py). Answers to commands typed in a channel are
ephemeral (only the asker sees them); in the app's direct messages they are ordinary messages.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.i18n import N_, _, speaking, translated
from bot.floor.config import Settings, reveal
from bot.platforms.slack.home import home_view
from bot.platforms.slack.identity import PLATFORM, command_text, plain_text, sender_from, team_and_user
from bot.platforms.slack.modals import (ADD_CALLBACK, ANSWER_BLOCK, ASK_CALLBACK, MAX_ERROR, AskContext, add_command,
                              add_form_errors, add_modal, ask_modal, block_for, submitted_values)
from bot.platforms.slack.outbox import Outbox, SlackNotifier
from bot.platforms.slack.render import ACTION_PREFIX, fallback_text, pressed_button, render_blocks
from bot.platforms.slack.seen_events import SeenRequests, once_for
from bot.store.stored_state import InteractionStore
from handlers.context import Sender
from handlers.core import Core
from handlers.grammar import IncomingFile
from handlers.importing import MAX_UPLOAD_BYTES
from bot.floor.reply import Paragraph, Reply, error_reply
from scheduling.notifier import RateLimits
from bot.platforms.slack.limits import SLACK_LIMITS

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
RATE_LIMIT_RETRIES = 3
MAX_UPLOAD = MAX_UPLOAD_BYTES
"""Checked before downloading: a larger file is refused without fetching it."""
REPLAY_CHECK_THREADS = 4
ASKED_ON = "slack-asked-on"
ASKED_FOR = timedelta(days=1)


def first_header(headers: Mapping[str, Sequence[str]], name: str) -> str | None:
    """The first value of a request header Bolt holds as a list, if any."""
    values = headers.get(name)
    return values[0] if values else None


DID_NOT_WORK = N_("That did not work.")


def first_problem(reply: Reply) -> str:
    return next((block.text for block in reply.blocks if isinstance(block, Paragraph)),
                translated(reply.language, DID_NOT_WORK))[:MAX_ERROR]


class SlackPlatform:
    name = PLATFORM
    limits: RateLimits = SLACK_LIMITS
    catch_all = False

    def __init__(self, core: Core, settings: Settings) -> None:
        if not settings.slack_bot_token:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        self.socket_mode = bool(settings.slack_app_token)
        if not self.socket_mode and not settings.slack_signing_secret:
            raise ValueError("Slack over HTTP needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
        self.core = core
        self.settings = settings
        self.client = AsyncWebClient(token=reveal(settings.slack_bot_token), base_url=settings.slack_api_url,
                                     retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)])
        self.app = AsyncApp(client=self.client, signing_secret=reveal(settings.slack_signing_secret) or "",
                            request_verification_enabled=not self.socket_mode)
        self.outbox = Outbox(self.client)
        self.notifier = SlackNotifier(self.outbox)
        self.store = InteractionStore(core.services.engine, core.services.clock)
        """Blocks of messages whose button opened a modal (to edit them once the modal is answered,
        by whichever instance gets the submission), and the requests already handled."""
        self.seen = SeenRequests(self.store)
        self._acks = ThreadPoolExecutor(max_workers=REPLAY_CHECK_THREADS, thread_name_prefix="slack-replays")
        """The replay check (before an event or interaction is acknowledged) runs on threads of its
        own, so it never queues behind the commands the worker threads are busy with."""
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._responses: aiohttp.ClientSession | None = None
        """One HTTP session (kept-alive connections) for every answer posted to a response URL;
        Bolt's `respond` opens a new session and connection per answer."""
        self.port = settings.slack_http_port
        self._locales: dict[str, str | None] = {}
        """Each user's Slack locale (`ru-RU`), asked once: a newcomer is answered in it."""
        self._register()

    def _register(self) -> None:
        self.app.middleware(self.only_once)
        self.app.command("/collect")(self.on_command)
        self.app.action(re.compile(rf"^{ACTION_PREFIX}\d+$"))(self.on_button)
        self.app.view(ASK_CALLBACK)(self.on_ask_submitted)
        self.app.view(ADD_CALLBACK)(self.on_add_submitted)
        self.app.event("app_home_opened")(self.on_home_opened)
        self.app.event("message")(self.on_message)

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Socket Mode when SLACK_APP_TOKEN is set; otherwise HTTP, signature-verified by Bolt."""
        auth = await self.client.auth_test()
        self.core.services.bot_usernames[PLATFORM] = str(auth.get("user", "collectbot"))
        if self.socket_mode:
            self._socket = AsyncSocketModeHandler(self.app, reveal(self.settings.slack_app_token),
                                                  web_client=AsyncWebClient(base_url=self.settings.slack_api_url))
            await self._socket.connect_async()
            return
        server = web.Application()
        server.router.add_post(EVENTS_PATH, self._http)
        self._runner = web.AppRunner(server)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.slack_http_host, self.settings.slack_http_port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._responses is not None:
            await self._responses.close()
            self._responses = None
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _http(self, request: web.Request) -> web.Response:
        """Bolt checks the signature and its 5-minute window, answering 401 when either is wrong."""
        return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

    async def only_once(self, req: AsyncBoltRequest, body: dict[str, Any], next: Any) -> BoltResponse | None:
        """After Bolt checked the signature: a replayed request or a retried event is answered
        200 and not run again (on any instance). A slash command is checked by `on_command` right
        after its acknowledgement, so the ack never waits for the database."""
        if body.get("command"):
            return await next()
        if await self.first_time(req, body):
            return await next()
        return BoltResponse(status=200, body="")

    async def first_time(self, req: AsyncBoltRequest, body: dict[str, Any]) -> bool:
        signature = first_header(req.headers, "x-slack-signature")
        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(self._acks, self.seen.first_time, signature, body):
            return True
        log.info("a Slack request was seen before (a replay or a retry); not run again")
        return False

    # -- talking to the core --------------------------------------------------------------------
    async def sender(self, team: str, user: str, name: str | None = None, channel: str | None = None) -> Sender:
        """Who wrote, with the language their Slack is set to (users.info with its locale)."""
        if user not in self._locales:
            try:
                info = await self.client.users_info(user=user, include_locale=True)
                self._locales[user] = (info.get("user") or {}).get("locale")
            except Exception:  # the hint is a nicety: without it the team's language is used
                log.info("no locale for Slack user %s", user, exc_info=True)
                self._locales[user] = None
        return replace(sender_from(team, user, name, channel), language_hint=self._locales[user])

    async def run(self, sender: Sender, text: str, files: tuple[IncomingFile, ...] = ()) -> Reply:
        return await asyncio.to_thread(self.core.handle_text, sender, text, files)

    async def press(self, sender: Sender, action: str) -> Reply:
        return await asyncio.to_thread(self.core.press, sender, action)

    async def answer(self, reply: Reply, channel: str | None, user: str, respond: AsyncRespond | None,
                     replace_original: bool = False) -> None:
        """In the app's direct messages: a message. Anywhere else: only the asker sees it (files go
        to their direct messages), so a private reply never lands in a channel."""
        in_app_messages = await self.outbox.is_app_direct_message(channel, user)
        if in_app_messages or respond is None:
            await self.outbox.post(channel if in_app_messages and channel else user, reply)
            return
        await self.respond(respond, {"response_type": "ephemeral", "text": fallback_text(reply),
                                     "blocks": render_blocks(reply), "replace_original": replace_original})
        await self.outbox.upload(user, reply.files)

    async def respond(self, respond: AsyncRespond, message: dict[str, Any]) -> None:
        """Post `message` to the response URL over the platform's one kept-alive HTTP session."""
        if not respond.response_url:
            await respond(**message)
            return
        if self._responses is None or self._responses.closed:
            self._responses = aiohttp.ClientSession()
        await AsyncWebhookClient(url=respond.response_url, session=self._responses).send_dict(message)

    # -- the slash command ----------------------------------------------------------------------
    async def on_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient,
                         request: AsyncBoltRequest) -> None:
        """Acknowledged at once; the command runs unless this signed request ran before (a replay),
        which is noted in the command's own transaction."""
        await ack()
        team, user, name = team_and_user(command)
        channel = command.get("channel_id")
        sender = await self.sender(team, user, name, channel)
        text = command_text(command.get("text", ""), team)
        if plain_text(command.get("text", ""), team).lower() == "add" and await asyncio.to_thread(self.core.is_member, sender):
            if not await self.first_time(request, command):
                return
            ladders = sorted(self.core.services.ladders) or [self.settings.default_ladder]
            with speaking(await asyncio.to_thread(self.core.language_of, sender)):
                view = add_modal(ladders, self.settings.default_ladder, self.settings.default_currency, channel)
            await client.views_open(trigger_id=command["trigger_id"], view=view)
            return
        once = once_for(first_header(request.headers, "x-slack-signature"))
        if once is None:
            reply: Reply | None = await self.run(sender, text)
        else:
            reply = await asyncio.to_thread(self.core.handle_text_once, sender, text, once)
            if self.seen.sweep_now_and_then():
                asyncio.get_running_loop().run_in_executor(self._acks, self.seen.sweep)
        if reply is None:
            log.info("a Slack command was seen before (a replay); not run again")
            return
        await self.answer(reply, channel, user, respond)

    async def on_add_submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        team, user, name = team_and_user(body)
        form = submitted_values(view)
        sender = await self.sender(team, user, name)
        with speaking(await asyncio.to_thread(self.core.language_of, sender)):
            errors = add_form_errors(form)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        reply = await self.run(sender, add_command(form, team, self.settings.default_ladder))
        if reply.is_error:
            await ack(response_action="errors", errors={block_for(reply.field): first_problem(reply)})
            return
        await ack()
        await self.outbox.post(user, reply)

    # -- buttons and the modals they open --------------------------------------------------------
    async def on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                        respond: AsyncRespond) -> None:
        await ack()
        team, user, name = team_and_user(body)
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        ts = (body.get("message") or {}).get("ts") or container.get("message_ts")
        blocks = (body.get("message") or {}).get("blocks", [])
        ephemeral = bool(container.get("is_ephemeral"))
        button = pressed_button(action.get("value", ""))
        if button.asks:
            if channel and ts and not ephemeral:
                await self.remember(channel, ts, blocks)
            asked = AskContext(button, channel, None if ephemeral else ts)
            with speaking(await asyncio.to_thread(self.core.language_of, await self.sender(team, user, name))):
                view = ask_modal(asked)
            await client.views_open(trigger_id=body["trigger_id"], view=view)
            return
        reply = await self.press(await self.sender(team, user, name, channel), button.action)
        if not reply.is_error and channel and ts and not ephemeral:
            await self.outbox.mark_done(channel, ts, blocks, reply, user)
        await self.answer(reply, channel, user, respond if body.get("response_url") else None,
                          replace_original=ephemeral and not reply.is_error)

    async def remember(self, channel: str, ts: str, blocks: list[dict[str, Any]]) -> None:
        await asyncio.to_thread(self.store.put, ASKED_ON, f"{channel}:{ts}", {"blocks": blocks}, ASKED_FOR)

    async def on_ask_submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        team, user, name = team_and_user(body)
        asked = AskContext.from_json(json.loads(view.get("private_metadata") or "{}"))
        answer = submitted_values(view).get(ANSWER_BLOCK, "")
        reply = await self.press(await self.sender(team, user, name, asked.channel), asked.button.with_input(answer))
        if reply.is_error:
            await ack(response_action="errors", errors={ANSWER_BLOCK: first_problem(reply)})
            return
        await ack()
        if asked.channel and asked.ts:
            kept = await asyncio.to_thread(self.store.take, ASKED_ON, f"{asked.channel}:{asked.ts}")
            if kept is not None:
                await self.outbox.mark_done(asked.channel, asked.ts, kept["blocks"], reply, user)
        await self.answer(reply, asked.channel, user, None)

    # -- events ---------------------------------------------------------------------------------
    async def on_home_opened(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team, user, _name = team_and_user(body)
        view = await asyncio.to_thread(home_view, self.core, await self.sender(team, user))
        await client.views_publish(user_id=user, view=view)

    async def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A file shared with the bot in its direct messages is checked as an import (a dry run;
        the core's answer has the button that stores it)."""
        if event.get("subtype") != "file_share" or event.get("channel_type") != "im":
            return
        team, user, _name = team_and_user(body)
        shared = event.get("files", [])
        too_large = [f.get("name", "file") for f in shared if int(f.get("size") or 0) > MAX_UPLOAD]
        if too_large:
            with speaking(await asyncio.to_thread(self.core.language_of, await self.sender(team, user))) as language:
                reply = error_reply(_("{files} is larger than {size} MB; split it into smaller CSV files and share them one by one.",
                                      files=", ".join(too_large), size=MAX_UPLOAD // (1024 * 1024)), "/import")
            reply.language = language
        else:
            files = tuple([await self.download(file) for file in shared])
            reply = await self.run(await self.sender(team, user, channel=event.get("channel")), "/import", files)
        await self.outbox.post(event.get("channel") or user, reply)

    async def download(self, shared: dict[str, Any]) -> IncomingFile:
        name = shared.get("name") or "upload.csv"
        headers = {"Authorization": f"Bearer {reveal(self.settings.slack_bot_token)}"}
        async with aiohttp.ClientSession() as http, http.get(shared["url_private"], headers=headers) as got:
            got.raise_for_status()
            return IncomingFile(name, await got.read(), shared.get("mimetype") or "text/csv")


def build_platform(core: Core, settings: Settings) -> SlackPlatform:
    """What `collectbot run` starts when SLACK_BOT_TOKEN is set (bot.app.runtime)."""
    return SlackPlatform(core, settings)
