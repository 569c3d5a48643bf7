"""Pings through the real python-telegram-bot client against the Bot API stand-in, under faults:
refusals for good (a blocked bot, a message Telegram will not take), 500s, 429s, timeouts, a
server that is gone for a while, and an instance that dies between the parts of a long ping."""
from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.floor.clock import MovableClock
from bot.store.models import Event, LadderStep, Person, PingMessage, StepKind
from bot.platforms.telegram import TelegramPlatform
from bot.platforms.telegram.render import CALLBACK_ANSWER_LIMIT, fit, render_messages, utf16_len
from handlers.core import Core
from bot.floor.reply import DraftText, Facts, Paragraph, Reply
from handlers.pings import compose_ping
from scheduling.ladder_keeper import LadderKeeper
from bot.i18n import translated
from scheduling.notifier import REPEAT_NOTE, RateLimits
from scheduling.scheduler import Scheduler
from scheduling.supervision import Backoff
from tests.support import claimed_by_a_stopped_instance, ChatDriver, add_steps, fire_at, invoice_with_steps, states
from tests.telegram_standin import TelegramStandIn, parse_html
from tests.test_delivery_faults import FAST_RETRIES, until
from tests.test_firing import NOON
from tests.test_telegram import BOB, link_bob, standin, telegram  # noqa: F401 - fixtures

UNLIMITED = RateLimits(per_second=1000.0, per_chat_interval=0.0)
REPEAT = "🔁 Repeat"


@pytest.fixture(autouse=True)
def hand_placed_steps_only(core: Core) -> None:
    core.services.invoice_hooks[:] = [hook for hook in core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]


def counting_drafts() -> Any:
    """A draft whose wording changes at every rendering: a ping rendered twice would show it."""
    counter = itertools.count(1)
    return lambda *_: DraftText(label="Draft", text=f"Draft #{next(counter)}")


def telegram_scheduler(core: Core, telegram: TelegramPlatform, clock: MovableClock, instance: str = "one",  # noqa: F811
                       **options: Any) -> Scheduler:
    scheduler = Scheduler(core.services.engine, clock, compose=compose_ping, instance=instance, draft_for=counting_drafts(),
                          backoff=Backoff(0.05, 0.4), retry_pauses=FAST_RETRIES, **options)
    scheduler.attach(telegram.notifier, UNLIMITED)
    return scheduler


def texts_to_bob(standin: TelegramStandIn) -> list[str]:  # noqa: F811
    return [m["text"] for m in standin.sent_to(BOB.id) if "text" in m]


def ping_attempts(standin: TelegramStandIn, number: str) -> list[Any]:  # noqa: F811
    return [c for c in standin.calls_of("sendMessage") if c.params["chat_id"] == BOB.id and number in c.params["text"]]


def long_steps(engine: Engine, number: str, *due: datetime) -> list[int]:
    """Steps whose instructions make a ping of two Telegram messages."""
    ids = add_steps(engine, number, "bob", *due)
    with Session(engine) as session:
        for step in session.exec(select(LadderStep).where(col(LadderStep.id).in_(ids))):
            step.instruction = f"Call about {number}. " + "Mention the order, the delivery and the reminder. " * 60
            session.add(step)
        session.commit()
    return ids


def events(engine: Engine, kind: str) -> list[Event]:
    with Session(engine) as session:
        return list(session.exec(select(Event).where(Event.kind == kind)))


