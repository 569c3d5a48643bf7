"""Wiring: settings in, a ready core (database migrated, services connected) out."""
from __future__ import annotations

from sqlalchemy import Engine

from bot.floor.clock import Clock, SystemClock
from bot.floor.config import Settings, reveal
from bot.store.database import create_database_engine, upgrade_schema
from handlers.context import Services
from handlers.core import Core
from handlers.drafts import ping_draft
from phrasebook.book import load_phrasebook
from scheduling.ladder_keeper import LadderKeeper
from scheduling.policies import load_policies
from scheduling.scheduler import Scheduler


def build_services(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None) -> Services:
    engine = engine or create_database_engine(reveal(settings.database_url) or "")
    upgrade_schema(engine)
    ladders = load_policies(settings.ladders_dir)
    return Services(engine=engine, clock=clock or SystemClock(), settings=settings, ladders=ladders,
                    invoice_hooks=[LadderKeeper(ladders)], phrasebook=load_phrasebook(settings.phrasebook_dir, rehearse=False))


def build_core(services: Services) -> Core:
    return Core(services)


def build_scheduler(services: Services) -> Scheduler:
    """The scheduler for these services; every committed command re-arms its timer."""
    round_the_clock = frozenset(name for name, policy in services.ladders.items() if policy.ignores_working_hours)
    scheduler = Scheduler(services.engine, services.clock, round_the_clock=round_the_clock, draft_for=ping_draft(services),
                          health=services.health)
    services.after_commit.append(scheduler.poke)
    return scheduler
