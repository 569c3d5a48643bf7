"""collectbot on Slack, end to end: the real Bolt app (built by the same code `collectbot run`
uses) receives signed requests over HTTP — and envelopes over Socket Mode — and talks to a local
Slack stand-in through slack_sdk's real client."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.bootstrap import build_scheduler
from bot.clock import MovableClock
from bot.config import Settings
from bot.models import LadderStep, StepState
from bot.slack import SlackPlatform, build_platform
from handlers.core import Core
from handlers.reply import Attachment, Reply
from scheduling.notifier import SLACK_LIMITS
from tests.conftest import OSLO
from tests.slack_standin import TEAM_ID, SlackStandIn, block_text
from tests.support import ChatDriver

BOB = "U0BOB"
BOB_DM = "D0BOB"
BOT_TOKEN = "xoxb-test-token"
UNUSED_RESPONSE_URL = "http://127.0.0.1:9/unused"
"""Answers to buttons in direct messages are posted as messages, not through the response URL."""


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    server = SlackStandIn()
    await server.start()
    yield server
    await server.stop()


def slack_settings(settings: Settings, standin: SlackStandIn, **extra: object) -> Settings:
    return settings.model_copy(update={"slack_bot_token": BOT_TOKEN, "slack_signing_secret": standin.signing_secret,
                                       "slack_api_url": standin.api_url, "slack_http_port": 0, **extra})


@pytest.fixture
async def slack(core: Core, settings: Settings, standin: SlackStandIn) -> AsyncIterator[SlackPlatform]:
    platform = build_platform(core, slack_settings(settings, standin))
    await platform.start()
    yield platform
    await platform.stop()


class Poster:
    """Posts to the app's HTTP endpoint the way Slack does, signed."""

    def __init__(self, standin: SlackStandIn, slack: SlackPlatform) -> None:
        self.standin = standin
        self.url = f"http://127.0.0.1:{slack.port}/slack/events"

    async def raw(self, body: str, content_type: str, **signing: Any) -> tuple[int, str]:
        headers = self.standin.signed_headers(body, content_type=content_type, **{k: v for k, v in signing.items() if k != "extra"})
        headers.update(signing.get("extra", {}))
        async with aiohttp.ClientSession() as http, http.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def command(self, user: str, text: str, channel: str = "C0SALES") -> dict[str, str]:
        payload = self.standin.slash_command(user, text, channel)
        status, _ = await self.raw(self.standin.form(payload), "application/x-www-form-urlencoded")
        assert status == 200
        return payload

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.raw(self.standin.form({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], event_id: str, retry: int = 0) -> int:
        body = json.dumps({"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP", "event": event,
                           "type": "event_callback", "event_id": event_id, "event_time": int(time.time())})
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        status, _ = await self.raw(body, "application/json", extra=extra)
        return status


@pytest.fixture
def poster(standin: SlackStandIn, slack: SlackPlatform) -> Poster:
    return Poster(standin, slack)


async def response_with(standin: SlackStandIn, text: str) -> dict[str, Any]:
    return await standin.wait_for(lambda: next((r for r in standin.responses if text in block_text(r.get("blocks", [])) + r.get("text", "")), None))


async def message_with(standin: SlackStandIn, channel: str, text: str) -> dict[str, Any]:
    return await standin.wait_for(lambda: next((m for m in standin.posted_to(channel) if text in block_text(m["blocks"])), None))


async def link_bob(team: ChatDriver, poster: Poster, standin: SlackStandIn) -> None:
    team.say("alice", "/team invite @bob")
    code = dict(team.last.blocks[0].items)["Code"]  # type: ignore[union-attr,arg-type]
    await poster.command(BOB, f"start {code}")
    await response_with(standin, "your account is linked")


def interaction_base(kind: str, user: str = BOB) -> dict[str, Any]:
    return {"type": kind, "team": {"id": TEAM_ID, "domain": "test"}, "user": {"id": user, "username": "bob", "team_id": TEAM_ID},
            "api_app_id": "A0APP", "token": "legacy", "trigger_id": "trigger.1"}


def press(message: dict[str, Any], label: str, channel: str = BOB_DM) -> dict[str, Any]:
    button = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if label in e["text"]["text"])
    return {**interaction_base("block_actions"), "channel": {"id": channel}, "message": message,
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False},
            "response_url": UNUSED_RESPONSE_URL, "actions": [{**button, "block_id": "b", "action_ts": "1"}]}


