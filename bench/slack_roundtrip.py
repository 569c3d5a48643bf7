"""Round trip through the real Bolt app and the local Slack stand-in: a signed slash command posted
to the app's HTTP endpoint until its answer reaches the response URL, and a ping sent through the
Web API client.

    .venv/bin/python -m bench.slack_roundtrip [rounds]
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.app.bootstrap import build_core, build_services
from bot.floor.config import Settings
from bot.platforms.slack import build_platform
from bot.floor.reply import Reply
from tests.slack_standin import SlackStandIn, block_text


async def main(rounds: int) -> None:
    standin = SlackStandIn()
    await standin.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{Path(folder) / 'rt.db'}",  # type: ignore[call-arg]
                            slack_bot_token="xoxb-test-token", slack_signing_secret=standin.signing_secret,
                            slack_api_url=standin.api_url, slack_http_port=0)
        platform = build_platform(build_core(build_services(settings)), settings)
        await platform.start()
        url = f"http://127.0.0.1:{platform.port}/slack/events"
        commands: list[float] = []
        pings: list[float] = []
        try:
            async with aiohttp.ClientSession() as http:
                await command(http, standin, url, "help", "What I can do")
                for n in range(rounds):
                    commands.append(await command(http, standin, url, f"add SL-{n} 100 EUR 2026-12-10 Acme", f"Added invoice SL-{n}"))
                    started = time.perf_counter()
                    await platform.notifier.send("U0ADMIN", Reply(title=f"Step 1 for SL-{n}: call"))
                    pings.append(time.perf_counter() - started)
        finally:
            await platform.stop()
            await standin.stop()
    print(f"slack round trip (stand-in on 127.0.0.1, HTTP mode, SQLite), {rounds} rounds:")
    for label, values in (("slash command → response", commands), ("ping chat.postMessage", pings)):
        values.sort()
        print(f"  {label:26} p50 {statistics.median(values) * 1000:.1f} ms, p95 {values[int(0.95 * (len(values) - 1))] * 1000:.1f} ms, "
              f"max {values[-1] * 1000:.1f} ms")


async def command(http: aiohttp.ClientSession, standin: SlackStandIn, url: str, text: str, expect: str) -> float:
    body = standin.form(standin.slash_command("U0ADMIN", text))
    before = len(standin.responses)
    started = time.perf_counter()
    async with http.post(url, data=body.encode(), headers=standin.signed_headers(body)) as response:
        assert response.status == 200
    await standin.wait_for(lambda: any(expect in block_text(r.get("blocks", [])) for r in standin.responses[before:]), timeout=10)
    return time.perf_counter() - started


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
