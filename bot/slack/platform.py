"""collectbot on Slack (Bolt, AsyncApp): one slash command `/collect <verb> …`, Block Kit pings
with buttons, modals for /collect add and for buttons that ask, and the App Home tab.

The adapter only translates: Slack payloads become a `Sender` and a command text for the core;
the core's `Reply` becomes Block Kit. Slack users are linked to team members by team id + user id
(through `/collect start <invite code>`), never by display name.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.render import ACTION_PREFIX, escape, fallback_text, render_blocks
from handlers.context import Sender
from handlers.core import Core
from handlers.errors import UsageError
from handlers.grammar import IncomingFile
from handlers.invoices import INVOICE_NUMBER
from handlers.money import parse_amount
from handlers.reply import Reply
from scheduling.notifier import SLACK_LIMITS, RateLimits

log = logging.getLogger(__name__)
PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
CURRENCIES = ("EUR", "USD", "GBP", "NOK", "SEK", "DKK", "CHF", "PLN")
SEEN_EVENTS = 2000
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
ADD_FIELDS = ("number", "customer", "amount", "currency", "due", "owner", "ladder")


def external_id(team_id: str, user_id: str) -> str:
    return f"{team_id}:{user_id}"


def sender_from(team_id: str, user_id: str, name: str | None = None, channel: str | None = None) -> Sender:
    return Sender(platform=PLATFORM, external_id=external_id(team_id, user_id), display_name=name or user_id,
                  chat_id=user_id, in_group=bool(channel and not channel.startswith("D")))


def team_and_user(body: dict[str, Any]) -> tuple[str, str, str | None]:
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""
    user = body.get("user_id") or (body.get("user") or {}).get("id") or (body.get("event") or {}).get("user") or ""
    name = body.get("user_name") or (body.get("user") or {}).get("username") or (body.get("user") or {}).get("name")
    return team, user, name


def command_text(text: str, team_id: str) -> str:
    """`/collect add …` → `/add …`; Slack's escaped mentions `<@U123|bob>` → `@slack:T:U123`."""
    converted = _MENTION.sub(lambda m: f"@slack:{external_id(team_id, m.group(1))}", text.strip())
    return "/" + (converted or "help")


class SlackNotifier:
    platform = PLATFORM

    def __init__(self, slack: "SlackPlatform") -> None:
        self.slack = slack

    async def send(self, chat_id: str, reply: Reply) -> None:
        await self.slack.post(chat_id, reply)


