"""collectbot on Slack, end to end: the real Bolt app (built by `build_platform`, the code
`collectbot run` uses) receives signed requests over HTTP — and the same payloads as Socket Mode
envelopes — and talks to a local Slack stand-in through slack_sdk's real client."""
from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest
import yaml
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app.bootstrap import build_scheduler
from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.store.models import Invoice, LadderStep, StepState
from bot.platforms.slack import SlackPlatform, build_platform
from handlers.core import Core
from bot.platforms.slack.render import render_blocks
from bot.floor.reply import Attachment, Button, Facts, Paragraph, Reply, Table
from bot.platforms.slack.limits import SLACK_LIMITS
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.slack_standin import TEAM_ID, SlackStandIn, block_text
from tests.support import ChatDriver

ALICE, ALICE_DM = "U0ALICE", "D0ALICE"
BOB, BOB_DM = "U0BOB", "D0BOB"
BOT_TOKEN = "xoxb-test-token"
SALES = "C0SALES"
UNUSED_RESPONSE_URL = "http://127.0.0.1:9/unused"
"""Answers to buttons in the app's direct messages are messages, not posts to the response URL."""


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    server = SlackStandIn()
    await server.start()
    yield server
    await server.stop()


def slack_settings(settings: Settings, standin: SlackStandIn, **extra: object) -> Settings:
    return settings.model_copy(update={"slack_bot_token": BOT_TOKEN, "slack_signing_secret": standin.signing_secret,
                                       "slack_api_url": standin.api_url, "slack_http_port": 0, **extra})


SOCKET_MODE = {"slack_app_token": "xapp-test", "slack_signing_secret": None}


@pytest.fixture(params=["http", "socket_mode"])
async def slack(request: pytest.FixtureRequest, core: Core, settings: Settings, standin: SlackStandIn) -> AsyncIterator[SlackPlatform]:
    """The app over HTTP, and again over Socket Mode: every story below runs both ways."""
    platform = build_platform(core, slack_settings(settings, standin, **(SOCKET_MODE if request.param == "socket_mode" else {})))
    await platform.start()
    yield platform
    await platform.stop()


@pytest.fixture
async def http_slack(core: Core, settings: Settings, standin: SlackStandIn) -> AsyncIterator[SlackPlatform]:
    platform = build_platform(core, slack_settings(settings, standin))
    await platform.start()
    yield platform
    await platform.stop()


class Transport(Protocol):
    """How Slack hands the app a slash command, an interaction or an event."""

    async def command(self, user: str, text: str, channel: str = SALES) -> dict[str, str]: ...
    async def interaction(self, payload: dict[str, Any]) -> dict[str, Any]: ...
    async def event(self, event: dict[str, Any], event_id: str, retry: int = 0) -> None: ...


def event_body(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP", "event": event,
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time())}


class Http:
    """Posts to the app's HTTP endpoint the way Slack does, signed."""

    def __init__(self, standin: SlackStandIn, slack: SlackPlatform) -> None:
        self.standin = standin
        self.url = f"http://127.0.0.1:{slack.port}/slack/events"

    async def raw(self, body: str, content_type: str = "application/x-www-form-urlencoded", signed: bool = True,
                  extra: dict[str, str] | None = None, **signing: Any) -> tuple[int, str]:
        headers = self.standin.signed_headers(body, content_type=content_type, **signing) if signed else {"Content-Type": content_type}
        headers.update(extra or {})
        async with aiohttp.ClientSession() as http, http.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def command(self, user: str, text: str, channel: str = SALES) -> dict[str, str]:
        payload = self.standin.slash_command(user, text, channel)
        status, _ = await self.raw(self.standin.form(payload))
        assert status == 200
        return payload

    async def interaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        status, body = await self.raw(self.standin.form({"payload": json.dumps(payload)}))
        assert status == 200
        return json.loads(body) if body else {}

    async def event(self, event: dict[str, Any], event_id: str, retry: int = 0) -> None:
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        status, _ = await self.raw(json.dumps(event_body(event, event_id)), "application/json", extra=extra)
        assert status == 200