async def test_a_user_who_blocked_the_bot_is_not_retried_and_their_manager_is_told(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    [step] = invoice_with_steps(team, "BLK-1", NOON)
    standin.blocked_by.add(BOB.id)
    scheduler = telegram_scheduler(core, telegram, clock)
    await fire_at(scheduler, clock, NOON)
    assert len(ping_attempts(standin, "BLK-1")) == 1, "a refusal for good is not retried"
    assert len(scheduler.queues["telegram"]) == 0 and states(engine, [step]) == ["undeliverable"], "never marked sent"
    [undeliverable] = events(engine, "ping_undeliverable")
    assert "blocked" in undeliverable.summary and "@bob" in undeliverable.summary
    [escalated] = events(engine, "escalated")
    assert "@alice" in escalated.summary
    with Session(engine) as session:
        alice = session.exec(select(Person).where(Person.handle == "alice")).one()
        escalation = session.exec(select(LadderStep).where(LadderStep.kind == StepKind.ESCALATION)).one()
        assert escalation.responsible_id == alice.id and escalation.state.value == "pending", "the manager gets a ping"
    await asyncio.sleep(0.2)
    await scheduler.flush()
    assert len(ping_attempts(standin, "BLK-1")) == 1


async def test_a_message_telegram_refuses_for_good_does_not_block_the_chats_next_ping(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    [first] = invoice_with_steps(team, "REF-1", NOON)
    [second] = invoice_with_steps(team, "REF-2", NOON + timedelta(minutes=5), customer="Borealis")
    standin.fail_next.append(("sendMessage", 400, "Bad Request: message is too long", None))
    scheduler = telegram_scheduler(core, telegram, clock)
    await fire_at(scheduler, clock, NOON)
    [refused] = events(engine, "ping_undeliverable")
    assert "REF-1" not in " ".join(texts_to_bob(standin)) and "message is too long" in refused.summary.lower()
    await fire_at(scheduler, clock, NOON + timedelta(minutes=5))
    assert any("REF-2" in text for text in texts_to_bob(standin)), "the next ping goes out"
    assert states(engine, [first, second]) == ["undeliverable", "sent"], "only what Telegram took is marked sent"


def test_telegram_limits_are_counted_in_utf16_units_so_emoji_never_make_a_message_too_long() -> None:
    reason = "😡" * 1700
    reply = Reply(title="Dispute to resolve for EMO-1", blocks=[
        Paragraph(f"The customer says: {reason}"), Facts((("Reason", reason), ("Invoice", "EMO-1"))),
        DraftText("Draft", "🙏" * 2500)])
    messages = render_messages(reply)
    assert len(messages) >= 3
    plain = ""
    for message in messages:
        assert utf16_len(message) <= 4096
        text, _ = parse_html(message)
        plain += text
    assert plain.count("😡") == 3400 and plain.count("🙏") == 2500, "nothing lost"
    assert utf16_len(fit("👍" * 300, CALLBACK_ANSWER_LIMIT)) <= CALLBACK_ANSWER_LIMIT


async def test_a_ping_full_of_emoji_reaches_the_person_in_parts_telegram_accepts(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    [step] = invoice_with_steps(team, "EMO-2", NOON)
    with Session(engine) as session:
        stored = session.get(LadderStep, step)
        assert stored is not None
        stored.instruction = "The customer wrote: " + "😡" * 1700
        session.add(stored)
        session.commit()
    scheduler = telegram_scheduler(core, telegram, clock)
    await fire_at(scheduler, clock, NOON)
    pings = [text for text in texts_to_bob(standin) if "😡" in text]
    assert len(pings) >= 2 and sum(text.count("😡") for text in pings) == 2 * 1700, "title and instruction, all of it"
    assert states(engine, [step]) == ["sent"] and not events(engine, "ping_undeliverable")


async def test_a_long_ping_retried_after_a_502_sends_the_same_text_and_only_the_missing_part(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    team.say("bob", "/add LNG-1 100 EUR 2026-12-01 Acme")
    [step] = long_steps(engine, "LNG-1", NOON)
    standin.fail_after.append(["sendMessage", 1, 502, "Bad Gateway"])
    scheduler = telegram_scheduler(core, telegram, clock)
    await fire_at(scheduler, clock, NOON)
    assert len(texts_to_bob(standin)) - 1 == 1 and states(engine, [step]) == ["sending"], "part 2 failed"
    await asyncio.sleep(0.1)  # the retry pause
    await scheduler.flush()
    pings = [text for text in texts_to_bob(standin) if "LNG-1" in text or "Draft #" in text]
    assert len(pings) == 2, "each part once"
    assert "Draft #1" in pings[-1] and "Draft #2" not in " ".join(pings), "rendered once, the same text on retry"
    assert REPEAT not in " ".join(pings), "Telegram answered 502: the part certainly did not arrive"
    assert states(engine, [step]) == ["sent"]
    with Session(engine) as session:
        [stored] = session.exec(select(PingMessage)).all()
        assert stored.parts_sent == 2 and stored.outcome == "delivered"
        assert [parse_html(part["text"])[0] for part in stored.parts] == pings, "what arrived is what was stored"


async def test_an_instance_killed_between_the_parts_of_a_ping_is_taken_over_and_the_rest_arrives_marked_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    team.say("bob", "/add KIL-1 100 EUR 2026-12-01 Acme")
    [step] = long_steps(engine, "KIL-1", NOON)
    standin.fail_after.append(["sendMessage", 1, 502, "Bad Gateway"])
    crashed = telegram_scheduler(core, telegram, clock, instance="crashed", lease=timedelta(minutes=2))
    await fire_at(crashed, clock, NOON)  # part 1 arrived, part 2 failed; then the instance is gone
    [first_part] = texts_to_bob(standin)[-1:]
    clock.advance(timedelta(minutes=3))
    survivor = telegram_scheduler(core, telegram, clock, instance="survivor", lease=timedelta(minutes=2))
    assert await survivor.recover() == 1
    await survivor.flush()
    pings = [text for text in texts_to_bob(standin) if "KIL-1" in text or "Draft #" in text]
    assert pings[0] == first_part and len(pings) == 2, "part 1 is not sent again"
    assert pings[1].startswith(REPEAT) and "Draft #1" in pings[1], "the rest, as rendered before, marked as a repeat"
    assert states(engine, [step]) == ["sent"]


async def test_a_one_part_ping_taken_over_after_a_crash_is_the_text_rendered_before_marked_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    [step] = invoice_with_steps(team, "ONE-1", NOON)
    standin.fail_next.append(("sendMessage", 502, "Bad Gateway", None))
    crashed = telegram_scheduler(core, telegram, clock, instance="crashed", lease=timedelta(minutes=2))
    await fire_at(crashed, clock, NOON)  # the send failed; then the instance is gone
    with Session(engine) as session:
        [rendered] = session.exec(select(PingMessage)).all()
        assert rendered.composed_by == "crashed" and rendered.finished_at is None, "a one-part ping is stored as rendered too"
    clock.advance(timedelta(minutes=3))
    survivor = telegram_scheduler(core, telegram, clock, instance="survivor", lease=timedelta(minutes=2))
    assert await survivor.recover() == 1
    await survivor.flush()
    [ping] = [text for text in texts_to_bob(standin) if "ONE-1" in text]
    assert ping.startswith(REPEAT), "it may have arrived before: marked as a repeat"
    with Session(engine) as session:
        [stored] = session.exec(select(PingMessage)).all()
        assert stored.outcome == "delivered" and stored.composed_by == "crashed", "sent as rendered, not composed again"
    assert states(engine, [step]) == ["sent"]


async def fired_with_a_late_answer(core: Core, telegram: TelegramPlatform, standin: TelegramStandIn,  # noqa: F811
                                   clock: MovableClock, number: str) -> list[str]:
    """Noon comes and Telegram takes the ping but answers after the client stopped waiting, so the
    ping is sent again: the texts about invoice `number` that Bob got."""
    telegram.notifier.read_timeout = 0.3
    standin.delay_next.append(("sendMessage", 1.0))
    scheduler = telegram_scheduler(core, telegram, clock)
    await fire_at(scheduler, clock, NOON)
    await asyncio.sleep(0.2)
    await scheduler.flush()
    return [text for text in texts_to_bob(standin) if number in text]


async def test_a_ping_whose_answer_timed_out_is_resent_once_marked_as_a_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    [step] = invoice_with_steps(team, "TMO-1", NOON)
    pings = await fired_with_a_late_answer(core, telegram, standin, clock, "TMO-1")
    assert len(pings) == 2, "Telegram got it although the answer came too late; so it is there twice"
    assert not pings[0].startswith(REPEAT) and pings[1].startswith(REPEAT), "the second time says it is a repeat"
    assert states(engine, [step]) == ["sent"]


@pytest.mark.parametrize("claimed_before", [False, True], ids=["first-try", "claimed-before"])
async def test_a_russian_ping_resent_after_a_timeout_says_once_in_russian_that_it_may_be_a_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform, claimed_before: bool,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    [step] = invoice_with_steps(team, "TMO-2", NOON)
    team.say("bob", "/team set lang=ru")
    if claimed_before:
        claimed_by_a_stopped_instance(engine, step)
    pings = await fired_with_a_late_answer(core, telegram, standin, clock, "TMO-2")
    note = translated("ru", REPEAT_NOTE)
    assert note != REPEAT_NOTE and len(pings) == 2
    assert [ping.count(note) for ping in pings] == [1 if claimed_before else 0, 1], "said once, in Russian"
    assert "Repeat" not in pings[1] and pings[1].startswith("🔁 " + note) != claimed_before
    assert states(engine, [step]) == ["sent"]


async def test_a_burst_through_500s_429s_and_a_server_that_is_gone_arrives_exactly_once(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: TelegramStandIn,  # noqa: F811
    telegram: TelegramPlatform,  # noqa: F811
) -> None:
    await link_bob(team, standin)
    numbers = [f"BUR-{n:02d}" for n in range(1, 25)]
    steps: list[int] = []
    for offset, number in enumerate(numbers):
        team.say("bob", f"/add {number} 100 EUR 2026-12-01 Customer {offset}")
        steps += add_steps(engine, number, "bob", NOON + timedelta(seconds=offset // 8))
    standin.fail_next += [("sendMessage", 500, "Internal Server Error", None),
                          ("sendMessage", 429, "Too Many Requests: retry after 1", 1),
                          ("sendMessage", 500, "Internal Server Error", None)]
    scheduler = telegram_scheduler(core, telegram, clock, max_sleep=timedelta(seconds=0.2))
    clock.set(NOON + timedelta(seconds=5))
    running = asyncio.create_task(scheduler.run())
    try:
        await until(lambda: len(standin.calls_of("sendMessage")) >= 4, 10, "the burst is under way")
        await standin.go_down()
        await asyncio.sleep(1.0)
        await standin.come_back()
        await until(lambda: states(engine, steps) == ["sent"] * len(steps), 30, "every step delivered")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    texts = texts_to_bob(standin)
    for number in numbers:
        plain = [text for text in texts if number in text and not text.startswith(REPEAT)]
        assert len(plain) == 1, f"{number} exactly once (a repeat would be marked)"
