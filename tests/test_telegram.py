"""collectbot on Telegram, end to end: the real python-telegram-bot application (built by the same
code `collectbot run` uses) polls a local Bot API stand-in, as users would use it."""
from __future__ import annotations

import asyncio
import copy
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import aiohttp
import pytest
from telegram.error import TelegramError
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.store.models import LadderStep, StepState
from bot.platforms.telegram import TelegramPlatform, build_platform
from bot.platforms.telegram.buttons import ButtonBook
from bot.platforms.telegram.render import render_messages
from handlers.core import Core
from bot.i18n import translated
from bot.floor.reply import Attachment, BulletList, Button, DraftText, Facts, Paragraph, Reply
from bot.platforms.telegram.limits import TELEGRAM_LIMITS
from scheduling.scheduler import Scheduler
from bot.app.bootstrap import build_scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver
from tests.telegram_standin import BOT_USERNAME, TelegramStandIn, User, parse_html

BOB = User(111, "Bob", "bob_sales")
STRANGER = User(999, "Mallory", "mallory")
GROUP = -100500


@pytest.fixture
async def standin() -> AsyncIterator[TelegramStandIn]:
    server = TelegramStandIn()
    await server.start()
    yield server
    await server.stop()


def telegram_settings(settings: Settings, standin: TelegramStandIn, **extra: object) -> Settings:
    return settings.model_copy(update={
        "telegram_bot_token": standin.token, "telegram_api_base_url": standin.base_url,
        "telegram_file_base_url": standin.file_base_url, "telegram_poll_timeout": 1, **extra,
    })


@pytest.fixture
async def telegram(core: Core, settings: Settings, standin: TelegramStandIn) -> AsyncIterator[TelegramPlatform]:
    platform = build_platform(core, telegram_settings(settings, standin))
    await platform.start()
    yield platform
    await platform.stop()


@pytest.fixture
def tg_scheduler(core: Core, telegram: TelegramPlatform) -> Scheduler:
    scheduler = build_scheduler(core.services)
    scheduler.attach(telegram.notifier, TELEGRAM_LIMITS)
    return scheduler


async def last_text(standin: TelegramStandIn, chat_id: int, contains: str) -> dict:
    return await standin.wait_for(lambda: next((m for m in reversed(standin.sent_to(chat_id)) if contains in m.get("text", "")), None))


async def link_bob(team: ChatDriver, standin: TelegramStandIn) -> None:
    team.say("alice", "/team invite @bob")
    code = dict(team.last.blocks[0].items)["Code"]  # type: ignore[union-attr,arg-type]
    await standin.say(BOB, f"/start {code}")
    await last_text(standin, BOB.id, "your account is linked")


async def test_bob_links_his_account_with_an_invite_and_adds_an_invoice(team: ChatDriver, standin: TelegramStandIn,
                                                                        telegram: TelegramPlatform) -> None:
    team.say("alice", "/team invite @bob")
    facts = dict(team.last.blocks[0].items)  # type: ignore[union-attr,arg-type]
    assert facts["Telegram link"] == f"https://t.me/{BOT_USERNAME}?start={facts['Code']}"
    await standin.say(BOB, f"/start {facts['Code']}")
    welcome = await last_text(standin, BOB.id, "Welcome, @bob")
    assert welcome["entities"][0]["type"] == "bold"
    await standin.say(BOB, "/add INV-1042 1200.50 EUR 2026-12-10 Acme Trading Ltd")
    added = await last_text(standin, BOB.id, "Added invoice INV-1042")
    assert "Customer: Acme Trading Ltd" in added["text"] and "€1,200.50" in added["text"]
    menus = standin.calls_of("setMyCommands")
    assert {call.params.get("language_code") for call in menus} == {None, "en", "ru", "nb", "bg"}
    assert any(command["command"] == "add" for command in menus[0].params["commands"])