class SocketMode:
    """Pushes envelopes over the stand-in's WebSocket and waits for the app's ack."""

    def __init__(self, standin: SlackStandIn) -> None:
        self.standin = standin

    async def acked(self, kind: str, payload: dict[str, Any], retry: int = 0) -> dict[str, Any]:
        envelope = await self.standin.push(kind, payload, retry)
        ack = await self.standin.wait_for(lambda: self.standin.acks.get(envelope))
        return ack.get("payload") or {}

    async def command(self, user: str, text: str, channel: str = SALES) -> dict[str, str]:
        payload = self.standin.slash_command(user, text, channel)
        await self.acked("slash_commands", payload)
        return payload

    async def interaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.acked("interactive", payload)

    async def event(self, event: dict[str, Any], event_id: str, retry: int = 0) -> None:
        await self.acked("events_api", event_body(event, event_id), retry)


@pytest.fixture
def slack_sends(standin: SlackStandIn, slack: SlackPlatform) -> Transport:
    return SocketMode(standin) if slack.socket_mode else Http(standin, slack)


async def response_with(standin: SlackStandIn, text: str) -> dict[str, Any]:
    """What the app posted to a response URL, containing `text`."""
    return await standin.wait_for(lambda: next((r for r in standin.responses if text in block_text(r.get("blocks", [])) + r.get("text", "")), None))


async def message_with(standin: SlackStandIn, channel: str, text: str, besides: str | None = None) -> dict[str, Any]:
    """A message in `channel` containing `text` (other than the message with ts `besides`)."""
    return await standin.wait_for(lambda: next((m for m in standin.posted_to(channel)
                                                if text in block_text(m["blocks"]) and m["ts"] != besides), None))


async def link(team: ChatDriver, slack_sends: Transport, standin: SlackStandIn, handle: str = "bob", user: str = BOB) -> None:
    team.say("alice", f"/team invite @{handle}")
    code = dict(team.last.blocks[0].items)["Code"]  # type: ignore[union-attr,arg-type]
    await slack_sends.command(user, f"start {code}")
    await response_with(standin, "your account is linked")
    standin.responses.clear()


def interaction_base(kind: str, user: str = BOB) -> dict[str, Any]:
    """Like Slack's, every interaction carries a trigger id of its own (two identical signed requests
    are a replay, and are not run twice)."""
    return {"type": kind, "team": {"id": TEAM_ID, "domain": "test"}, "user": {"id": user, "username": "bob", "team_id": TEAM_ID},
            "api_app_id": "A0APP", "token": "legacy", "trigger_id": f"trigger.{uuid.uuid4().hex[:10]}"}


def press(message: dict[str, Any], label: str, channel: str = BOB_DM, response_url: str = UNUSED_RESPONSE_URL,
          ephemeral: bool = False) -> dict[str, Any]:
    button = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if label in e["text"]["text"])
    pressed = {**interaction_base("block_actions"), "channel": {"id": channel}, "response_url": response_url,
               "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": ephemeral},
               "actions": [{**button, "block_id": "b", "action_ts": "1"}]}
    return pressed if ephemeral else {**pressed, "message": message}  # Slack sends no message body for ephemeral ones


def submission(callback_id: str, values: dict[str, dict[str, Any]], private_metadata: str = "") -> dict[str, Any]:
    return {**interaction_base("view_submission"),
            "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata,
                     "state": {"values": {block: {"value": value} for block, value in values.items()}}}}


async def ping_for(number: str, core: Core, slack: SlackPlatform, standin: SlackStandIn, clock: MovableClock) -> dict[str, Any]:
    """Fire the invoice's first ladder step (Mon 7 Dec, 10:00) and return the ping as Slack holds it."""
    scheduler = build_scheduler(core.services)
    scheduler.attach(slack.notifier, SLACK_LIMITS)
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    return await message_with(standin, BOB_DM, f"Step 1 for {number}")


# -- commands -----------------------------------------------------------------------------------------


async def test_bob_links_by_slack_user_id_and_adds_an_invoice(team: ChatDriver, standin: SlackStandIn, slack_sends: Transport) -> None:
    await link(team, slack_sends, standin)
    await slack_sends.command(BOB, "add INV-1 1200.50 EUR 2026-12-10 Acme Trading Ltd")
    added = await response_with(standin, "Added invoice INV-1")
    assert added["response_type"] == "ephemeral" and "€1,200.50" in block_text(added["blocks"])
    assert standin.posted_to(SALES) == [], "nothing is posted in the channel itself"
    await slack_sends.command(BOB, "")
    await response_with(standin, "What I can do")