def submission(callback_id: str, values: dict[str, dict[str, Any]], private_metadata: str = "") -> dict[str, Any]:
    return {**interaction_base("view_submission"),
            "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata,
                     "state": {"values": {block: {"value": value} for block, value in values.items()}}}}


async def test_bob_links_by_slack_user_id_and_adds_an_invoice(team: ChatDriver, standin: SlackStandIn, poster: Poster) -> None:
    await link_bob(team, poster, standin)
    await poster.command(BOB, "add INV-1 1200.50 EUR 2026-12-10 Acme Trading Ltd")
    added = await response_with(standin, "Added invoice INV-1")
    assert added["response_type"] == "ephemeral" and "€1,200.50" in block_text(added["blocks"])
    await poster.command(BOB, "")
    await response_with(standin, "What I can do")


async def test_bad_signatures_and_stale_requests_are_rejected(standin: SlackStandIn, poster: Poster) -> None:
    body = standin.form(standin.slash_command(BOB, "help"))
    assert (await poster.raw(body, "application/x-www-form-urlencoded", secret="wrong"))[0] == 401
    assert (await poster.raw(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 6 * 60))[0] == 401
    assert standin.responses == []


async def test_add_modal_shows_field_errors_then_adds(team: ChatDriver, standin: SlackStandIn, poster: Poster) -> None:
    await link_bob(team, poster, standin)
    await poster.command(BOB, "add")
    [opened] = await standin.wait_for(lambda: standin.calls_of("views.open"))
    assert opened.params["view"]["callback_id"] == "collect_add"
    values = {"number": {"type": "plain_text_input", "value": "INV-2"}, "customer": {"type": "plain_text_input", "value": "Fjord AS"},
              "amount": {"type": "plain_text_input", "value": "12,00,0"}, "currency": {"type": "static_select", "selected_option": {"value": "NOK"}},
              "due": {"type": "datepicker", "selected_date": "2026-12-20"}, "owner": {"type": "users_select", "selected_user": None},
              "ladder": {"type": "static_select", "selected_option": {"value": "soft"}}}
    status, body = await poster.interaction(submission("collect_add", values))
    assert status == 200 and json.loads(body)["response_action"] == "errors" and "amount" in json.loads(body)["errors"]
    values["amount"] = {"type": "plain_text_input", "value": "1 500"}
    status, body = await poster.interaction(submission("collect_add", values))
    assert status == 200 and not json.loads(body or "{}").get("errors")
    added = await message_with(standin, BOB_DM, "Added invoice INV-2")
    assert "Ladder" in block_text(added["blocks"]) and "soft" in block_text(added["blocks"])
    again = await poster.interaction(submission("collect_add", values))
    assert "already on the list" in json.loads(again[1])["errors"]["number"]


async def test_ping_arrives_as_block_kit_and_done_updates_it(
    team: ChatDriver, core: Core, standin: SlackStandIn, slack: SlackPlatform, poster: Poster, clock: MovableClock, engine: Engine
) -> None:
    await link_bob(team, poster, standin)
    await poster.command(BOB, "add INV-3 500 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-3")
    scheduler = build_scheduler(core.services)
    scheduler.attach(slack.notifier, SLACK_LIMITS)
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    ping = await message_with(standin, BOB_DM, "Step 1 for INV-3")
    assert ping["blocks"][0]["type"] == "header"
    assert "```" in block_text(ping["blocks"]), "the draft is in a copyable preformatted section"
    status, _ = await poster.interaction(press(ping, "Done"))
    assert status == 200
    await message_with(standin, BOB_DM, "Marked done on INV-3")
    updated = standin.messages[(BOB_DM, ping["ts"])]
    assert "✔ *Marked done on INV-3: “Friendly reminder call”* — by <@U0BOB>" in block_text(updated["blocks"])
    assert all(block["type"] != "actions" for block in updated["blocks"])
    with Session(engine) as session:
        assert session.exec(select(LadderStep).where(LadderStep.position == 1)).one().state == StepState.ACKNOWLEDGED