async def test_a_stranger_is_told_how_to_join(standin: TelegramStandIn, team: ChatDriver, telegram: TelegramPlatform) -> None:
    await standin.say(STRANGER, "/list")
    refusal = await last_text(standin, STRANGER.id, "not on team")
    assert "/team add" in refusal["text"]
    await standin.say(STRANGER, "hello there")
    await last_text(standin, STRANGER.id, "I understand commands that start with /")
    await standin.say(STRANGER, "/start")
    hello = await last_text(standin, STRANGER.id, "Hello, I'm collectbot")
    assert "/team invite @yourname" in hello["text"] and "/start <code>" in hello["text"], "linking takes an invite"


async def test_ping_arrives_in_html_with_buttons_and_done_edits_it(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform, tg_scheduler: Scheduler,
    clock: MovableClock, engine: Engine,
) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, '/add INV-7 500 EUR 2026-12-10 "<b>Evil</b> & Co"')
    await last_text(standin, BOB.id, "Added invoice INV-7")
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    assert await tg_scheduler.fire_due() == 1
    await tg_scheduler.flush()
    ping = await last_text(standin, BOB.id, "Step 1 for INV-7")
    assert "<b>Evil</b> & Co" in ping["text"], "user text shown literally, not as markup"
    bold = [ping["text"][e["offset"]:e["offset"] + e["length"]] for e in ping.get("entities", []) if e["type"] == "bold"]
    assert "Evil" not in bold
    labels = [b["text"] for row in ping["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:5] == ["✅ Done", "💶 Paid", "📅 Promised", "⚖ Dispute", "⏰ Snooze 2h"]
    await standin.press(BOB, ping, "Done")
    await last_text(standin, BOB.id, "Marked done on INV-7")
    edited = standin.messages[(BOB.id, ping["message_id"])]
    assert "✔ Marked done on INV-7" in edited["text"] and "by Bob" in edited["text"]
    assert "reply_markup" not in edited, "the answered ping loses its buttons"
    assert standin.calls_of("answerCallbackQuery")
    with Session(engine) as session:
        first = session.exec(select(LadderStep).where(LadderStep.position == 1)).one()
        assert first.state == StepState.ACKNOWLEDGED


async def test_promised_asks_for_the_date_with_a_forced_reply(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform, tg_scheduler: Scheduler, clock: MovableClock,
) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, "/add INV-8 900 EUR 2026-12-10 Acme")
    await last_text(standin, BOB.id, "Added invoice INV-8")
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    await tg_scheduler.fire_due()
    await tg_scheduler.flush()
    ping = await last_text(standin, BOB.id, "Step 1 for INV-8")
    await standin.press(BOB, ping, "Promised")
    prompt = await last_text(standin, BOB.id, "Which date did they promise")
    assert standin.last_markup == {"force_reply": True, "selective": True}
    assert "+30d" in prompt["text"], "the question shows the date forms"
    await standin.say(BOB, "next friday", reply_to=prompt["message_id"])
    again = await last_text(standin, BOB.id, "'next friday' is not a date I can read")
    assert "Which date did they promise" in again["text"], "asked again instead of failing"
    await standin.say(BOB, "2026-12-15", reply_to=again["message_id"])
    await last_text(standin, BOB.id, "Promise recorded on INV-8")
    assert "Promise recorded" in standin.messages[(BOB.id, ping["message_id"])]["text"]


async def test_a_date_answer_is_read_on_the_persons_own_day_not_the_servers(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform, tg_scheduler: Scheduler, clock: MovableClock,
    engine: Engine,
) -> None:
    """In Auckland it is already New Year's Day 2027 while the server's UTC date is still 2026: a
    promise ten years from Bob's today is his to make, as it would be typed as a command."""
    await link_bob(team, standin)
    assert "Updated @bob" in team.say("bob", "/team set tz=Pacific/Auckland")
    await standin.say(BOB, "/add INV-8 900 EUR 2026-12-28 Acme")
    await last_text(standin, BOB.id, "Added invoice INV-8")
    with Session(engine) as session:
        first = session.exec(select(LadderStep).where(LadderStep.position == 1)).one()
    clock.set(first.due_at)
    await tg_scheduler.fire_due()
    await tg_scheduler.flush()
    ping = await last_text(standin, BOB.id, "Step 1 for INV-8")
    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc))  # 12:30 on 1 January 2027 in Auckland
    await standin.press(BOB, ping, "Promised")
    prompt = await last_text(standin, BOB.id, "Which date did they promise")
    await standin.say(BOB, "2037-01-04", reply_to=prompt["message_id"])
    answer = await standin.wait_for(lambda: next((m["text"] for m in standin.sent_to(BOB.id)[::-1]
                                                  if "Promise recorded" in m["text"] or "years away" in m["text"]), None))
    assert "Promise recorded on INV-8: pay by Jan 4, 2037" in answer, answer


