"""In real time, with the system clock: a duration ladder fires three steps seconds apart, and
each ping arrives within a second of its scheduled moment."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.app.bootstrap import build_core, build_scheduler, build_services
from bot.floor.config import Settings
from bot.platforms.console.chat import console_sender
from bot.store.models import LadderStep
from bot.floor.reply import Reply
from scheduling.notifier import CONSOLE_LIMITS

QUICK_LADDER = """
description: three check-ins two seconds apart
working_hours: ignore
steps:
""" + "".join(f"""
  - name: Check-in {n}
    when: {{after_previous: PT2S}}
    action: check-in
    responsible: owner
    stage: first_reminder
    tone: neutral
    instruction: Check in number {n}.
""" for n in (1, 2, 3))


class StopwatchNotifier:
    platform = "console"

    def __init__(self) -> None:
        self.arrivals: list[tuple[datetime, Reply]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.arrivals.append((datetime.now(timezone.utc), reply))


async def test_a_duration_ladder_fires_three_steps_each_within_a_second(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "quick.yaml").write_text(QUICK_LADDER, encoding="utf-8")
    services = build_services(settings.model_copy(update={"ladders_dir": tmp_path}), engine=engine)
    core = build_core(services)
    scheduler = build_scheduler(services)
    notifier = StopwatchNotifier()
    scheduler.attach(notifier, CONSOLE_LIMITS)
    running = asyncio.create_task(scheduler.run())
    try:
        alice = console_sender("alice")
        await asyncio.to_thread(core.handle_text, alice, "/start")
        reply = await asyncio.to_thread(core.handle_text, alice, "/add RT-1 100 EUR +10d Realtime Ltd ladder=quick")
        assert not reply.is_error, reply
        for _ in range(100):
            if len(notifier.arrivals) == 3:
                break
            await asyncio.sleep(0.1)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    with Session(engine) as session:
        due = [step.due_at for step in session.exec(select(LadderStep).order_by(col(LadderStep.due_at)))]
    assert len(notifier.arrivals) == 3, [r.title for _, r in notifier.arrivals]
    for (arrived, reply), scheduled in zip(notifier.arrivals, due, strict=True):
        assert scheduled <= arrived, f"{reply.title} arrived early"
        assert (arrived - scheduled).total_seconds() < 1.0, f"{reply.title} arrived {arrived - scheduled} late"
    assert [reply.title.split(":")[0] for _, reply in notifier.arrivals] == [f"Step {n} for RT-1" for n in (1, 2, 3)]
