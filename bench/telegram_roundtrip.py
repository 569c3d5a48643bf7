"""Round trip through the real Telegram application and the local Bot API stand-in: from a user's
command arriving at the stand-in to the bot's answer arriving back (polling mode).

Rounds are paced (PAUSE between commands) so this measures latency: back to back, every answer
would wait for the AIORateLimiter's 30 messages/s overall budget and the figure would be ~33 ms,
that pacing, whatever the bot's own speed.

    .venv/bin/python -m bench.telegram_roundtrip [rounds]
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.app.bootstrap import build_core, build_services
from bot.floor.config import Settings
from bot.platforms.telegram import TelegramPlatform, build_platform
from bot.floor.reply import Button, Reply
from tests.telegram_standin import TelegramStandIn, User

PAUSE = 0.1


async def main(rounds: int) -> None:
    standin = TelegramStandIn()
    await standin.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{Path(folder) / 'rt.db'}",  # type: ignore[call-arg]
                            telegram_bot_token=standin.token, telegram_api_base_url=standin.base_url,
                            telegram_file_base_url=standin.file_base_url, telegram_poll_timeout=10)
        platform = build_platform(build_core(build_services(settings)), settings)
        await platform.start()
        user = User(1, "Admin")
        timings: dict[str, list[float]] = {"/help": [], "/add": [], "/list": [], "Paid": []}
        try:
            await round_trip(standin, user, "/start", "Hello")
            for n in range(rounds):
                timings["/help"].append(await round_trip(standin, user, "/help", "What I can do"))
                timings["/add"].append(await round_trip(standin, user, f"/add RT-{n} 100 EUR 2026-12-10 Acme", f"Added invoice RT-{n}"))
                timings["/list"].append(await round_trip(standin, user, "/list", "open invoice"))
                timings["Paid"].append(await press_round_trip(platform, standin, user, f"RT-{n}"))
        finally:
            await platform.stop()
            await standin.stop()
    print(f"telegram round trip (stand-in on 127.0.0.1, polling, SQLite), {rounds} rounds "
          "(Paid: a ping's button pressed → the ping edited):")
    for command, values in timings.items():
        values.sort()
        print(f"  {command:6} p50 {statistics.median(values) * 1000:.1f} ms, p95 {values[int(0.95 * (len(values) - 1))] * 1000:.1f} ms, "
              f"max {values[-1] * 1000:.1f} ms")


async def round_trip(standin: TelegramStandIn, user: User, text: str, expect: str) -> float:
    before = len(standin.sent_to(user.id))
    started = time.perf_counter()
    await standin.say(user, text)
    await standin.wait_for(lambda: any(expect in m.get("text", "") for m in standin.sent_to(user.id)[before:]), timeout=10)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(PAUSE)
    return elapsed


async def press_round_trip(platform: TelegramPlatform, standin: TelegramStandIn, user: User, number: str) -> float:
    """A ping-like message with a Paid button: from the press to the message edited."""
    [ping] = await platform.send_reply(user.id, Reply(title=f"Step 1 for {number}", buttons=[Button("💶 Paid", f"paid {number}")]))
    started = time.perf_counter()
    await standin.press(user, standin.messages[(user.id, ping.message_id)], "Paid")
    await standin.wait_for(lambda: "✔" in standin.messages[(user.id, ping.message_id)]["text"], timeout=10)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(PAUSE)
    return elapsed


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