async def test_in_the_apps_direct_messages_an_answer_is_an_ordinary_message(
    team: ChatDriver, standin: SlackStandIn, slack_sends: Transport
) -> None:
    await link(team, slack_sends, standin)
    await slack_sends.command(BOB, "help", channel=BOB_DM)
    await message_with(standin, BOB_DM, "What I can do")
    assert standin.responses == []


async def test_a_mentioned_slack_user_is_the_linked_team_member(team: ChatDriver, standin: SlackStandIn, slack_sends: Transport) -> None:
    await link(team, slack_sends, standin)
    await link(team, slack_sends, standin, "alice", ALICE)
    await slack_sends.command(ALICE, "add INV-7 100 EUR 2026-12-10 Acme <@U0BOB|bobby>")
    added = await response_with(standin, "Added invoice INV-7")
    assert "*Owner*\n@bob" in block_text(added["blocks"])
    await slack_sends.command(ALICE, "add INV-8 100 EUR 2026-12-10 Acme <@U0NOBODY|ghost>")
    refused = block_text((await response_with(standin, "not on the team yet"))["blocks"])
    assert "slack:" not in refused.lower() and "/team invite @name" in refused, "advice that links a Slack account"


async def test_a_customer_called_channel_notifies_nobody(team: ChatDriver, standin: SlackStandIn, slack_sends: Transport) -> None:
    await link(team, slack_sends, standin)
    # Slack sends typed text escaped, and a typed @channel as <!channel>
    await slack_sends.command(BOB, 'add INV-5 10 EUR 2026-12-10 "&lt;!channel&gt; &amp; Co"')
    text = block_text((await response_with(standin, "Added invoice INV-5"))["blocks"])
    assert "&lt;!channel&gt; &amp; Co" in text and "<!channel>" not in text
    await slack_sends.command(BOB, 'add INV-6 10 EUR 2026-12-10 "<!channel> Partners"')
    text = block_text((await response_with(standin, "Added invoice INV-6"))["blocks"])
    assert "@channel Partners" in text and "<!" not in text


# -- request verification ------------------------------------------------------------------------------


async def test_unsigned_badly_signed_and_stale_requests_are_rejected(standin: SlackStandIn, http_slack: SlackPlatform) -> None:
    http = Http(standin, http_slack)
    body = standin.form(standin.slash_command(BOB, "help"))
    assert (await http.raw(body, signed=False))[0] == 401
    assert (await http.raw(body, secret="wrong"))[0] == 401
    assert (await http.raw(body, timestamp=int(time.time()) - 6 * 60))[0] == 401
    assert (await http.raw(body.replace("help", "team"), extra=standin.signed_headers(body)))[0] == 401, "body changed after signing"
    await asyncio.sleep(0.2)
    assert standin.responses == []
    assert (await http.raw(body))[0] == 200
    await response_with(standin, "What I can do")


async def test_slacks_url_verification_challenge_is_answered(standin: SlackStandIn, http_slack: SlackPlatform) -> None:
    status, body = await Http(standin, http_slack).raw(json.dumps({"type": "url_verification", "challenge": "c4ll"}), "application/json")
    assert status == 200 and json.loads(body)["challenge"] == "c4ll"


# -- the add modal -------------------------------------------------------------------------------------


