"""The one entry point every adapter calls: text (or a pressed button) in, a `Reply` out."""
from __future__ import annotations

import difflib
import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import TypeVar
from dataclasses import replace

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, col, select

from bot.i18n import _, speaking, supported_language
from bot.store.database import reading
from bot.store.models import Person, Team
from bot.store.stored_state import claim_once
from handlers.catalogue import CommandSpec, build_catalogue
from handlers.context import Context, Sender, Services
from bot.floor.errors import NotAllowed, UsageError
from handlers.grammar import Command, IncomingFile, InputError, parse_arguments, parse_command
from handlers.history import dispatch
from handlers.people import create_first_admin, find_by_handle, find_sender, find_sender_and_team, link_identity, sender_language, team_size
from handlers.permissions import Scope, authorize, find_named_invoice
from bot.floor.reply import Reply, error_reply
from handlers.once import Once, Repeated
from handlers.written_tables import written_tables
from scheduling.course_events import discard

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 4
"""A command that meets a conflicting write (a customer created at the same moment, SQLite busy,
a PostgreSQL serialization failure) runs again from the start this many times at most."""
PUBLIC_IN_GROUPS = frozenset(("start", "help", "ladders"))
"""Replies that hold nobody's invoices; every other reply in a group chat goes to its reader alone."""