async def test_promised_opens_a_date_picker_and_records_the_promise(
    team: ChatDriver, core: Core, standin: SlackStandIn, slack: SlackPlatform, poster: Poster, clock: MovableClock
) -> None:
    await link_bob(team, poster, standin)
    await poster.command(BOB, "add INV-4 500 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-4")
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    scheduler = build_scheduler(core.services)
    scheduler.attach(slack.notifier, SLACK_LIMITS)
    await scheduler.fire_due()
    await scheduler.flush()
    ping = await message_with(standin, BOB_DM, "Step 1 for INV-4")
    await poster.interaction(press(ping, "Promised"))
    opened = (await standin.wait_for(lambda: standin.calls_of("views.open")))[-1]
    view = opened.params["view"]
    assert view["blocks"][0]["element"]["type"] == "datepicker"
    status, body = await poster.interaction(submission("collect_ask", {"answer": {"type": "datepicker", "selected_date": "2026-11-01"}},
                                                       view["private_metadata"]))
    assert "already passed" in json.loads(body)["errors"]["answer"]
    await poster.interaction(submission("collect_ask", {"answer": {"type": "datepicker", "selected_date": "2026-12-15"}},
                                        view["private_metadata"]))
    await message_with(standin, BOB_DM, "Promise recorded on INV-4")
    assert "Promise recorded" in block_text(standin.messages[(BOB_DM, ping["ts"])]["blocks"])


async def test_app_home_is_published_once_per_event(team: ChatDriver, standin: SlackStandIn, poster: Poster) -> None:
    await link_bob(team, poster, standin)
    event = {"type": "app_home_opened", "user": BOB, "channel": BOB_DM, "tab": "home", "event_ts": "1.0"}
    assert await poster.event(event, "Ev1") == 200
    [published] = await standin.wait_for(lambda: standin.calls_of("views.publish"))
    assert published.params["user_id"] == BOB and "Your ladder steps today" in block_text(published.params["view"]["blocks"])
    assert await poster.event(event, "Ev1", retry=1) == 200
    await asyncio.sleep(0.3)
    assert len(standin.calls_of("views.publish")) == 1, "Slack's retry of the same event is not handled twice"


async def test_a_customer_called_channel_notifies_nobody(team: ChatDriver, standin: SlackStandIn, poster: Poster) -> None:
    await link_bob(team, poster, standin)
    await poster.command(BOB, 'add INV-5 10 EUR 2026-12-10 "<!channel> & Co"')
    added = await response_with(standin, "Added invoice INV-5")
    text = block_text(added["blocks"])
    assert "&lt;!channel&gt; &amp; Co" in text and "<!channel>" not in text


async def test_a_429_is_retried_and_the_ping_still_arrives(standin: SlackStandIn, slack: SlackPlatform) -> None:
    standin.fail_next.append(("chat.postMessage", 429, "ratelimited", 1))
    await slack.notifier.send(BOB, Reply(title="Step 1 for INV-9: call"))
    await message_with(standin, BOB_DM, "Step 1 for INV-9")


async def test_files_are_uploaded_with_files_upload_v2(standin: SlackStandIn, slack: SlackPlatform) -> None:
    await slack.post(BOB, Reply(title="Case file", files=[Attachment("casefile-INV-1.html", b"<html>ok</html>", "text/html")]))
    [complete] = await standin.wait_for(lambda: standin.calls_of("files.completeUploadExternal"))
    assert list(standin.uploads.values()) == [b"<html>ok</html>"]
    assert complete.params.get("channel_id") == BOB


async def test_a_csv_shared_with_the_bot_is_checked_for_import(team: ChatDriver, standin: SlackStandIn, poster: Poster) -> None:
    await link_bob(team, poster, standin)
    standin.files["F1"] = b"number,customer,amount,due date\nS-1,Acme,100,2026-12-10\n"
    event = {"type": "message", "subtype": "file_share", "user": BOB, "channel": BOB_DM, "channel_type": "im", "ts": "2.0",
             "files": [{"id": "F1", "name": "invoices.csv", "mimetype": "text/csv", "url_private": f"{standin.url}/files/F1"}]}
    assert await poster.event(event, "Ev2") == 200
    checked = await message_with(standin, BOB_DM, "Checked invoices.csv")
    assert "Import 1 invoices" in block_text(checked["blocks"])


async def test_socket_mode_receives_commands_without_a_public_url(
    team: ChatDriver, core: Core, settings: Settings, standin: SlackStandIn
) -> None:
    platform = build_platform(core, slack_settings(settings, standin, slack_app_token="xapp-test", slack_signing_secret=None))
    await platform.start()
    try:
        payload = standin.slash_command("U0ALICE", "help")
        envelope = await standin.push("slash_commands", payload)
        await standin.wait_for(lambda: envelope in standin.acks)
        await response_with(standin, "What I can do")
    finally:
        await platform.stop()