async def test_guided_add_asks_step_by_step_and_can_be_cancelled(team: ChatDriver, standin: TelegramStandIn,
                                                                 telegram: TelegramPlatform) -> None:
    await link_bob(team, standin)
    for answer, question in (("/add", "What is its number"), ("INV-9", "The amount"), ("12,00,0", "Try again"),
                             ("1200.50 EUR", "The due date"), ("2026-02-30", "Try again"), ("2026-12-20", "customer's name")):
        await standin.say(BOB, answer)
        await last_text(standin, BOB.id, question)
    await standin.say(BOB, "Fjord & Sons AS")
    confirm = await last_text(standin, BOB.id, "Add invoice INV-9")
    await standin.press(BOB, confirm, "Add it")
    added = await last_text(standin, BOB.id, "Added invoice INV-9")
    assert "Fjord & Sons AS" in added["text"]
    await standin.say(BOB, "/add")
    await last_text(standin, BOB.id, "What is its number")
    await standin.say(BOB, "/cancel")
    await last_text(standin, BOB.id, "Cancelled; nothing was added")


async def test_in_a_group_only_members_get_answers_and_private_facts_stay_private(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    await standin.say(STRANGER, "/list", chat_id=GROUP)
    await standin.say(BOB, "/list@OtherBot", chat_id=GROUP)
    asked = await standin.say(BOB, f"/today@{BOT_USERNAME}", chat_id=GROUP)
    moved = await last_text(standin, GROUP, "private chat")
    assert len(standin.sent_to(GROUP)) == 1, "the stranger and the command for another bot got no answer"
    assert moved["reply_to_message"]["message_id"] == asked["message"]["message_id"], "the answer quotes the question"
    assert f"https://t.me/{BOT_USERNAME}" in moved["text"]
    await standin.say(BOB, f"/help@{BOT_USERNAME}", chat_id=GROUP)
    await last_text(standin, GROUP, "What I can do")


async def test_a_429_is_waited_out_and_the_message_still_arrives(team: ChatDriver, standin: TelegramStandIn,
                                                                 telegram: TelegramPlatform) -> None:
    await link_bob(team, standin)
    standin.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1", 1))
    await standin.say(BOB, "/help")
    await standin.wait_for(lambda: any("What I can do" in m.get("text", "") for m in standin.sent_to(BOB.id)), timeout=8)


def test_long_replies_are_split_under_4096_characters_never_inside_a_tag() -> None:
    reply = Reply(title="Many facts", blocks=[Facts(tuple((f"Invoice <{n}>", "x & y " * 30) for n in range(200)))])
    messages = render_messages(reply)
    assert len(messages) > 1
    for message in messages:
        assert len(message) <= 4096
        text, _ = parse_html(message)
        assert text


def test_huge_values_are_wrapped_between_characters_and_nothing_is_lost() -> None:
    reason = "Tom & Jerry <said> " * 600
    reply = Reply(title="A very long story " * 300, blocks=[
        Facts((("Reason", reason), ("Amount", "€10.00"))),
        Paragraph("&" * 9000),
        BulletList(tuple("<item> " * 700 for _ in range(2)), title="Notes"),
        DraftText("Letter", "Dear customer & friends,\n" + "x" * 5000, subject="Re: <invoice> & co"),
    ])
    messages = render_messages(reply)
    plain = ""
    for message in messages:
        assert len(message) <= 4096
        text, _ = parse_html(message)  # raises on a broken tag
        plain += text
    assert plain.count("&") == 600 + 9000 + 1 + 1, "every character arrives, none cut inside an entity"
    assert plain.count("<said>") == 600 and plain.count("<item>") == 1400 and plain.count("x") >= 5000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_mode_accepts_only_updates_with_the_secret_token(
    team: ChatDriver, core: Core, settings: Settings, standin: TelegramStandIn
) -> None:
    port = free_port()
    platform = build_platform(core, telegram_settings(
        settings, standin, telegram_webhook_url=f"http://127.0.0.1:{port}/telegram", telegram_webhook_secret="s3cret",
        telegram_webhook_port=port))
    await platform.start()
    try:
        assert standin.webhook_url == f"http://127.0.0.1:{port}/telegram"
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": STRANGER.id, "type": "private"},
                                              "from": STRANGER.as_json(), "text": "/start",
                                              "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        async with aiohttp.ClientSession() as http:
            forged = await http.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert forged.status == 403
            genuine = await http.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
            assert genuine.status == 200
        await last_text(standin, STRANGER.id, "Hello, I'm collectbot")
    finally:
        await platform.stop()
        await asyncio.sleep(0)


async def test_a_ping_whose_send_fails_is_kept_and_delivered_on_retry(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform, tg_scheduler: Scheduler, clock: MovableClock,
) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, "/add INV-11 300 EUR 2026-12-10 Acme")
    await last_text(standin, BOB.id, "Added invoice INV-11")
    standin.fail_next.append(("sendMessage", 502, "Bad Gateway", None))
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    assert await tg_scheduler.fire_due() == 1
    await tg_scheduler.flush()
    assert not any("Step 1 for INV-11" in m["text"] for m in standin.sent_to(BOB.id))
    await asyncio.sleep(1.1)  # the send queue's first retry pause
    await tg_scheduler.flush()
    await last_text(standin, BOB.id, "Step 1 for INV-11")
    assert len([m for m in standin.sent_to(BOB.id) if "Step 1 for INV-11" in m["text"]]) == 1