class Conflict(Exception):
    """Raised by `run_retrying` when every attempt met a conflict."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def is_conflict(error: Exception) -> bool:
    """Errors that another transaction caused and a fresh attempt can get past."""
    if isinstance(error, IntegrityError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError):
        text = str(error.orig).lower()
        code = getattr(error.orig, "sqlstate", None)
        return code in ("40001", "40P01", "55P03") or "locked" in text or "busy" in text
    return False


class Core:
    def __init__(self, services: Services, extra_commands: list[CommandSpec] | None = None) -> None:
        if extra_commands or not services.catalogue:
            services = replace(services, catalogue=build_catalogue(extra_commands))
        self.services = services

    @property
    def catalogue(self) -> dict[str, CommandSpec]:
        return self.services.catalogue

    def language_of(self, sender: Sender) -> str:
        """The language to answer `sender` in: the linked person's, else the app's (when the bot
        speaks it), else the team's default."""
        with reading(self.services.engine) as connection:
            language = sender_language(connection, sender)
        if language is not None:
            return language
        with Session(self.services.engine) as session:
            team = session.exec(select(Team).order_by(col(Team.id))).first()
            if team is not None and sender.verified_handle:  # the console: linked on its first command
                person = find_by_handle(session, team, sender.verified_handle)
                if person is not None and person.active:
                    return person.language
        default = team.default_language if team is not None else self.services.settings.default_language
        return supported_language(sender.language_hint) or default

    def handle_text(self, sender: Sender, text: str, files: tuple[IncomingFile, ...] = (), once: Once | None = None) -> Reply:
        """The answer to `text`, in the sender's language. With `once`, the command runs only if
        `once.key` was not run within `once.ttl` (else `Repeated` is raised), noted in the command's
        own transaction."""
        with speaking(self.language_of(sender)) as language:
            reply = self._handle_text(sender, text, files, once)
        reply.language = reply.language or language
        return reply

    def _handle_text(self, sender: Sender, text: str, files: tuple[IncomingFile, ...], once: Once | None) -> Reply:
        try:
            command = parse_command(text)
        except InputError as error:
            return self._unreadable(sender, text.strip()[1:].split(" ", 1)[0].split("@", 1)[0].lower(), error)
        if command is None:
            return error_reply(_("I understand commands that start with /."), "/help")
        return self._handle_command(sender, replace(command, files=files) if files else command, once)

    def handle_text_once(self, sender: Sender, text: str, once: Once) -> Reply | None:
        """`handle_text` for a request that may arrive again: None (nothing done) for a repeat."""
        try:
            return self.handle_text(sender, text, once=once)
        except Repeated:
            return None

    def press(self, sender: Sender, action: str) -> Reply:
        """A pressed button: its action id is a command without the slash (`paid INV-1042`)."""
        with speaking(self.language_of(sender)) as language:
            verb, _space, rest = action.partition(" ")
            try:
                reply = self._handle_command(sender, parse_arguments(verb, rest))
            except InputError as error:
                reply = self._unreadable(sender, verb, error)
        reply.language = reply.language or language
        return reply

    def _unreadable(self, sender: Sender, verb: str, error: InputError) -> Reply:
        spec = self.catalogue.get(verb)
        return error_reply(error.problem, error.example or (spec.example_for(sender.files_by_path) if spec else "/help"))

    def is_member(self, sender: Sender) -> bool:
        """Whether the sender's account is linked to an active team member (group chats answer
        members only)."""
        with Session(self.services.engine) as session:
            return find_sender(session, sender) is not None

    def handle(self, sender: Sender, command: Command, once: Once | None = None) -> Reply:
        with speaking(self.language_of(sender)) as language:
            reply = self._handle_command(sender, command, once)
        reply.language = reply.language or language
        return reply

    def _handle_command(self, sender: Sender, command: Command, once: Once | None = None) -> Reply:
        spec = self.catalogue.get(command.verb)
        if spec is None:
            return unknown_command(command.verb, self.catalogue)
        reply = self._handle(sender, command, spec, once)
        if sender.in_group and spec.verb not in PUBLIC_IN_GROUPS:
            reply.private = True
        return reply

    def _handle(self, sender: Sender, command: Command, spec: CommandSpec, once: Once | None = None) -> Reply:
        written: set[str] = set()
        try:
            reply = self.run_retrying(lambda session: self._run(session, sender, command, spec, once), written)
        except Repeated:
            raise
        except UsageError as error:
            return error_reply(error.problem, error.example or spec.example_for(sender.files_by_path), error.field)
        except NotAllowed as error:
            return error_reply(str(error))
        except Conflict as conflict:
            log.warning("conflicting writes for /%s, %d attempts", command.verb, ATTEMPTS, exc_info=conflict.error)
            return error_reply(
                _("Someone changed the same thing at the same moment, and it kept happening, so nothing was saved. "
                  "Please try again in a moment."),
                spec.example_for(sender.files_by_path),
            )
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("/%s failed (incident %s)", command.verb, incident)
            return error_reply(
                _("Something went wrong on my side and nothing was saved (incident {incident}). "
                  "Please try again; if it keeps happening, tell your admin the incident number.", incident=incident)
            )
        self._after_commit(frozenset(written))
        return reply

    def _after_commit(self, written: frozenset[str]) -> None:
        for callback in self.services.after_commit:
            callback()
        for watcher in self.services.after_writing:
            watcher(written)

    def run_retrying(self, work: Callable[[Session], T], written: set[str] | None = None) -> T:
        """`work` in one transaction, committed; run again from the start (a fresh session) when it
        meets a conflicting write, `ATTEMPTS` times at most, then `Conflict`. Anything else rolls
        back and propagates. `written` receives the names of the tables the committed attempt wrote."""
        for attempt in range(1, ATTEMPTS + 1):
            with Session(self.services.engine, expire_on_commit=False) as session:
                try:
                    result = work(session)
                    dispatch(session)  # the course's domain events become history entries, in this transaction
                    session.flush()
                    changed = written_tables(session)
                    session.commit()
                    if written is not None:
                        written.update(changed)
                    return result
                except Exception as error:
                    session.rollback()
                    discard(session)
                    if not is_conflict(error):
                        raise
                    if attempt == ATTEMPTS:
                        raise Conflict(error) from error
                    log.info("conflicting write (attempt %d of %d): %s", attempt, ATTEMPTS, error.__class__.__name__)
            time.sleep(random.uniform(0.02, 0.08) * attempt)
        raise AssertionError("unreachable")

    def within(self, sender: Sender, work: Callable[[Context], T], *, as_command: str | None = None) -> T:
        """Run `work` as the sender, in one transaction, outside the chat (the command line's
        bulk import); errors propagate to the caller. With `as_command` (e.g. "/import") the
        sender must be allowed to run that command in the chat: the same permission table."""
        with Session(self.services.engine, expire_on_commit=False) as session:
            ctx = self._context(session, sender)
            if ctx.actor is None:
                raise NotAllowed(_("{name} is not on team {team}.", name=sender.display_name, team=ctx.team.name))
            if as_command is not None:
                command = parse_command(as_command)
                assert command is not None, f"not a command: {as_command!r}"
                spec = self.catalogue.get(command.verb)
                assert spec is not None, f"not a command in the catalogue: {as_command!r}"
                authorize(session, ctx.team.id, ctx.actor, command, spec.permission)  # type: ignore[arg-type]
            result = work(ctx)
            dispatch(session)
            session.flush()
            written = written_tables(session)
            session.commit()
        self._after_commit(written)
        return result

    def today_of(self, sender: Sender) -> date:
        """The sender's today, by the rule typed commands use (`Context.today`: their own time
        zone, else the team's): platforms check a date answer against it before it goes in."""
        with Session(self.services.engine) as session:
            return self._context(session, sender).today

    def _context(self, session: Session, sender: Sender) -> Context:
        linked = find_sender_and_team(session, sender)
        team = linked[1] if linked is not None else ensure_team(session, self.services)
        ctx = Context(session=session, services=self.services, team=team, sender=sender, now=self.services.clock.now())
        ctx.actor = linked[0] if linked is not None else first_contact(ctx)
        return ctx

    def _run(self, session: Session, sender: Sender, command: Command, spec: CommandSpec, once: Once | None = None) -> Reply:
        if once is not None and not claim_once(session, once.kind, once.key, once.ttl, self.services.clock.now()):
            raise Repeated(once.key)  # first: a repeat does nothing, not even fail the way its first run did not
        ctx = self._context(session, sender)
        team = ctx.team
        if ctx.actor is None:
            if spec.access[0].cells["stranger"] is Scope.NONE:
                raise NotAllowed(_(
                    "Sorry, you are not on team {team} yet, so I can't help with /{verb}. "
                    "Ask an admin to add you (/team add @yourname salesperson) and, on Telegram or Slack, to send you "
                    "an invite (/team invite @yourname); then /start <code> links this account.",
                    team=team.name, verb=spec.verb))
        else:
            if spec.changes_course and command.words:
                find_named_invoice(session, team.id, command.words[0], lock=True)  # type: ignore[arg-type]
            authorize(session, team.id, ctx.actor, command, spec.permission)  # type: ignore[arg-type]
        return spec.run(command, ctx)


