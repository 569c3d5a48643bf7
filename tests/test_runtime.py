"""Telegram and the console in one process, sharing one scheduler: each person's ping goes where
they can be reached."""
from __future__ import annotations

import asyncio
import io
from datetime import datetime
from pathlib import Path

from bot.floor.clock import MovableClock
from bot.floor.config import Settings
from bot.platforms.console.chat import ConsoleChat, console_sender
from bot.platforms.console.platform import ConsolePlatform
from bot.app.runtime import Runtime, platforms_from_settings
from tests.conftest import OSLO
from tests.telegram_standin import TelegramStandIn, User

BOB = User(111, "Bob", "bob")


async def test_telegram_and_the_console_share_one_scheduler(tmp_path: Path) -> None:
    standin = TelegramStandIn()
    await standin.start()
    clock = MovableClock(datetime(2026, 11, 24, 9, 0, tzinfo=OSLO))
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'both.db'}",  # type: ignore[call-arg]
                        telegram_bot_token=standin.token, telegram_api_base_url=standin.base_url,
                        telegram_file_base_url=standin.file_base_url, telegram_poll_timeout=1)
    runtime = Runtime.build(settings, clock=clock)
    output = io.StringIO()
    chat = ConsoleChat(runtime.core, "alice", output)
    platforms = platforms_from_settings(runtime) + [ConsolePlatform(chat)]
    assert [p.name for p in platforms] == ["telegram", "console"]
    stop = asyncio.Event()
    serving = asyncio.create_task(runtime.serve(platforms, until=stop.wait()))
    try:
        await chat.say("/start")
        for line in ("/team add @bob salesperson", "/team add @carol collector"):
            await chat.say(line)
        code = dict(chat.core.handle_text(console_sender("alice"), "/team invite @bob").blocks[0].items)["Code"]  # type: ignore[union-attr,arg-type]
        await standin.say(BOB, f"/start {code}")
        await standin.wait_for(lambda: any("linked" in m.get("text", "") for m in standin.sent_to(BOB.id)))
        await standin.say(BOB, "/add RT-1 900 EUR 2026-12-10 Acme collector=@carol")
        await standin.wait_for(lambda: any("Added invoice RT-1" in m.get("text", "") for m in standin.sent_to(BOB.id)))
        clock.set(datetime(2026, 12, 10, 12, 0, tzinfo=OSLO))
        runtime.scheduler.poke()
        await standin.wait_for(lambda: any("Step 1 for RT-1" in m.get("text", "") for m in standin.sent_to(BOB.id)))
        for _ in range(50):
            if "Ping for @carol" in output.getvalue():
                break
            await asyncio.sleep(0.1)
        assert "Ping for @carol" in output.getvalue() and "Step 2 for RT-1" in output.getvalue(), \
            "carol has no Telegram account: her ping goes to the console"
        assert "Step 2 for RT-1" not in " ".join(m.get("text", "") for m in standin.sent_to(BOB.id))
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
        await standin.stop()
