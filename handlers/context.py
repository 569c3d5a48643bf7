"""What a handler gets besides its parsed command: the sender, the acting person, the session."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from bot.i18n import language_of, locale_for, supported_language
from bot.floor.clock import Clock
from bot.floor.config import Settings
from bot.floor.health import LoopHealth
from bot.store.models import Person, Team
from bot.floor.dates import local_today

if TYPE_CHECKING:
    from handlers.catalogue import CommandSpec
    from handlers.written_tables import WhenWritten
    from phrasebook.book import Phrasebook
    from scheduling.ladder_keeper import LadderKeeper
    from scheduling.policies import LadderPolicy



@dataclass(frozen=True)
class Sender:
    """Who wrote, as the platform knows them. Adapters fill this in; the core never parses platforms."""

    platform: str
    external_id: str
    display_name: str
    chat_id: str | None = None
    in_group: bool = False
    verified_handle: str | None = None
    """A team handle the platform vouches for (the local console does); others link by invite."""
    language_hint: str | None = None
    """The language the person's app is set to (Telegram's `language_code`, Slack's locale): a
    newcomer is answered in it, and a person created from this account starts with it."""
    files_by_path: bool = False
    """Files are given by their path, not attached (the console): help and examples say so."""


class InvoiceHook(Protocol):
    """Something the course works with: the LadderKeeper (the planner it asks for steps), or a
    listener with `invoice_changed(ctx, invoice)`, told inside the command's transaction each time
    the course records an event on an invoice (it no longer has to guess what happened)."""


@dataclass
class PhrasebookShelf:
    """The phrasebook in use: `/phrasebook reload` puts a newly checked one here."""

    current: "Phrasebook | None" = None


@dataclass(frozen=True)
class Services:
    """Long-lived dependencies, built once by `bot.app.bootstrap` and never reassigned.

    Three registries are filled as the parts that own them start, never replaced: `after_commit`
    (the scheduler and the digests subscribe), `bot_usernames` and `invite_links` (each platform,
    once it knows its own name)."""

    engine: Engine
    clock: Clock
    settings: Settings
    invoice_hooks: list[InvoiceHook] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    """Called after a command's transaction commits (the scheduler re-arms its timer there)."""
    after_writing: list["WhenWritten"] = field(default_factory=list)
    """Called after a command's transaction commits if it wrote one of their tables (the digests
    re-read people and subscriptions only after a command that changed them)."""
    catalogue: dict[str, "CommandSpec"] = field(default_factory=dict)
    ladders: dict[str, "LadderPolicy"] = field(default_factory=dict)
    phrasebook_shelf: PhrasebookShelf = field(default_factory=PhrasebookShelf)
    bot_usernames: dict[str, str] = field(default_factory=dict)
    """The bot's own name per platform, learned at start (for links such as t.me/<bot>)."""
    invite_links: dict[str, Callable[[str], str]] = field(default_factory=dict)
    """Platforms that can turn an invite code into a link register it here, by label."""
    health: LoopHealth = field(default_factory=LoopHealth)
    """Liveness of this process's background loops: the scheduler's and the platforms' own (the
    Telegram polling lease); /healthz, /metrics and `collectbot doctor` read it."""

    @property
    def phrasebook(self) -> "Phrasebook | None":
        return self.phrasebook_shelf.current

    @property
    def ladder_keeper(self) -> "LadderKeeper | None":
        """The planner the course asks for an invoice's ladder steps (None: steps are placed by
        hand, as the firing tests do)."""
        from scheduling.ladder_keeper import LadderKeeper

        return next((hook for hook in self.invoice_hooks if isinstance(hook, LadderKeeper)), None)


@dataclass
class Context:
    session: Session
    services: Services
    team: Team
    sender: Sender
    now: datetime
    actor: Person | None = None

    @property
    def person(self) -> Person:
        """The acting team member; commands that need one are only called when there is one."""
        assert self.actor is not None, "this command needs a team member"
        return self.actor

    @property
    def speaks(self) -> str:
        """The stored language or locale code the reader chose (a newcomer: the app's, then the team's)."""
        if self.actor is not None:
            return self.actor.language
        return supported_language(self.sender.language_hint) or self.team.default_language

    @property
    def language(self) -> str:
        """The reader's language: en, ru, nb or bg."""
        return language_of(self.speaks)

    @property
    def locale(self) -> str:
        """The Babel locale money, numbers and dates are written in for the reader (en_GB, nb_NO…)."""
        return locale_for(self.speaks, self.team.locale)

    @property
    def timezone(self) -> str:
        """The actor's zone; a stored zone that no longer exists falls back to the team's."""
        from scheduling.working_hours import known_zone

        if self.actor is not None and known_zone(self.actor.timezone):
            return self.actor.timezone
        return self.team.default_timezone

    @property
    def today(self) -> date:
        return local_today(self.now, self.timezone)