class SlackPlatform:
    name = PLATFORM
    limits: RateLimits = SLACK_LIMITS

    def __init__(self, core: Core, settings: Settings) -> None:
        if not settings.slack_bot_token:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        if not settings.slack_app_token and not settings.slack_signing_secret:
            raise ValueError("Slack over HTTP needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
        self.core = core
        self.settings = settings
        self.client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url,
                                     retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)])
        self.app = AsyncApp(client=self.client, signing_secret=settings.slack_signing_secret or "socket-mode",
                            process_before_response=False)
        self.notifier = SlackNotifier(self)
        self.seen_events: OrderedDict[str, None] = OrderedDict()
        self.originals: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """Blocks of messages whose button opened a modal, to edit them once the modal is answered."""
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self.port = settings.slack_http_port
        self._register()

    # -- lifecycle ------------------------------------------------------------------------------
    def _register(self) -> None:
        self.app.command("/collect")(self.on_command)
        self.app.action(re.compile(rf"^{ACTION_PREFIX}\d+$"))(self.on_button)
        self.app.view("collect_ask")(self.on_ask_submitted)
        self.app.view("collect_add")(self.on_add_submitted)
        self.app.event("app_home_opened")(self.on_home_opened)
        self.app.event("message")(self.on_message)

    async def start(self) -> None:
        if self.settings.slack_app_token:
            self._socket = AsyncSocketModeHandler(self.app, self.settings.slack_app_token,
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
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _http(self, request: web.Request) -> web.Response:
        """Bolt verifies the signature (and its 5-minute window) and answers 401 when it is wrong."""
        return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

    # -- sending --------------------------------------------------------------------------------
    async def post(self, channel: str, reply: Reply) -> dict[str, Any]:
        response = await self.client.chat_postMessage(channel=channel, text=fallback_text(reply), blocks=render_blocks(reply))
        await self.upload_files(channel, reply)
        return dict(response.data)  # type: ignore[arg-type]

    async def upload_files(self, channel: str, reply: Reply) -> None:
        for attachment in reply.files:
            await self.client.files_upload_v2(channel=channel, content=attachment.content, filename=attachment.filename,
                                              title=attachment.filename)

    async def answer(self, reply: Reply, respond: Any, channel: str | None, user: str) -> None:
        """Answer a command or button: in a channel only the asker sees it (ephemeral); in the
        app's direct messages it is an ordinary message."""
        if channel and channel.startswith("D"):
            await self.post(channel, reply)
            return
        await respond(response_type="ephemeral", text=fallback_text(reply), blocks=render_blocks(reply), replace_original=False)
        await self.upload_files(user, reply)

    async def run(self, sender: Sender, text: str, files: tuple[IncomingFile, ...] = ()) -> Reply:
        return await asyncio.to_thread(self.core.handle_text, sender, text, files)

    # -- the slash command ----------------------------------------------------------------------
    async def on_command(self, ack: Any, command: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        team, user, name = team_and_user(command)
        text = command.get("text", "").strip()
        if text.lower() == "add":
            await client.views_open(trigger_id=command["trigger_id"], view=self.add_modal(command.get("channel_id", "")))
            return
        reply = await self.run(sender_from(team, user, name, command.get("channel_id")), command_text(text, team))
        await self.answer(reply, respond, command.get("channel_id"), user)

    def add_modal(self, channel: str) -> dict[str, Any]:
        ladders = sorted(self.core.services.ladders) or [self.settings.default_ladder]
        currencies = sorted({self.settings.default_currency, *CURRENCIES})

        def option(value: str) -> dict[str, Any]:
            return {"text": {"type": "plain_text", "text": value}, "value": value}

        def text_input(block: str, label: str, placeholder: str) -> dict[str, Any]:
            return {"type": "input", "block_id": block, "label": {"type": "plain_text", "text": label},
                    "element": {"type": "plain_text_input", "action_id": "value",
                                "placeholder": {"type": "plain_text", "text": placeholder}}}

        return {
            "type": "modal", "callback_id": "collect_add", "private_metadata": json.dumps({"channel": channel}),
            "title": {"type": "plain_text", "text": "Add an invoice"}, "submit": {"type": "plain_text", "text": "Add"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [
                text_input("number", "Invoice number", "INV-1042"),
                text_input("customer", "Customer", "Acme Trading Ltd"),
                text_input("amount", "Amount", "1200.50"),
                {"type": "input", "block_id": "currency", "label": {"type": "plain_text", "text": "Currency"},
                 "element": {"type": "static_select", "action_id": "value", "options": [option(c) for c in currencies],
                             "initial_option": option(self.settings.default_currency)}},
                {"type": "input", "block_id": "due", "label": {"type": "plain_text", "text": "Due date"},
                 "element": {"type": "datepicker", "action_id": "value"}},
                {"type": "input", "block_id": "owner", "optional": True, "label": {"type": "plain_text", "text": "Owner (you if empty)"},
                 "element": {"type": "users_select", "action_id": "value"}},
                {"type": "input", "block_id": "ladder", "label": {"type": "plain_text", "text": "Ladder"},
                 "element": {"type": "static_select", "action_id": "value", "options": [option(name) for name in ladders],
                             "initial_option": option(self.settings.default_ladder if self.settings.default_ladder in ladders else ladders[0])}},
            ],
        }

    async def on_add_submitted(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        team, user, name = team_and_user(body)
        values = {block: next(iter(fields.values())) for block, fields in view["state"]["values"].items()}
        field = {key: (v.get("value") or v.get("selected_date") or v.get("selected_user")
                       or (v.get("selected_option") or {}).get("value") or "") for key, v in values.items()}
        errors: dict[str, str] = {}
        if not INVOICE_NUMBER.match(field.get("number", "").strip()):
            errors["number"] = "One word of letters, digits and . / # - _, like INV-1042."
        try:
            parse_amount(field.get("amount", ""))
        except UsageError as error:
            errors["amount"] = error.problem[:150]
        if not field.get("customer", "").strip():
            errors["customer"] = "The customer's name is needed."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        owner = f" @slack:{external_id(team, field['owner'])}" if field.get("owner") else ""
        customer = field["customer"].replace('"', "").strip()
        text = (f"/add {field['number'].strip()} {field['amount'].strip()} {field.get('currency', '')} {field.get('due', '')} "
                f"\"{customer}\"{owner} ladder={field.get('ladder', self.settings.default_ladder)}")
        reply = await self.run(sender_from(team, user, name), text)
        if reply.is_error:
            problem = next((b.text for b in reply.blocks if hasattr(b, "text")), "That did not work.")  # type: ignore[union-attr]
            await ack(response_action="errors", errors={field_for(problem): problem[:150]})
            return
        await ack()
        await self.post(user, reply)

    # -- buttons and the modals they open --------------------------------------------------------
    async def on_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                        respond: Any) -> None:
        await ack()
        team, user, name = team_and_user(body)
        value = action.get("value", "")
        channel = (body.get("channel") or body.get("container") or {}).get("id") or body.get("container", {}).get("channel_id")
        message = body.get("message") or {}
        if value.startswith("ask:"):
            question = json.loads(value[4:])
            if channel and message.get("ts"):
                self.originals[(channel, message["ts"])] = message.get("blocks", [])
            await client.views_open(trigger_id=body["trigger_id"], view=ask_modal(question, channel, message.get("ts")))
            return
        reply = await asyncio.to_thread(self.core.press, sender_from(team, user, name, channel), value)
        if not reply.is_error and channel and message.get("ts") and not body.get("container", {}).get("is_ephemeral"):
            await self.mark_done(channel, message["ts"], message.get("blocks", []), reply, user)
        await self.answer(reply, respond, channel, user)

    async def on_ask_submitted(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        team, user, name = team_and_user(body)
        meta = json.loads(view.get("private_metadata") or "{}")
        state = view["state"]["values"]["answer"]["value"]
        answer = state.get("selected_date") or state.get("value") or ""
        reply = await asyncio.to_thread(self.core.press, sender_from(team, user, name, meta.get("channel")),
                                        meta["action"].replace("{input}", answer.strip()))
        if reply.is_error:
            problem = next((b.text for b in reply.blocks if hasattr(b, "text")), "That did not work.")  # type: ignore[union-attr]
            await ack(response_action="errors", errors={"answer": problem[:150]})
            return
        await ack()
        channel, ts = meta.get("channel"), meta.get("ts")
        if channel and ts:
            await self.mark_done(channel, ts, self.originals.pop((channel, ts), []), reply, user)
        await self.post(channel if channel and channel.startswith("D") else user, reply)

    async def mark_done(self, channel: str, ts: str, blocks: list[dict[str, Any]], reply: Reply, user: str) -> None:
        """Keep the conversation truthful: the ping says what was done and by whom, without buttons."""
        kept = [block for block in blocks if block.get("type") != "actions"]
        kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"✔ *{escape(reply.title or 'Done')}* — by <@{user}>"}]})
        try:
            await self.client.chat_update(channel=channel, ts=ts, blocks=kept, text=fallback_text(reply))
        except Exception:  # noqa: BLE001 - an old or deleted message: the answer itself still goes out
            log.info("could not update message %s in %s", ts, channel, exc_info=True)

    # -- events ---------------------------------------------------------------------------------
    def first_time(self, body: dict[str, Any]) -> bool:
        """Slack retries an event it thinks we missed (X-Slack-Retry-Num); handle each event once."""
        event_id = body.get("event_id") or (body.get("event") or {}).get("event_ts")
        if not event_id:
            return True
        if event_id in self.seen_events:
            return False
        self.seen_events[event_id] = None
        while len(self.seen_events) > SEEN_EVENTS:
            self.seen_events.popitem(last=False)
        return True

    async def on_home_opened(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        if not self.first_time(body) or event.get("tab", "home") != "home":
            return
        team, user, _ = team_and_user(body)
        sender = sender_from(team, user)
        blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "collectbot"}}]
        if not await asyncio.to_thread(self.core.is_member, sender):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text":
                           "You are not linked to the team yet. Ask an admin for an invite (`/collect team invite @you`), "
                           "then send `/collect start <code>`."}})
        else:
            verbs = ["/today", "/upcoming"] + (["/overdue"] if await asyncio.to_thread(self.is_manager, sender) else [])
            for verb in verbs:
                reply = await self.run(sender, verb)
                reply.buttons.clear()
                blocks.extend(render_blocks(reply))
                blocks.append({"type": "divider"})
        await client.views_publish(user_id=user, view={"type": "home", "blocks": blocks[:100]})

    def is_manager(self, sender: Sender) -> bool:
        return self.core.within(sender, lambda ctx: ctx.person.is_manager)

    async def on_message(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        """A CSV shared with the bot in its direct messages is checked as an import."""
        if not self.first_time(body) or event.get("subtype") != "file_share" or event.get("channel_type") != "im":
            return
        team, user, _ = team_and_user(body)
        files = []
        async with aiohttp.ClientSession() as http:
            for shared in event.get("files", []):
                async with http.get(shared["url_private"], headers={"Authorization": f"Bearer {self.settings.slack_bot_token}"}) as got:
                    got.raise_for_status()
                    files.append(IncomingFile(shared.get("name", "upload.csv"), await got.read(), shared.get("mimetype", "text/csv")))
        reply = await self.run(sender_from(team, user, channel=event.get("channel")), "/import", tuple(files))
        await self.post(event.get("channel") or user, reply)


def ask_modal(question: dict[str, Any], channel: str | None, ts: str | None) -> dict[str, Any]:
    element: dict[str, Any] = ({"type": "datepicker", "action_id": "value"} if question.get("input") == "date"
                               else {"type": "plain_text_input", "action_id": "value", "multiline": True})
    return {
        "type": "modal", "callback_id": "collect_ask",
        "private_metadata": json.dumps({"action": question["action"], "channel": channel, "ts": ts}),
        "title": {"type": "plain_text", "text": "collectbot"}, "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "input", "block_id": "answer", "label": {"type": "plain_text", "text": question["asks"][:2000]},
                    "element": element}],
    }


def field_for(problem: str) -> str:
    """Which modal field an error from the core is about."""
    lowered = problem.lower()
    for keyword, block in (("amount", "amount"), ("date", "due"), ("customer", "customer"), ("ladder", "ladder"),
                           ("currency", "currency"), ("@", "owner"), ("invoice", "number")):
        if keyword in lowered:
            return block
    return "number"


def build_platform(core: Core, settings: Settings) -> SlackPlatform:
    return SlackPlatform(core, settings)