async def test_files_go_out_as_photos_and_documents(standin: TelegramStandIn, telegram: TelegramPlatform) -> None:
    reply = Reply(title="Aging chart", files=[Attachment("aging.png", b"\x89PNG...", "image/png", kind="photo"),
                                              Attachment("casefile.html", b"<html></html>", "text/html")])
    await telegram.send_reply(BOB.id, reply)
    assert [call.method for call in standin.calls if call.method in ("sendPhoto", "sendDocument")] == ["sendPhoto", "sendDocument"]
    assert standin.calls_of("sendDocument")[0].params["document"] == ("casefile.html", b"<html></html>")


async def test_a_csv_sent_with_import_as_caption_is_checked_then_imported(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    csv = b"number,customer,amount,due date\nT-1,Acme,100,2026-12-10\nT-2,Beta,oops,2026-12-10\n"
    await standin.send_document(BOB, "invoices.csv", csv, caption="/import")
    checked = await last_text(standin, BOB.id, "Checked invoices.csv")
    assert "line 3:" in checked["text"]
    await standin.press(BOB, checked, "Import 1 invoice")
    await last_text(standin, BOB.id, "Imported 1 invoice from invoices.csv")


async def test_pressing_paid_on_a_ping_cancels_the_pending_steps_and_edits_the_ping(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform, tg_scheduler: Scheduler,
    clock: MovableClock, engine: Engine,
) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, "/add INV-12 750 EUR 2026-12-10 Acme")
    await last_text(standin, BOB.id, "Added invoice INV-12")
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    await tg_scheduler.fire_due()
    await tg_scheduler.flush()
    ping = await last_text(standin, BOB.id, "Step 1 for INV-12")
    await standin.press(BOB, ping, "Paid")
    # Issue 12, finding 9: the button confirms a full payment before recording it.
    prompt = await last_text(standin, BOB.id, "How much did the customer pay on INV-12")
    await standin.say(BOB, "all", reply_to=prompt["message_id"])
    await last_text(standin, BOB.id, "Invoice INV-12 is paid in full")
    assert "✔ Invoice INV-12 is paid in full — by Bob" in standin.messages[(BOB.id, ping["message_id"])]["text"]
    with Session(engine) as session:
        states = {step.state for step in session.exec(select(LadderStep)) if step.position > 1}
    assert states == {StepState.CANCELLED}


