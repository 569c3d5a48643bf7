"""Everything collectbot posts to Slack: messages (direct messages opened with conversations.open),
edits of pinged messages, files (files upload v2), and the notifier the scheduler sends pings with.

Errors propagate (slack_sdk raises SlackApiError on `ok: false`) so the scheduler's send queue
keeps a ping and retries it; 429s are waited out by the client's rate-limit retry handler. For
pings the notifier sorts them: an error that will not change on retry (the person was
deactivated, the conversation is gone) is `Undeliverable`; another error answer certainly did not
deliver (`NotDelivered`); a timeout may have delivered, and the resend is marked as a repeat.
"""
from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.identity import PLATFORM
from bot.platforms.slack.render import MAX_BLOCKS, escape, fallback_text, render_blocks, render_messages
from bot.floor.reply import Attachment, Reply
from bot.i18n import N_, translated
from scheduling.notifier import NotDelivered, Undeliverable, repeat_note

log = logging.getLogger(__name__)
DONE = N_("Done")
# TRANSLATORS: under a message someone answered: {what} is what was done (bold), {who} the Slack user.
DONE_BY = N_("{what} — by {who}")
# TRANSLATORS: the notification text of the second and later messages of a long ping.
PART_OF = N_("{text} (part {part} of {parts})")


class Outbox:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._direct: dict[str, str] = {}
        """User id → the id of the app's direct-message conversation with them."""

    async def conversation(self, chat_id: str) -> str:
        """A channel id as is; a user id as the app's direct-message conversation with them
        (files upload v2 accepts conversation ids only)."""
        if not chat_id.startswith(("U", "W")):
            return chat_id
        if chat_id not in self._direct:
            opened = await self.client.conversations_open(users=chat_id)
            self._direct[chat_id] = opened["channel"]["id"]
        return self._direct[chat_id]

    async def is_app_direct_message(self, channel: str | None, user: str) -> bool:
        return bool(channel and channel.startswith("D")) and channel == await self.conversation(user)

    async def post(self, chat_id: str, reply: Reply) -> dict[str, Any]:
        channel = await self.conversation(chat_id)
        response = await self.client.chat_postMessage(channel=channel, text=fallback_text(reply), blocks=render_blocks(reply))
        await self.upload(channel, reply.files)
        return dict(response.data)  # type: ignore[arg-type]

    async def upload(self, chat_id: str, files: list[Attachment]) -> None:
        if not files:
            return
        channel = await self.conversation(chat_id)
        for attachment in files:
            await self.client.files_upload_v2(channel=channel, content=attachment.content, filename=attachment.filename,
                                              title=attachment.filename)

    async def mark_done(self, channel: str, ts: str, blocks: list[dict[str, Any]], reply: Reply, user: str) -> None:
        """Keep the conversation truthful: the message keeps its text, says what was done and by
        whom, and loses its buttons."""
        kept = [block for block in blocks if block.get("type") != "actions"]
        done = translated(reply.language, DONE_BY, what=f"*{escape(reply.title or translated(reply.language, DONE))}*", who=f"<@{user}>")
        kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"✔ {done}"}]})
        try:
            await self.client.chat_update(channel=channel, ts=ts, blocks=kept, text=fallback_text(reply))
        except SlackApiError:  # an old or deleted message: the answer itself still goes out
            log.info("could not update message %s in %s", ts, channel, exc_info=True)


PERMANENT_ERRORS = frozenset({
    "account_inactive", "user_disabled", "user_not_found", "users_not_found", "channel_not_found", "is_archived",
    "not_in_channel", "cannot_dm_bot", "user_is_restricted", "restricted_action", "ekm_access_denied",
    "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments",
})
"""Slack errors that a retry will not change."""


class SlackNotifier:
    """scheduling.notifier.Notifier for Slack: a ping is a direct message to the person, split
    into as many messages as Slack's 50-block limit needs (every step it carries is in one of them)."""

    platform = PLATFORM

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def send(self, chat_id: str, reply: Reply) -> None:
        await self.outbox.post(chat_id, reply)

    async def render(self, chat_id: str, reply: Reply) -> list[dict[str, Any]]:
        text = fallback_text(reply)
        messages = render_messages(reply, MAX_BLOCKS - 1)  # room for the repeat mark
        return [{"text": text if index == 0 else translated(reply.language, PART_OF, text=text, part=index + 1, parts=len(messages)),
                 "blocks": blocks, "language": reply.language, "repeat": reply.repeat and index == 0}
                for index, blocks in enumerate(messages)]

    def mark_repeat(self, part: dict[str, Any]) -> dict[str, Any]:
        if part.get("repeat"):
            return part  # its blocks say so already (the ping was composed as a repeat)
        note = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"🔁 {escape(repeat_note(part.get('language')))}"}]}
        return {**part, "blocks": [note, *part["blocks"]], "repeat": True}

    async def send_part(self, chat_id: str, part: dict[str, Any]) -> None:
        try:
            channel = await self.outbox.conversation(chat_id)
            await self.outbox.client.chat_postMessage(channel=channel, text=part["text"], blocks=part["blocks"])
        except SlackApiError as error:
            code = str(error.response.get("error", "")) if error.response is not None else ""
            if code in PERMANENT_ERRORS:
                raise Undeliverable(f"Slack refuses: {code}") from error
            raise NotDelivered(f"Slack: {code or error}") from error
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise  # it may have arrived
        except aiohttp.ClientConnectorError as error:
            raise NotDelivered(f"Slack unreachable: {error}") from error
