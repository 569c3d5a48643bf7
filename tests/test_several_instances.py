"""Two instances behind a load balancer, on one database: every request may reach either, so no
conversation state lives in one process. Requests alternate between instance A and instance B —
through the real python-telegram-bot webhook and the real Bolt HTTP endpoint — and Telegram's
polling runs in one instance at a time (a lease in the database)."""
from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app.metrics import MetricsServer
from bot.app.bootstrap import build_core, build_scheduler, build_services
from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.store.database import create_database_engine
from bot.store.models import Invoice
from bot.platforms.slack import SlackPlatform
from bot.platforms.slack import build_platform as build_slack
from bot.platforms.telegram import TelegramPlatform
from bot.platforms.telegram import build_platform as build_telegram
from bot.platforms.telegram.platform import POLLING_LOOP, QUESTION
from handlers.core import Core
from scheduling.notifier import SLACK_LIMITS, TELEGRAM_LIMITS
from tests.conftest import OSLO
from tests.outages import Outage
from tests.slack_standin import SlackStandIn
from tests.support import ChatDriver
from tests.telegram_standin import TelegramStandIn, User
from tests.test_import import GOOD
from tests.test_slack import BOB as SLACK_BOB
from tests.test_slack import BOB_DM, Http, event_body, link, message_with, press, response_with, slack_settings, submission
from tests.test_telegram import free_port, last_text, telegram_settings

BOB = User(111, "Bob", "bob_sales")
SECRET = "shared-webhook-secret"


@pytest.fixture
def core_b(database_url: tuple[str, str | None], clock: MovableClock, settings: Settings) -> Core:
    """A second instance: its own engine, services and core on the same database."""
    url, schema = database_url
    return build_core(build_services(settings, clock=clock, engine=create_database_engine(url, schema=schema)))


# -- Telegram through two webhooks ----------------------------------------------------------------------------
@dataclass
class TelegramPair:
    standin: TelegramStandIn
    instances: tuple[TelegramPlatform, TelegramPlatform]
    ports: tuple[int, int]

    async def to(self, which: str) -> None:
        """Hand what the users just did to instance `which` ("A" or "B"), as the balancer would."""
        updates, self.standin.updates = list(self.standin.updates), []
        port = self.ports["AB".index(which)]
        async with aiohttp.ClientSession() as http:
            for update in updates:
                async with http.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as answered:
                    assert answered.status == 200


@pytest.fixture
async def telegram_pair(core: Core, core_b: Core, settings: Settings) -> AsyncIterator[TelegramPair]:
    standin = TelegramStandIn()
    await standin.start()
    ports = (free_port(), free_port())
    instances = tuple(build_telegram(instance, telegram_settings(
        settings, standin, telegram_webhook_url=f"http://127.0.0.1:{port}/telegram", telegram_webhook_secret=SECRET,
        telegram_webhook_port=port)) for instance, port in zip((core, core_b), ports, strict=True))
    for platform in instances:
        await platform.start()
    yield TelegramPair(standin, instances, ports)  # type: ignore[arg-type]
    for platform in instances:
        await platform.stop()
    await standin.stop()


async def link_bob_on_telegram(team: ChatDriver, pair: TelegramPair) -> None:
    team.say("alice", "/team invite @bob")
    code = dict(team.last.blocks[0].items)["Code"]  # type: ignore[union-attr,arg-type]
    await pair.standin.say(BOB, f"/start {code}")
    await pair.to("A")
    await last_text(pair.standin, BOB.id, "your account is linked")


async def test_an_import_checked_on_one_instance_is_confirmed_on_the_other(
    team: ChatDriver, telegram_pair: TelegramPair, engine: Engine,
) -> None:
    standin = telegram_pair.standin
    await link_bob_on_telegram(team, telegram_pair)
    await standin.send_document(BOB, "invoices.csv", GOOD.encode(), caption="/import")
    await telegram_pair.to("A")
    checked = await last_text(standin, BOB.id, "Checked invoices.csv: 2 rows")
    await standin.press(BOB, checked, "Import 2 invoices")
    await telegram_pair.to("B")
    await last_text(standin, BOB.id, "Imported 2 invoices from invoices.csv")
    with Session(engine) as session:
        assert sorted(session.exec(select(Invoice.number))) == ["INV-1", "INV-2"]


async def test_the_guided_add_goes_on_whichever_instance_gets_each_answer(
    team: ChatDriver, telegram_pair: TelegramPair, engine: Engine,
) -> None:
    standin = telegram_pair.standin
    await link_bob_on_telegram(team, telegram_pair)
    steps = (("/add", "What is its number", "A"), ("INV-9", "The amount", "B"), ("1200.50 EUR", "The due date", "A"),
             ("2026-12-20", "customer's name", "B"))
    for answer, question, instance in steps:
        await standin.say(BOB, answer)
        await telegram_pair.to(instance)
        await last_text(standin, BOB.id, question)
    await standin.say(BOB, "Fjord & Sons AS")
    await telegram_pair.to("A")
    confirm = await last_text(standin, BOB.id, "Add invoice INV-9")
    double_tap = copy.deepcopy(confirm)
    await standin.press(BOB, confirm, "Add it")
    await telegram_pair.to("B")
    added = await last_text(standin, BOB.id, "Added invoice INV-9")
    assert "Fjord & Sons AS" in added["text"]
    await standin.press(BOB, double_tap, "Add it")  # pressed again before the button vanished, on the other instance
    await telegram_pair.to("A")
    await standin.wait_for(lambda: len(standin.calls_of("answerCallbackQuery")) >= 2)
    with Session(engine) as session:
        assert list(session.exec(select(Invoice.number))) == ["INV-9"], "added once"


