"""Pings through the real slack_sdk client against the Slack stand-in, under faults: a merged ping
longer than Slack's 50 blocks, a deactivated person, 500s and answers that come too late."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.store.models import LadderStep, StepKind
from bot.platforms.slack import SlackPlatform
from handlers.core import Core
from bot.floor.reply import DraftText
from handlers.pings import compose_ping
from scheduling.ladder_keeper import LadderKeeper
from bot.i18n import translated
from scheduling.notifier import REPEAT_NOTE, RateLimits
from scheduling.scheduler import Scheduler
from scheduling.supervision import Backoff
from tests.slack_standin import SlackStandIn, block_text
from tests.support import claimed_by_a_stopped_instance, ChatDriver, add_steps, fire_at, invoice_with_steps, states
from tests.test_delivery_faults import FAST_RETRIES
from tests.test_delivery_telegram import events
from tests.test_firing import NOON
from tests.test_slack import BOB_DM, Http, http_slack, link, standin  # noqa: F401 - fixtures

UNLIMITED = RateLimits(per_second=1000.0, per_chat_interval=0.0)


@pytest.fixture(autouse=True)
def hand_placed_steps_only(core: Core) -> None:
    core.services.invoice_hooks[:] = [hook for hook in core.services.invoice_hooks if not isinstance(hook, LadderKeeper)]


def slack_scheduler(core: Core, slack: SlackPlatform, clock: MovableClock, **options: Any) -> Scheduler:
    scheduler = Scheduler(core.services.engine, clock, compose=compose_ping, backoff=Backoff(0.05, 0.4), retry_pauses=FAST_RETRIES, **options)
    scheduler.attach(slack.notifier, UNLIMITED)
    return scheduler


def pings_to_bob(standin: SlackStandIn) -> list[dict[str, Any]]:  # noqa: F811
    return [message for message in standin.posted_to(BOB_DM) if "linked" not in block_text(message["blocks"])]


async def fire_and_retry(scheduler: Scheduler, clock: MovableClock, moment: datetime, pause: float) -> None:
    """The clock reaches `moment`: what is due is fired, and the queues flushed five times, `pause` seconds apart (retries)."""
    clock.set(moment)
    await scheduler.fire_due()
    for _ in range(5):
        await scheduler.flush()
        await asyncio.sleep(pause)


async def fired_with_a_late_answer(scheduler: Scheduler, slack: SlackPlatform, standin: SlackStandIn,  # noqa: F811
                                   clock: MovableClock, moment: datetime, number: str) -> list[str]:
    """At `moment` Slack takes the ping but answers after the client stopped waiting, so the ping
    is sent again: the texts about invoice `number` that Bob got."""
    slack.outbox.client.timeout = 1
    standin.delay_next.append(("chat.postMessage", 1.5))
    await fire_and_retry(scheduler, clock, moment, pause=0.4)
    return [block_text(m["blocks"]) for m in pings_to_bob(standin) if number in block_text(m["blocks"])]


async def test_ten_steps_merged_on_slack_all_arrive_split_across_messages_none_cut(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: SlackStandIn,  # noqa: F811
    http_slack: SlackPlatform,  # noqa: F811
) -> None:
    await link(team, Http(standin, http_slack), standin)
    numbers = [f"SLK-{n:02d}" for n in range(1, 11)]
    steps: list[int] = []
    for index, number in enumerate(numbers):
        team.say("bob", f"/add {number} 100 EUR 2026-12-01 Customer {index}")
        steps += add_steps(engine, number, "bob", NOON)
    long_letters = lambda *_: DraftText("Draft", ("Dear customer, we kindly remind you. " * 70 + "\n") * 3)
    scheduler = slack_scheduler(core, http_slack, clock, draft_for=long_letters)
    assert await fire_at(scheduler, clock, NOON) == 10
    pings = pings_to_bob(standin)
    assert len(pings) >= 2, "more than 50 blocks: split, not shortened"
    assert all(len(ping["blocks"]) <= 50 for ping in pings)
    text = "\n".join(block_text(ping["blocks"]) for ping in pings)
    assert "shortened" not in text
    assert all(number in text for number in numbers), "every step marked sent is in a message Slack received"
    assert states(engine, steps) == ["sent"] * 10
    labels = [element["text"]["text"] for ping in pings for block in ping["blocks"] if block["type"] == "actions"
              for element in block["elements"]]
    assert labels and all(any(number in label for number in numbers) for label in labels), "every button names its invoice"


async def test_a_deactivated_slack_user_is_not_retried_and_their_manager_is_told(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: SlackStandIn,  # noqa: F811
    http_slack: SlackPlatform,  # noqa: F811
) -> None:
    await link(team, Http(standin, http_slack), standin)
    [step] = invoice_with_steps(team, "INA-1", NOON)
    standin.fail_next.append(("chat.postMessage", 200, "account_inactive", None))
    scheduler = slack_scheduler(core, http_slack, clock)
    await fire_at(scheduler, clock, NOON)
    await asyncio.sleep(0.2)
    await scheduler.flush()
    assert pings_to_bob(standin) == [] and len(scheduler.queues["slack"]) == 0, "given up, not retried"
    [undeliverable] = events(engine, "ping_undeliverable")
    assert "account_inactive" in undeliverable.summary
    with Session(engine) as session:
        assert session.exec(select(LadderStep).where(LadderStep.kind == StepKind.ESCALATION)).one()
    assert states(engine, [step]) == ["undeliverable"], "nothing is marked sent that Slack did not get"


async def test_slack_500s_and_a_late_answer_still_deliver_each_step_once_or_marked_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: SlackStandIn,  # noqa: F811
    http_slack: SlackPlatform,  # noqa: F811
) -> None:
    await link(team, Http(standin, http_slack), standin)
    [first] = invoice_with_steps(team, "ERR-1", NOON)
    [second] = invoice_with_steps(team, "ERR-2", NOON + timedelta(minutes=5), customer="Borealis")
    standin.fail_next.append(("chat.postMessage", 500, "internal_error", None))
    scheduler = slack_scheduler(core, http_slack, clock)
    await fire_and_retry(scheduler, clock, NOON, pause=0.1)
    [ping] = pings_to_bob(standin)
    assert "ERR-1" in block_text(ping["blocks"]) and "Repeat" not in block_text(ping["blocks"]), "a 500 did not deliver"
    second_pings = await fired_with_a_late_answer(scheduler, http_slack, standin, clock, NOON + timedelta(minutes=5), "ERR-2")
    assert len(second_pings) == 2 and "Repeat" not in second_pings[0] and "Repeat" in second_pings[1]
    assert states(engine, [first, second]) == ["sent", "sent"]


@pytest.mark.parametrize("claimed_before", [False, True], ids=["first-try", "claimed-before"])
async def test_a_russian_slack_ping_resent_after_a_late_answer_says_once_in_russian_that_it_may_be_a_repeat(
    team: ChatDriver, engine: Engine, clock: MovableClock, core: Core, standin: SlackStandIn,  # noqa: F811
    http_slack: SlackPlatform, claimed_before: bool,  # noqa: F811
) -> None:
    await link(team, Http(standin, http_slack), standin)
    [step] = invoice_with_steps(team, "LATE-1", NOON)
    team.say("bob", "/team set lang=ru")
    if claimed_before:
        claimed_by_a_stopped_instance(engine, step)
    scheduler = slack_scheduler(core, http_slack, clock)
    pings = await fired_with_a_late_answer(scheduler, http_slack, standin, clock, NOON, "LATE-1")
    note = translated("ru", REPEAT_NOTE)
    assert note != REPEAT_NOTE and len(pings) == 2
    assert [ping.count(note) for ping in pings] == [1 if claimed_before else 0, 1], "said once, in Russian"
    assert "Repeat" not in pings[1]
    assert states(engine, [step]) == ["sent"]