def first_contact(ctx: Context) -> Person | None:
    """The team member behind a sender whose account is not linked yet: a handle the platform
    vouches for, or (on a fresh bot) the first person to write, who becomes the admin."""
    if ctx.sender.verified_handle:
        person = find_by_handle(ctx.session, ctx.team, ctx.sender.verified_handle)
        if person is not None and person.active:
            link_identity(ctx.session, person, ctx.sender, ctx.now)
            return person
    if team_size(ctx.session, ctx.team) == 0:
        lock_team(ctx.session, ctx.team)
        if team_size(ctx.session, ctx.team) == 0:  # still nobody, now that no one else can be adding
            return create_first_admin(ctx.session, ctx.team, ctx.sender, ctx.now)
    return None


def lock_team(session: Session, team: Team) -> None:
    """Hold the team's row until this transaction ends (a row lock on PostgreSQL, the write lock
    on SQLite), so that two first messages at the same moment make one admin, not two."""
    session.execute(update(Team).where(Team.id == team.id).values(name=Team.name))  # type: ignore[arg-type]


def ensure_team(session: Session, services: Services) -> Team:
    team = session.exec(select(Team).order_by(col(Team.id))).first()
    if team is None:
        settings = services.settings
        team = Team(
            name=settings.team_name,
            default_currency=settings.default_currency,
            default_timezone=settings.default_timezone,
            default_country=settings.default_country,
            default_language=settings.default_language,
            default_ladder=settings.default_ladder,
            created_at=services.clock.now(),
        )
        session.add(team)
        session.flush()
    return team


def unknown_command(verb: str, catalogue: dict[str, CommandSpec]) -> Reply:
    close = difflib.get_close_matches(verb, list(catalogue), n=1)
    if close:
        text = _("I don't know the command /{verb}. Did you mean /{close}? /help lists what I can do.", verb=verb, close=close[0])
    else:
        text = _("I don't know the command /{verb}. /help lists what I can do.", verb=verb)
    return error_reply(text,
                       catalogue[close[0]].example if close else "/help")