async def test_add_modal_shows_field_errors_then_adds(team: ChatDriver, standin: SlackStandIn, slack_sends: Transport) -> None:
    await link(team, slack_sends, standin)
    await slack_sends.command(BOB, "add")
    [opened] = await standin.wait_for(lambda: standin.calls_of("views.open"))
    view = opened.params["view"]
    assert view["callback_id"] == "collect_add"
    elements = {block["block_id"]: block["element"] for block in view["blocks"]}
    assert [elements[b]["type"] for b in ("currency", "due", "owner", "ladder")] == ["static_select", "datepicker", "users_select", "static_select"]
    assert {"standard", "soft"} <= {option["value"] for option in elements["ladder"]["options"]}
    values = {"number": {"type": "plain_text_input", "value": "INV 2"}, "customer": {"type": "plain_text_input", "value": "Fjord AS"},
              "amount": {"type": "plain_text_input", "value": "12,00,0"}, "currency": {"type": "static_select", "selected_option": {"value": "NOK"}},
              "due": {"type": "datepicker", "selected_date": "2026-12-20"}, "owner": {"type": "users_select", "selected_user": None},
              "ladder": {"type": "static_select", "selected_option": {"value": "soft"}}}
    answer = await slack_sends.interaction(submission("collect_add", values))
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {"number", "amount"}
    values["number"] = {"type": "plain_text_input", "value": "INV-2"}
    values["amount"] = {"type": "plain_text_input", "value": "1 500"}
    values["owner"] = {"type": "users_select", "selected_user": BOB}
    assert not (await slack_sends.interaction(submission("collect_add", values))).get("errors")
    added = await message_with(standin, BOB_DM, "Added invoice INV-2")
    # the currency code spaced from the number (issue 14), not glued
    assert "*Ladder*\nsoft" in block_text(added["blocks"]) and "NOK\u00a01,500.00" in block_text(added["blocks"])
    again = await slack_sends.interaction(submission("collect_add", values))
    assert "already on the list" in again["errors"]["number"], "the core's own refusal lands on its field"
    values["number"] = {"type": "plain_text_input", "value": "INV-3"}
    values["customer"] = {"type": "plain_text_input", "value": "ООО «Север» „Юг“"}
    assert not (await slack_sends.interaction(submission("collect_add", values))).get("errors"), "quotes of ru and bg names are kept"
    assert "ООО «Север» „Юг“" in block_text((await message_with(standin, BOB_DM, "Added invoice INV-3"))["blocks"])


@pytest.mark.parametrize("language", ["ru", "nb", "bg"])
async def test_the_cores_refusals_of_the_add_form_land_on_their_own_fields_in_every_language(
        team: ChatDriver, standin: SlackStandIn, slack_sends: Transport, language: str) -> None:
    await link(team, slack_sends, standin)
    team.say("alice", f"/team set @bob lang={language}")
    good = {"number": {"type": "plain_text_input", "value": "INV-3"}, "customer": {"type": "plain_text_input", "value": "Fjord AS"},
            "amount": {"type": "plain_text_input", "value": "1500"}, "currency": {"type": "static_select", "selected_option": {"value": "NOK"}},
            "due": {"type": "datepicker", "selected_date": "2026-12-20"}, "owner": {"type": "users_select", "selected_user": BOB},
            "ladder": {"type": "static_select", "selected_option": {"value": "standard"}}}
    wrong = {  # each field's wrong value, and a word of the English refusal
        "amount": ({"type": "plain_text_input", "value": "5000000000"}, "limit"),
        "currency": ({"type": "static_select", "selected_option": {"value": "XYZ"}}, "currency"),
        "due": ({"type": "datepicker", "selected_date": "2099-12-20"}, "years"),
        "owner": ({"type": "users_select", "selected_user": "U0NOBODY"}, "team yet"),
        "ladder": ({"type": "static_select", "selected_option": {"value": "nosuch"}}, "no ladder"),
    }
    for block, (value, english) in wrong.items():
        answer = await slack_sends.interaction(submission("collect_add", {**good, block: value}))
        assert answer["response_action"] == "errors" and list(answer["errors"]) == [block], (block, answer)
        assert english not in answer["errors"][block], f"the refusal reads in {language}"
    assert not (await slack_sends.interaction(submission("collect_add", good))).get("errors")
    again = await slack_sends.interaction(submission("collect_add", good))
    assert list(again["errors"]) == ["number"], "a number already on the list"


# -- pings and their buttons -----------------------------------------------------------------------------


