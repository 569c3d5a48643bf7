"""Starting the digests beside the platforms (a hook `bot.app.runtime` calls)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from handlers.context import Services
from handlers.digest_content import compose_digest
from handlers.written_tables import WhenWritten
from scheduling.digests import PLANNED_FROM, Digests

if TYPE_CHECKING:
    from bot.app.runtime import Platform


async def start_digests(services: Services, platforms: Sequence["Platform"], instance: str) -> Digests:
    digests = Digests(services.engine, services.clock, compose_digest(services), instance)
    for platform in platforms:
        digests.attach(platform.notifier, catch_all=platform.name == "console")
    services.after_writing.append(WhenWritten(PLANNED_FROM, digests.refresh))
    await digests.start()
    return digests
