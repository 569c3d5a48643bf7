"""How the scheduler gets a ping's content without knowing the commands: the core hands it a
composer (`handlers.pings.compose_ping`) and, optionally, a draft picker."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import Session

from bot.floor.reply import DraftText, Reply
from bot.store.models import Customer, Invoice, LadderStep, Person

DraftFor = Callable[[Session, LadderStep, Invoice, Customer, Person, datetime], DraftText | None]
"""Picks the draft shown under a due step (None: no draft)."""

ComposePing = Callable[[Session, Sequence[int], datetime, int, "DraftFor | None"], Reply | None]
"""(session, due step ids, now, failed attempts so far, draft picker) -> one ping, or None when no
step is left to tell about."""