async def test_ping_arrives_as_block_kit_and_done_updates_it(
    team: ChatDriver, core: Core, standin: SlackStandIn, slack: SlackPlatform, slack_sends: Transport, clock: MovableClock,
    engine: Engine,
) -> None:
    await link(team, slack_sends, standin)
    await slack_sends.command(BOB, "add INV-3 500 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-3")
    ping = await ping_for("INV-3", core, slack, standin, clock)
    assert [call.params["users"] for call in standin.calls_of("conversations.open")] == [BOB], "a direct message, opened once"
    assert ping["blocks"][0]["type"] == "header"
    assert any(block.get("fields") for block in ping["blocks"]), "the invoice's facts as section fields"
    assert "```" in block_text(ping["blocks"]), "the draft is in a copyable preformatted section"
    labels = [e["text"]["text"] for b in ping["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert any("Done" in label for label in labels) and any("Promised" in label for label in labels)
    await slack_sends.interaction(press(ping, "Done"))
    await message_with(standin, BOB_DM, "Marked done on INV-3", besides=ping["ts"])
    updated = standin.messages[(BOB_DM, ping["ts"])]
    assert "✔ *Marked done on INV-3: “Friendly reminder call”* — by <@U0BOB>" in block_text(updated["blocks"])
    assert all(block["type"] != "actions" for block in updated["blocks"]), "no second press"
    assert block_text(ping["blocks"]) in block_text(updated["blocks"]), "the ping keeps its text"
    with Session(engine) as session:
        assert session.exec(select(LadderStep).where(LadderStep.position == 1)).one().state == StepState.ACKNOWLEDGED


async def test_promised_opens_a_date_picker_and_records_the_promise(
    team: ChatDriver, core: Core, standin: SlackStandIn, slack: SlackPlatform, slack_sends: Transport, clock: MovableClock
) -> None:
    await link(team, slack_sends, standin)
    await slack_sends.command(BOB, "add INV-4 500 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-4")
    ping = await ping_for("INV-4", core, slack, standin, clock)
    await slack_sends.interaction(press(ping, "Promised"))
    view = (await standin.wait_for(lambda: standin.calls_of("views.open")))[-1].params["view"]
    assert view["blocks"][0]["element"]["type"] == "datepicker"
    assert view["blocks"][0]["label"]["text"] == "Which date did they promise to pay INV-4 by?"
    answer = await slack_sends.interaction(submission("collect_ask", {"answer": {"type": "datepicker", "selected_date": "2026-11-01"}},
                                                      view["private_metadata"]))
    assert "already passed" in answer["errors"]["answer"]
    await slack_sends.interaction(submission("collect_ask", {"answer": {"type": "datepicker", "selected_date": "2026-12-15"}},
                                             view["private_metadata"]))
    await message_with(standin, BOB_DM, "Promise recorded on INV-4", besides=ping["ts"])
    updated = standin.messages[(BOB_DM, ping["ts"])]
    assert "Promise recorded" in block_text(updated["blocks"]) and "— by <@U0BOB>" in block_text(updated["blocks"])


async def test_dispute_asks_for_the_reason_in_a_text_modal(
    team: ChatDriver, core: Core, standin: SlackStandIn, slack: SlackPlatform, slack_sends: Transport, clock: MovableClock,
    engine: Engine,
) -> None:
    await link(team, slack_sends, standin)
    await slack_sends.command(BOB, "add INV-12 500 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-12")
    ping = await ping_for("INV-12", core, slack, standin, clock)
    await slack_sends.interaction(press(ping, "Dispute"))
    view = (await standin.wait_for(lambda: standin.calls_of("views.open")))[-1].params["view"]
    assert view["blocks"][0]["element"]["type"] == "plain_text_input"
    await slack_sends.interaction(submission("collect_ask", {"answer": {"type": "plain_text_input", "value": "Goods <arrived> broken"}},
                                             view["private_metadata"]))
    answered = await message_with(standin, BOB_DM, "INV-12", besides=ping["ts"])
    assert "Goods &lt;arrived&gt; broken" in block_text(answered["blocks"])
    with Session(engine) as session:
        assert session.exec(select(Invoice).where(Invoice.number == "INV-12")).one().status == "disputed"


async def test_a_button_on_an_ephemeral_answer_replaces_it(team: ChatDriver, standin: SlackStandIn, slack_sends: Transport) -> None:
    await link(team, slack_sends, standin)
    await slack_sends.command(BOB, "add INV-13 500 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-13")
    standin.responses.clear()
    await slack_sends.command(BOB, "draft INV-13 firm")
    draft = await response_with(standin, "INV-13")
    other = press({**draft, "ts": "9.9"}, "Other wording", channel=SALES, response_url=f"{standin.url}/response/draft", ephemeral=True)
    standin.responses.clear()
    await slack_sends.interaction(other)
    rotated = await response_with(standin, "INV-13")
    assert rotated["response_type"] == "ephemeral" and rotated["replace_original"] is True
    assert standin.posted_to(SALES) == []


# -- App Home, files, imports -----------------------------------------------------------------------------


async def test_app_home_shows_today_upcoming_and_for_managers_overdue_once_per_event(
    team: ChatDriver, standin: SlackStandIn, slack_sends: Transport
) -> None:
    await link(team, slack_sends, standin)
    await link(team, slack_sends, standin, "alice", ALICE)
    event = {"type": "app_home_opened", "user": BOB, "channel": BOB_DM, "tab": "home", "event_ts": "1.0"}
    await slack_sends.event(event, "Ev1")
    [published] = await standin.wait_for(lambda: standin.calls_of("views.publish"))
    home = block_text(published.params["view"]["blocks"])
    assert published.params["user_id"] == BOB and "Your ladder steps today" in home and "Overdue" not in home
    await slack_sends.event(event, "Ev1", retry=1)
    await asyncio.sleep(0.3)
    assert len(standin.calls_of("views.publish")) == 1, "Slack's retry of the same event is not handled twice"
    await slack_sends.event({**event, "user": ALICE, "channel": ALICE_DM}, "Ev2")
    alices = (await standin.wait_for(lambda: standin.calls_of("views.publish")[1:]))[0]
    assert "Nothing overdue for the team" in block_text(alices.params["view"]["blocks"])


async def test_app_home_of_a_stranger_says_how_to_join(standin: SlackStandIn, slack_sends: Transport) -> None:
    await slack_sends.event({"type": "app_home_opened", "user": "U0NEW", "tab": "home", "event_ts": "3.0"}, "Ev3")
    [published] = await standin.wait_for(lambda: standin.calls_of("views.publish"))
    assert "not linked to the team yet" in block_text(published.params["view"]["blocks"])


async def test_a_csv_shared_with_the_bot_is_checked_then_imported(team: ChatDriver, standin: SlackStandIn, slack_sends: Transport) -> None:
    await link(team, slack_sends, standin)
    standin.files["F1"] = b"number,customer,amount,due date\nS-1,Acme,100,2026-12-10\nS-2,Beta,oops,2026-12-10\n"
    event = {"type": "message", "subtype": "file_share", "user": BOB, "channel": BOB_DM, "channel_type": "im", "ts": "2.0",
             "files": [{"id": "F1", "name": "invoices.csv", "mimetype": "text/csv", "size": 70, "url_private": f"{standin.url}/files/F1"}]}
    await slack_sends.event(event, "Ev2")
    checked = await message_with(standin, BOB_DM, "Checked invoices.csv")
    assert "line 3" in block_text(checked["blocks"])
    await slack_sends.interaction(press(checked, "Import 1 invoice"))
    await message_with(standin, BOB_DM, "Imported 1 invoice from invoices.csv", besides=checked["ts"])
    assert "Imported" in block_text(standin.messages[(BOB_DM, checked["ts"])]["blocks"]), "the dry run says it was done"


async def test_files_are_uploaded_with_files_upload_v2_to_the_direct_message(standin: SlackStandIn, http_slack: SlackPlatform) -> None:
    await http_slack.notifier.send(BOB, Reply(title="Case file", files=[Attachment("casefile-INV-1.html", b"<html>ok</html>", "text/html")]))
    [complete] = await standin.wait_for(lambda: standin.calls_of("files.completeUploadExternal"))
    assert list(standin.uploads.values()) == [b"<html>ok</html>"]
    assert complete.params["channel_id"] == BOB_DM


# -- delivery under pressure ------------------------------------------------------------------------------


async def test_a_429_is_retried_after_retry_after_and_the_ping_still_arrives(standin: SlackStandIn, http_slack: SlackPlatform) -> None:
    await http_slack.outbox.conversation(BOB)
    standin.fail_next.append(("chat.postMessage", 429, "ratelimited", 1))
    started = time.monotonic()
    await http_slack.notifier.send(BOB, Reply(title="Step 1 for INV-9: call"))
    assert time.monotonic() - started >= 1.0, "Retry-After was honoured"
    await message_with(standin, BOB_DM, "Step 1 for INV-9")


async def test_a_ping_slack_refuses_is_kept_and_delivered_on_retry(
    team: ChatDriver, core: Core, standin: SlackStandIn, http_slack: SlackPlatform, clock: MovableClock
) -> None:
    http = Http(standin, http_slack)
    await link(team, http, standin)
    await http.command(BOB, "add INV-11 300 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-11")
    standin.fail_next.append(("chat.postMessage", 200, "fatal_error", None))
    with pytest.raises(SlackApiError):
        await http_slack.notifier.send(BOB, Reply(title="a test message"))
    standin.fail_next.append(("chat.postMessage", 200, "fatal_error", None))
    scheduler: Scheduler = build_scheduler(core.services)
    scheduler.attach(http_slack.notifier, SLACK_LIMITS)
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    assert not any("Step 1 for INV-11" in block_text(m["blocks"]) for m in standin.posted_to(BOB_DM))
    await asyncio.sleep(1.1)  # the send queue's first retry pause
    await scheduler.flush()
    await message_with(standin, BOB_DM, "Step 1 for INV-11")
    assert len([m for m in standin.posted_to(BOB_DM) if "Step 1 for INV-11" in block_text(m["blocks"])]) == 1


def test_the_app_manifest_declares_what_the_app_uses() -> None:
    manifest = yaml.safe_load((Path(__file__).parent.parent / "slack-manifest.yml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/collect" and command["should_escape"] is True, "mentions arrive as user ids"
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert {"commands", "chat:write", "im:write", "im:history", "files:read", "files:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    settings = manifest["settings"]
    assert {"app_home_opened", "message.im"} <= set(settings["event_subscriptions"]["bot_events"])
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]


async def test_a_stranger_asking_to_add_is_told_they_are_not_on_the_team_instead_of_a_form(team: ChatDriver, standin: SlackStandIn,
                                                                                    slack_sends: Transport) -> None:
    await slack_sends.command("U0NEW", "add")
    await response_with(standin, "you are not on team")
    assert standin.calls_of("views.open") == []


def test_long_replies_fit_slacks_block_limits_without_breaking_an_escape() -> None:
    rows = tuple((f"INV-{n}", "Smith & Sons <Ltd>" * 3, "€1,000.00") for n in range(400))
    reply = Reply(title="Overdue", blocks=[Paragraph("A&B " * 2000), Facts(tuple((f"k{n}", "v&") for n in range(23))),
                                           Table(("Invoice", "Customer", "Amount"), rows)],
                  buttons=[Button(f"b{n}", f"done INV-{n}") for n in range(7)])
    blocks = render_blocks(reply)
    assert len(blocks) <= 50 and [b["type"] for b in blocks[-2:]] == ["actions", "actions"], "the buttons survive shortening"
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(text) <= 3000 for text in texts)
    assert all(not re.search(r"&(?!amp;|lt;|gt;)", text) for text in texts), "no escape is cut in half"
    assert [len(b["fields"]) for b in blocks if "fields" in b] == [10, 10, 3]
    assert texts[0].startswith("A&amp;B") and texts[1].startswith("A&amp;B"), "a long paragraph continues in a second section"


async def test_overdue_in_a_channel_answers_the_manager_alone_and_uploads_the_chart_to_her_dm(
    team: ChatDriver, standin: SlackStandIn, slack_sends: Transport
) -> None:
    await link(team, slack_sends, standin, "alice", ALICE)
    await slack_sends.command(ALICE, "add INV-20 900 EUR 2026-10-01 Acme")
    await response_with(standin, "Added invoice INV-20")
    await slack_sends.command(ALICE, "overdue chart")
    overdue = await response_with(standin, "Overdue for the team")
    assert overdue["response_type"] == "ephemeral" and standin.posted_to(SALES) == []
    [complete] = await standin.wait_for(lambda: standin.calls_of("files.completeUploadExternal"))
    assert complete.params["channel_id"] == ALICE_DM
    assert [file["title"] for file in complete.params["files"]] == ["overdue-aging.png"]
    assert next(iter(standin.uploads.values())).startswith(b"\x89PNG")


@pytest.mark.parametrize(("locale", "words"), [("ru-RU", "Вы пока не в команде"), ("nb-NO", "Du er ikke med i teamet"),
                                               ("bg-BG", "Все още не сте в екип")])
async def test_a_newcomer_whose_slack_speaks_their_language_is_answered_in_it(
        team: ChatDriver, standin: SlackStandIn, slack_sends: Transport, locale: str, words: str) -> None:
    standin.locales["U0NEW"] = locale
    await slack_sends.command("U0NEW", "start")
    answer = await response_with(standin, words)
    assert "/team add @yourname salesperson" in block_text(answer["blocks"]), "commands stay the same words"
    asked = [call for call in standin.calls_of("users.info") if call.params.get("user") == "U0NEW"]
    assert asked and str(asked[0].params.get("include_locale")).lower() in ("1", "true")