async def test_a_question_asked_by_one_instance_is_answered_on_the_other(
    team: ChatDriver, core: Core, telegram_pair: TelegramPair, clock: MovableClock, engine: Engine,
) -> None:
    standin = telegram_pair.standin
    await link_bob_on_telegram(team, telegram_pair)
    await standin.say(BOB, "/add INV-8 900 EUR 2026-12-10 Acme")
    await telegram_pair.to("B")
    await last_text(standin, BOB.id, "Added invoice INV-8")
    scheduler = build_scheduler(core.services)
    scheduler.attach(telegram_pair.instances[0].notifier, TELEGRAM_LIMITS)
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    ping = await last_text(standin, BOB.id, "Step 1 for INV-8")
    await standin.press(BOB, ping, "Promised")
    await telegram_pair.to("A")
    prompt = await last_text(standin, BOB.id, "Which date did they promise")
    # A keeps the question once Telegram has given the prompt its id; a person answers later than that.
    await standin.wait_for(lambda: telegram_pair.instances[0].store.get(QUESTION, f"{BOB.id}:{prompt['message_id']}"))
    await standin.say(BOB, "2026-12-15", reply_to=prompt["message_id"])
    await telegram_pair.to("B")
    await last_text(standin, BOB.id, "Promise recorded on INV-8")
    assert "Promise recorded" in standin.messages[(BOB.id, ping["message_id"])]["text"], "B marked the ping A sent"
    await standin.say(BOB, "2026-12-16", reply_to=prompt["message_id"])
    await telegram_pair.to("A")
    await last_text(standin, BOB.id, "That question is no longer open")
    with Session(engine) as session:
        assert session.exec(select(Invoice.promised_date)).one().isoformat() == "2026-12-15"


# -- Telegram polling: one instance at a time ------------------------------------------------------------------
async def test_only_one_instance_polls_telegram_and_the_other_takes_over_when_it_stops(
    team: ChatDriver, core: Core, core_b: Core, settings: Settings, clock: MovableClock,
) -> None:
    standin = TelegramStandIn()
    await standin.start()
    polling = telegram_settings(settings, standin, telegram_polling_lease_seconds=3)
    first, second = build_telegram(core, polling), build_telegram(core_b, polling)
    try:
        await first.start()
        await second.start()
        assert first.application.updater.running and not second.application.updater.running  # type: ignore[union-attr]
        await standin.say(BOB, "/help")
        await last_text(standin, BOB.id, "What I can do")
        await first.stop()
        await standin.wait_for(lambda: second.application.updater.running, timeout=5)  # type: ignore[union-attr]
        await standin.say(BOB, "/start")
        await last_text(standin, BOB.id, "Hello, I'm collectbot")
        assert len([m for m in standin.sent_to(BOB.id) if "What I can do" in m["text"]]) == 1, "each update answered once"

        crashed = second  # stops renewing without letting go (killed): the lease lapses, then the first comes back
        assert crashed._polling is not None
        crashed._polling.cancel()
        await crashed.application.updater.stop()  # type: ignore[union-attr]
        third = build_telegram(core, polling)
        await third.start()
        assert not third.application.updater.running, "the lease has not lapsed yet"  # type: ignore[union-attr]
        clock.advance(timedelta(seconds=4))
        await standin.wait_for(lambda: third.application.updater.running, timeout=5)  # type: ignore[union-attr]
        await third.stop()
    finally:
        for platform in (first, second):
            await platform.stop()
        await standin.stop()


async def test_the_telegram_polling_lease_shows_in_healthz_and_metrics_and_a_lost_database_makes_it_unhealthy(
    team: ChatDriver, core: Core, core_b: Core, settings: Settings, clock: MovableClock, engine: Engine, outage: Outage,
) -> None:
    standin = TelegramStandIn()
    await standin.start()
    polling = telegram_settings(settings, standin, telegram_polling_lease_seconds=3)
    polls, waits = build_telegram(core, polling), build_telegram(core_b, polling)
    server = MetricsServer(engine, core.services.health, min_interval=0)  # liveness is judged on wall time
    await server.start("127.0.0.1", 0)
    try:
        await polls.start()
        await waits.start()
        for instance in (polls, waits):
            state = instance.core.services.health.snapshot()[POLLING_LOOP]
            assert state.running and state.failures_in_a_row == 0, state
        status, body = await fetch(server, "/healthz")
        assert status == 200 and POLLING_LOOP in body, body
        status, body = await fetch(server, "/metrics")
        assert f'collectbot_loop_healthy{{loop="{POLLING_LOOP}"}} 1.0' in body, body

        polls.polling_lease = replace(polls.polling_lease, engine=outage.engine)  # the lease's database goes away
        await outage.begin()
        try:
            await standin.wait_for(lambda: core.services.health.snapshot()[POLLING_LOOP].failures_in_a_row > 0, timeout=10)
            status, body = await fetch(server, "/healthz")
            assert status == 503 and "could not keep the Telegram polling lease" in body, body
        finally:
            await outage.end()
        await standin.wait_for(lambda: core.services.health.snapshot()[POLLING_LOOP].failures_in_a_row == 0, timeout=10)
        status, _ = await fetch(server, "/healthz")
        assert status == 200

        await polls.stop()
        assert not core.services.health.snapshot()[POLLING_LOOP].running, "a stopped platform says so"
    finally:
        for platform in (polls, waits):
            await platform.stop()
        await server.stop()
        await standin.stop()


