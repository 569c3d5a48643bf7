"""Access on Telegram: in a group, answers with customers, balances and reasons go to their reader
privately; a button acts with the presser's rights, and a colleague cannot press someone else's."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.store.models import Invoice
from bot.platforms.telegram import TelegramPlatform
from bot.floor.reply import Button, Reply
from tests.support import ChatDriver
from tests.telegram_standin import BOT_USERNAME, TelegramStandIn, User
from tests.test_telegram import BOB, GROUP, last_text, link_bob, standin, telegram  # noqa: F401  (fixtures)

CAROL = User(222, "Carol", "carol_c")


async def link_carol(team: ChatDriver, standin: TelegramStandIn) -> None:
    team.say("alice", "/team invite @carol")
    code = dict(team.last.blocks[0].items)["Code"]  # type: ignore[union-attr,arg-type]
    await standin.say(CAROL, f"/start {code}")
    await last_text(standin, CAROL.id, "your account is linked")


def group_texts(standin: TelegramStandIn) -> str:
    return "\n".join(message.get("text", "") for message in standin.sent_to(GROUP))


async def test_in_a_group_customers_balances_and_reasons_go_to_the_member_privately(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    await standin.say(BOB, f"/add@{BOT_USERNAME} INV-30 1200.50 EUR 2026-12-10 Secret Customer AS", chat_id=GROUP)
    note = await last_text(standin, GROUP, "Added invoice INV-30")
    assert "private chat" in note["text"]
    added = await last_text(standin, BOB.id, "Added invoice INV-30")
    assert "Secret Customer AS" in added["text"] and "€1,200.50" in added["text"]
    await standin.say(BOB, f"/dispute@{BOT_USERNAME} INV-30 the CFO's brother-in-law did the work", chat_id=GROUP)
    await last_text(standin, BOB.id, "Dispute recorded on INV-30")
    await standin.say(BOB, f"/paid@{BOT_USERNAME} INV-30 100", chat_id=GROUP)
    await standin.say(BOB, f"/team@{BOT_USERNAME}", chat_id=GROUP)
    await last_text(standin, BOB.id, "Team Our company")
    await last_text(standin, GROUP, "Team Our company")
    shown = group_texts(standin)
    for secret in ("Secret Customer", "€", "brother-in-law", "Europe/Oslo", "@carol"):
        assert secret not in shown, shown


async def test_a_refusal_in_a_group_goes_to_the_member_privately_too(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    team.say("dave", "/add D-1 500 EUR 2026-12-10 Hidden Buyer")
    await standin.say(BOB, f"/paid@{BOT_USERNAME} D-1", chat_id=GROUP)
    refused = await last_text(standin, BOB.id, "There is no invoice D-1 for you")
    assert "Hidden Buyer" not in refused["text"]
    await standin.say(BOB, f"/change@{BOT_USERNAME} D-1 owner=@bob", chat_id=GROUP)
    await last_text(standin, BOB.id, "Salespeople can't reassign invoices")
    with Session(team.core.services.engine) as session:
        stored = session.exec(select(Invoice).where(Invoice.number == "D-1")).one()
        assert stored.balance == 500 and stored.status.value == "open"


async def test_a_colleague_cannot_press_the_buttons_of_someone_elses_answer_in_a_group(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    await link_carol(team, standin)
    await standin.say(BOB, f"/add@{BOT_USERNAME}", chat_id=GROUP)
    prompt = await last_text(standin, GROUP, "What is its number")
    for answer, question in (("INV-40", "The amount"), ("300 EUR", "The due date"), ("2026-12-20", "customer's name")):
        await standin.say(BOB, answer, chat_id=GROUP, reply_to=prompt["message_id"])
        prompt = await last_text(standin, GROUP, question)
    await standin.say(BOB, "Nordlys AS", chat_id=GROUP, reply_to=prompt["message_id"])
    confirm = await last_text(standin, GROUP, "Add invoice INV-40")
    await standin.press(CAROL, confirm, "Add it")
    await standin.wait_for(lambda: standin.calls_of("answerCallbackQuery"))
    popup = standin.calls_of("answerCallbackQuery")[-1].params
    assert "These buttons are Bob's" in popup["text"] and popup.get("show_alert") in (True, "true")
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Invoice).where(Invoice.number == "INV-40")).first() is None
    await standin.press(BOB, confirm, "Add it")
    await last_text(standin, GROUP, "Added invoice INV-40")
    # Any answer in the group with buttons is its asker's: a colleague, even an admin, is told so.
    asked = await standin.say(BOB, f"/help@{BOT_USERNAME}", chat_id=GROUP)
    [sent] = await telegram.send_reply(GROUP, Reply(title="Answer for Bob", buttons=[Button("💶 Paid", "paid INV-40")]),
                                       reply_to=asked["message"]["message_id"])
    answered = standin.messages[(GROUP, sent.message_id)]
    await standin.press(CAROL, answered, "Paid")
    await standin.wait_for(lambda: "Bob's" in standin.calls_of("answerCallbackQuery")[-1].params.get("text", ""))
    popup = standin.calls_of("answerCallbackQuery")[-1].params
    assert "These buttons are Bob's" in popup["text"] and popup.get("show_alert") in (True, "true")
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Invoice).where(Invoice.number == "INV-40")).one().status.value == "open"


async def test_a_button_acts_with_the_rights_of_whoever_presses_it(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform
) -> None:
    await link_bob(team, standin)
    await link_carol(team, standin)
    team.say("bob", "/add INV-50 800 EUR 2026-12-10 Acme")
    [sent] = await telegram.send_reply(BOB.id, Reply(title="Step 1 for INV-50", buttons=[Button("💶 Paid", "paid INV-50")]))
    forged = {**standin.messages[(BOB.id, sent.message_id)], "chat": {"id": CAROL.id, "type": "private"}}
    await standin.press(CAROL, forged, "Paid")
    await standin.wait_for(lambda: standin.calls_of("answerCallbackQuery"))
    popup = standin.calls_of("answerCallbackQuery")[-1].params
    assert "There is no invoice INV-50 for you" in popup["text"]
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Invoice).where(Invoice.number == "INV-50")).one().status.value == "open"
