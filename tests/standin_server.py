"""What the platform stand-ins share: an aiohttp app on 127.0.0.1 at a free port, and a way for a
test to wait until the bot has done what it expects."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web


class LocalServer:
    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None
        self.port = 0
        self.delay_next: list[tuple[str, float]] = []
        """(method, seconds): the next call of `method` is carried out, then answered that late
        (a client with a shorter timeout gives up although the call took effect)."""

    async def serve(self, app: web.Application) -> None:
        self._app = app
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def go_down(self) -> None:
        """Stop listening: connections are refused until `come_back`."""
        await self.stop()

    async def come_back(self) -> None:
        """Listen again on the same port."""
        assert self._app is not None
        app, self._app = self._app, None
        fresh = web.Application(client_max_size=app._client_max_size)  # the old one is frozen
        for route in app.router.routes():
            fresh.router.add_route(route.method, route.resource.canonical, route.handler)  # type: ignore[union-attr]
        await self.serve(fresh)

    async def answer_late(self, method: str) -> None:
        """Wait as `delay_next` says for `method` (called after the call took effect)."""
        for index, (delayed, seconds) in enumerate(self.delay_next):
            if delayed == method:
                del self.delay_next[index]
                await asyncio.sleep(seconds)
                return

    async def changed(self) -> None:
        """Something happened (a call arrived, an update was queued): wake whoever waits."""
        async with self._changed:
            self._changed.notify_all()

    async def wait_until_changed(self, timeout: float) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=timeout)
            except TimeoutError:
                pass

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"{type(self).__name__}: the bot did not do what was expected in time")
            await self.wait_until_changed(0.05)