async def test_a_burst_of_pings_through_a_429_storm_loses_none(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform, tg_scheduler: Scheduler, clock: MovableClock,
) -> None:
    await link_bob(team, standin)
    for n in range(12):
        await standin.say(BOB, f"/add BURST-{n} 100 EUR 2026-12-10 Customer {n}")
    await last_text(standin, BOB.id, "Added invoice BURST-11")
    for _ in range(3):
        standin.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1", 1))
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    assert await tg_scheduler.fire_due() == 12
    await tg_scheduler.flush()
    for _ in range(10):
        delivered = " ".join(m["text"] for m in standin.sent_to(BOB.id))
        if all(f"BURST-{n} " in delivered for n in range(12)):
            break
        await asyncio.sleep(1.1)
        await tg_scheduler.flush()
    pings = [m["text"] for m in standin.sent_to(BOB.id) if "— step 1: Friendly reminder call" in m["text"]]
    assert all(any(f"BURST-{n} · Customer {n}" in text for text in pings) for n in range(12)), "every ping arrived"
    assert sum(text.count("— step 1: Friendly reminder call") for text in pings) == 12, "and none twice"


async def test_the_command_menu_speaks_english_russian_and_norwegian(standin: TelegramStandIn, telegram: TelegramPlatform,
                                                                     core: Core) -> None:
    menus = {call.params.get("language_code"): {c["command"]: c["description"] for c in call.params["commands"]}
             for call in standin.calls_of("setMyCommands")}
    assert set(menus) == {None, "en", "ru", "nb", "bg"}
    assert all(set(menu) == set(core.catalogue) for menu in menus.values()), "every command, in every menu"
    assert menus[None]["add"] == menus["en"]["add"] == core.catalogue["add"].summary
    assert menus["ru"]["add"] == "Добавить счёт для взыскания"
    assert menus["nb"]["add"] == "Legg til en faktura som skal følges opp"


async def test_cancel_drops_a_question_a_button_asked(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform, tg_scheduler: Scheduler,
    clock: MovableClock, engine: Engine,
) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, "/add INV-13 900 EUR 2026-12-10 Acme")
    await last_text(standin, BOB.id, "Added invoice INV-13")
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    await tg_scheduler.fire_due()
    await tg_scheduler.flush()
    ping = await last_text(standin, BOB.id, "Step 1 for INV-13")
    await standin.press(BOB, ping, "Promised")
    prompt = await last_text(standin, BOB.id, "Which date did they promise")
    await standin.say(BOB, "/cancel")
    await last_text(standin, BOB.id, "Cancelled; nothing was recorded")
    await standin.say(BOB, "2026-12-15", reply_to=prompt["message_id"])
    await last_text(standin, BOB.id, "That question is no longer open")
    await standin.say(BOB, "/cancel")
    await last_text(standin, BOB.id, "There is nothing to cancel")
    assert not any("Promise recorded" in m["text"] for m in standin.sent_to(BOB.id)), "the late answer was not taken"
    assert "reply_markup" in standin.messages[(BOB.id, ping["message_id"])], "the ping keeps its buttons"


async def test_a_document_for_another_bot_is_left_alone(team: ChatDriver, standin: TelegramStandIn,
                                                        telegram: TelegramPlatform) -> None:
    await link_bob(team, standin)
    await standin.send_document(BOB, "invoices.csv", b"number,customer,amount,due date\nT-1,Acme,100,2026-12-10\n",
                                caption="/import@OtherBot")
    await standin.say(BOB, "/help")
    await last_text(standin, BOB.id, "What I can do")
    assert not any("invoices.csv" in m.get("text", "") for m in standin.sent_to(BOB.id))