async def fetch(server: MetricsServer, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{server.port}{path}") as response:
        return response.status, await response.text()


# -- Slack through two HTTP endpoints -------------------------------------------------------------------------
@pytest.fixture
async def slack_pair(core: Core, core_b: Core, settings: Settings) -> AsyncIterator[tuple[SlackStandIn, SlackPlatform, SlackPlatform]]:
    standin = SlackStandIn()
    await standin.start()
    a, b = build_slack(core, slack_settings(settings, standin)), build_slack(core_b, slack_settings(settings, standin))
    await a.start()
    await b.start()
    yield standin, a, b
    await a.stop()
    await b.stop()
    await standin.stop()


async def test_a_slack_modal_opened_on_one_instance_is_submitted_on_the_other(
    team: ChatDriver, core: Core, slack_pair: tuple[SlackStandIn, SlackPlatform, SlackPlatform], clock: MovableClock,
) -> None:
    standin, a, b = slack_pair
    via_a, via_b = Http(standin, a), Http(standin, b)
    await link(team, via_a, standin)
    await via_b.command(SLACK_BOB, "add INV-4 500 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-4")
    scheduler = build_scheduler(core.services)
    scheduler.attach(a.notifier, SLACK_LIMITS)
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    assert await scheduler.fire_due() == 1
    await scheduler.flush()
    ping = await message_with(standin, BOB_DM, "Step 1 for INV-4")
    await via_a.interaction(press(ping, "Promised"))
    view = (await standin.wait_for(lambda: standin.calls_of("views.open")))[-1].params["view"]
    await via_b.interaction(submission("collect_ask", {"answer": {"type": "datepicker", "selected_date": "2026-12-15"}},
                                       view["private_metadata"]))
    await message_with(standin, BOB_DM, "Promise recorded on INV-4", besides=ping["ts"])
    updated = standin.messages[(BOB_DM, ping["ts"])]
    assert "Promise recorded" in str(updated["blocks"]) and all(block["type"] != "actions" for block in updated["blocks"]), \
        "B edited the ping whose button A opened the modal for"


async def test_a_replayed_signed_request_is_not_run_again_on_the_other_instance(
    team: ChatDriver, slack_pair: tuple[SlackStandIn, SlackPlatform, SlackPlatform], engine: Engine,
) -> None:
    standin, a, b = slack_pair
    via_a, via_b = Http(standin, a), Http(standin, b)
    await link(team, via_a, standin)
    await via_a.command(SLACK_BOB, "add INV-5 500 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice INV-5")
    body = standin.form(standin.slash_command(SLACK_BOB, "paid INV-5 100"))
    headers = standin.signed_headers(body)
    for via in (via_a, via_b, via_a):  # the genuine request, then the same bytes replayed twice within the window
        async with aiohttp.ClientSession() as http, http.post(via.url, data=body.encode(), headers=headers) as answered:
            assert answered.status == 200
    await response_with(standin, "INV-5")
    await asyncio.sleep(0.5)
    with Session(engine) as session:
        assert session.exec(select(Invoice.balance)).one() == Decimal("400"), "one payment of 100, not three"


async def test_a_retried_slack_event_is_handled_once_across_instances(
    team: ChatDriver, slack_pair: tuple[SlackStandIn, SlackPlatform, SlackPlatform],
) -> None:
    standin, a, b = slack_pair
    via_a, via_b = Http(standin, a), Http(standin, b)
    event = {"type": "app_home_opened", "user": SLACK_BOB, "channel": BOB_DM, "tab": "home", "event_ts": "1.0"}
    await via_a.event(event, "EvOnce")
    await standin.wait_for(lambda: standin.calls_of("views.publish"))
    await via_b.event(event, "EvOnce", retry=1)
    await via_a.event(event, "EvOnce", retry=2)
    await asyncio.sleep(0.5)
    assert len(standin.calls_of("views.publish")) == 1
    assert event_body(event, "EvTwo")["event_id"] == "EvTwo"
    await via_b.event(event, "EvTwo")
    await standin.wait_for(lambda: len(standin.calls_of("views.publish")) == 2)