async def test_an_answered_message_too_long_for_a_note_loses_its_buttons_and_gets_the_note_underneath(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    long_reply = Reply(title="Reminder", buttons=[Button("Help", "help")]).say("x" * 4075)
    [sent] = await telegram.send_reply(BOB.id, long_reply)
    await standin.press(BOB, standin.messages[(BOB.id, sent.message_id)], "Help")
    await last_text(standin, BOB.id, "✔ What I can do — by Bob")
    answered = standin.messages[(BOB.id, sent.message_id)]
    assert "reply_markup" not in answered and answered["text"].endswith("x" * 10)


async def test_webhook_without_a_configured_secret_still_requires_one(
    team: ChatDriver, core: Core, settings: Settings, standin: TelegramStandIn
) -> None:
    port = free_port()
    platform = build_platform(core, telegram_settings(
        settings, standin, telegram_webhook_url=f"http://127.0.0.1:{port}/hooks/tg", telegram_webhook_port=port))
    await platform.start()
    try:
        secret = standin.webhook_secret
        assert secret and len(secret) >= 32, "a fresh secret was handed to Telegram"
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": STRANGER.id, "type": "private"},
                                              "from": STRANGER.as_json(), "text": "/start",
                                              "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        async with aiohttp.ClientSession() as http:
            unsigned = await http.post(f"http://127.0.0.1:{port}/hooks/tg", json=update)
            assert unsigned.status == 403
            signed = await http.post(f"http://127.0.0.1:{port}/hooks/tg", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            assert signed.status == 200
        await last_text(standin, STRANGER.id, "Hello, I'm collectbot")
    finally:
        await platform.stop()


async def test_guided_add_in_a_group_works_with_privacy_mode_through_forced_replies(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, f"/add@{BOT_USERNAME}", chat_id=GROUP)
    prompt = await last_text(standin, GROUP, "What is its number")
    assert standin.last_markup == {"force_reply": True, "selective": True}
    assert await standin.say(BOB, "INV-20", chat_id=GROUP) is None, "a plain group message never reaches the bot"
    for answer, question in (("INV-20", "The amount"), ("300 EUR", "The due date"), ("2026-12-20", "customer's name")):
        await standin.say(BOB, answer, chat_id=GROUP, reply_to=prompt["message_id"])
        prompt = await last_text(standin, GROUP, question)
        assert prompt["reply_to_message"]["from"]["id"] == BOB.id, "each question quotes Bob's answer"
    await standin.say(BOB, "Nordlys AS", chat_id=GROUP, reply_to=prompt["message_id"])
    confirm = await last_text(standin, GROUP, "Add invoice INV-20: 300 EUR, due 2026-12-20, customer Nordlys AS?")
    await standin.press(BOB, confirm, "Add it")
    await last_text(standin, GROUP, "Added invoice INV-20")


async def test_a_question_button_still_works_after_the_bot_restarts(
    team: ChatDriver, core: Core, settings: Settings, standin: TelegramStandIn, telegram: TelegramPlatform,
    tg_scheduler: Scheduler, clock: MovableClock,
) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, "/add INV-21 400 EUR 2026-12-10 Acme")
    await last_text(standin, BOB.id, "Added invoice INV-21")
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    await tg_scheduler.fire_due()
    await tg_scheduler.flush()
    ping = await last_text(standin, BOB.id, "Step 1 for INV-21")
    assert all(len(b["callback_data"].encode()) <= 64 for row in ping["reply_markup"]["inline_keyboard"] for b in row)
    as_first_sent = copy.deepcopy(ping)  # its buttons, as a chat that has not refreshed still shows them
    await standin.press(BOB, ping, "Promised")
    question = await last_text(standin, BOB.id, "Which date did they promise")
    await telegram.stop()
    restarted = build_platform(core, telegram_settings(settings, standin))
    await restarted.start()
    try:
        await standin.say(BOB, "2026-12-20", reply_to=question["message_id"])
        await last_text(standin, BOB.id, "Promise recorded on INV-21")  # the open question is kept in the database
        await standin.press(BOB, as_first_sent, "Dispute")
        prompt = await last_text(standin, BOB.id, "Why does the customer dispute INV-21")
        await standin.say(BOB, "Goods arrived damaged", reply_to=prompt["message_id"])
        await last_text(standin, BOB.id, "Dispute recorded on INV-21")
        answered = standin.messages[(BOB.id, ping["message_id"])]
        assert "✔ Dispute recorded on INV-21; its ladder is paused — by Bob" in answered["text"]
        assert "reply_markup" not in answered
    finally:
        await restarted.stop()


async def test_a_button_that_fails_pops_up_the_problem_and_leaves_the_message_as_it_was(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    [sent] = await telegram.send_reply(BOB.id, Reply(title="Step 1 for NOPE-1", buttons=[Button("💶 Paid", "paid NOPE-1")]))
    await standin.press(BOB, standin.messages[(BOB.id, sent.message_id)], "Paid")
    await standin.wait_for(lambda: standin.calls_of("answerCallbackQuery"))
    popup = standin.calls_of("answerCallbackQuery")[-1].params
    assert popup.get("show_alert") in (True, "true") and "NOPE-1" in popup["text"]
    untouched = standin.messages[(BOB.id, sent.message_id)]
    assert "✔" not in untouched["text"] and "reply_markup" in untouched, "nothing was done, so nothing is claimed"


async def test_editing_an_old_command_does_not_run_it_again(team: ChatDriver, standin: TelegramStandIn,
                                                            telegram: TelegramPlatform) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, "/add INV-30 500 EUR 2026-12-10 Acme")
    await last_text(standin, BOB.id, "Added invoice INV-30")
    paid = await standin.say(BOB, "/paid INV-30 100")
    await last_text(standin, BOB.id, "Partial payment recorded on INV-30")
    assert paid is not None
    await standin.edit(BOB, paid, "/paid INV-30 150")
    await last_text(standin, BOB.id, "I don't run edited commands again")
    assert len([m for m in standin.sent_to(BOB.id) if "Partial payment recorded" in m["text"]]) == 1
    await standin.say(BOB, "/show INV-30")
    shown = await last_text(standin, BOB.id, "Invoice INV-30\n")
    assert "€400.00" in shown["text"], "one payment of 100 recorded, not 250"


async def test_a_long_ping_that_fails_halfway_is_finished_on_retry_without_repeating_parts(
    standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    ping = Reply(title="Step 1 for LONG-1", private=True, step_ids=(1,), buttons=[Button("💶 Paid", "paid LONG-1")])
    ping.say("first " * 500).say("second " * 500)
    assert len(render_messages(ping)) == 2
    standin.fail_after.append(["sendMessage", 1, 502, "Bad Gateway"])
    with pytest.raises(TelegramError):
        await telegram.notifier.send(str(BOB.id), ping)
    assert len(standin.sent_to(BOB.id)) == 1
    await telegram.notifier.send(str(BOB.id), ping)  # the send queue's retry
    first, second = standin.sent_to(BOB.id)
    assert first["text"].startswith("Step 1 for LONG-1") and second["text"].startswith("second")
    assert "reply_markup" in second, "the buttons come with the last part"
    await telegram.notifier.send(str(BOB.id), ping)  # sent again on purpose: all of it
    assert len(standin.sent_to(BOB.id)) == 4


async def test_a_long_button_action_fits_telegrams_64_bytes_and_survives_a_restart(core: Core) -> None:
    services = core.services
    long_action = "draft INV-" + "9" * 60 + " firm"
    short, long = await ButtonBook(services.engine, services.clock).data_for(
        [Button("Paid", "paid INV-1"), Button("Firmer", long_action)])
    assert short == "b:paid INV-1" and long.startswith("k:") and len(long.encode()) <= 64
    after_restart = ButtonBook(services.engine, services.clock)
    pressed = await after_restart.button_for(long)
    assert pressed is not None and pressed.action == long_action
    assert await after_restart.button_for("k:unknown") is None


async def test_a_button_two_instances_store_at_once_is_kept_once_and_works_on_both(core: Core) -> None:
    """Two instances answer with the same question button (Promised → which date?) before either
    has seen the other's: both store it, neither fails, and a press on either finds it."""
    services = core.services
    promised = Button("Promised", "promise INV-1", asks="Which date did they promise?", input="date")
    first, second = ButtonBook(services.engine, services.clock), ButtonBook(services.engine, services.clock)
    [data] = await first.data_for([promised])
    assert await second.data_for([promised]) == [data]
    for book in (first, second, ButtonBook(services.engine, services.clock)):
        pressed = await book.button_for(data)
        assert pressed is not None and (pressed.action, pressed.asks, pressed.input) == (promised.action, promised.asks, "date")
    with services.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM chatbutton").scalar() == 1


@pytest.mark.parametrize(("code", "hello", "help_title"), [
    ("ru", "Здравствуйте, я collectbot", "Что я умею"),
    ("nb", "Hei, jeg er collectbot", "Dette kan jeg"),
    ("bg", "Здравейте, аз съм collectbot", "Какво мога"),
])
async def test_a_newcomer_from_a_telegram_app_in_their_language_is_answered_in_it_from_the_first_reply(
        standin: TelegramStandIn, team: ChatDriver, telegram: TelegramPlatform, code: str, hello: str, help_title: str) -> None:
    stranger = User(4242, "Newcomer", "newcomer", language_code=code)
    await standin.say(stranger, "/start")
    first = await last_text(standin, stranger.id, hello)
    assert "/team add @yourname salesperson" in first["text"], "commands stay the same words"
    bob = User(BOB.id, BOB.first_name, BOB.username, language_code=code)
    team.say("alice", "/team invite @bob")
    invite = dict(team.last.blocks[0].items)  # type: ignore[union-attr,arg-type]
    await standin.say(bob, f"/start {next(iter(invite.values()))}")
    await last_text(standin, BOB.id, "@bob")
    assert team.say("alice", "/team").count(code) >= 1, "the person keeps their app's language"
    await standin.say(bob, "/help")
    await last_text(standin, BOB.id, help_title)


async def test_a_person_who_chose_english_keeps_it_whatever_their_phone_says(
        standin: TelegramStandIn, team: ChatDriver, telegram: TelegramPlatform) -> None:
    await link_bob(team, standin)
    russian_phone = User(BOB.id, BOB.first_name, BOB.username, language_code="ru")
    await standin.say(russian_phone, "/help")
    await last_text(standin, BOB.id, "What I can do")


@pytest.mark.parametrize("language", ["ru", "nb", "bg"])
async def test_changing_your_own_language_answers_and_turns_your_command_menu_to_it(
        standin: TelegramStandIn, team: ChatDriver, telegram: TelegramPlatform, core: Core, language: str) -> None:
    await link_bob(team, standin)

    def chat_menus() -> list[dict[str, str]]:
        return [{c["command"]: c["description"] for c in call.params["commands"]} for call in standin.calls_of("setMyCommands")
                if call.params.get("scope") == {"type": "chat", "chat_id": BOB.id}]

    assert chat_menus() == [], "an English phone shows the English menu already"
    await standin.say(BOB, f"/team set lang={language}")
    await last_text(standin, BOB.id, translated(language, "Updated @{handle}", handle="bob"))
    assert chat_menus() == [{verb: translated(language, spec.summary) for verb, spec in core.catalogue.items()}]
    await standin.say(BOB, "/help")
    await last_text(standin, BOB.id, translated(language, "What I can do"))
    assert len(chat_menus()) == 1, "set once"
    await standin.say(BOB, "/team set lang=en")
    await last_text(standin, BOB.id, "Updated @bob")
    assert chat_menus()[-1]["add"] == core.catalogue["add"].summary
