"""The one entry point every adapter calls: text (or a pressed button) in, a `Reply` out."""
from __future__ import annotations

import difflib
import logging
import uuid
from collections.abc import Callable
from typing import TypeVar
from dataclasses import replace

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.models import Person, Team
from handlers.catalogue import Access, CommandSpec, build_catalogue
from handlers.context import Context, Sender, Services
from handlers.errors import NotAllowed, UsageError
from handlers.history import dispatch
from handlers.grammar import Command, IncomingFile, parse_arguments, parse_command
from handlers.people import create_first_admin, find_by_handle, find_sender, link_identity, team_size
from handlers.reply import Reply, error_reply
from scheduling.course_events import discard

log = logging.getLogger(__name__)
T = TypeVar("T")


class Core:
    def __init__(self, services: Services, extra_commands: list[CommandSpec] | None = None) -> None:
        self.services = services
        services.catalogue = build_catalogue(extra_commands)

    @property
    def catalogue(self) -> dict[str, CommandSpec]:
        return self.services.catalogue

    def handle_text(self, sender: Sender, text: str, files: tuple[IncomingFile, ...] = ()) -> Reply:
        command = parse_command(text)
        if command is None:
            return error_reply("I understand commands that start with /.", "/help")
        return self.handle(sender, replace(command, files=files) if files else command)

    def press(self, sender: Sender, action: str) -> Reply:
        """A pressed button: its action id is a command without the slash (`paid INV-1042`)."""
        verb, _, rest = action.partition(" ")
        return self.handle(sender, parse_arguments(verb, rest))

    def is_member(self, sender: Sender) -> bool:
        """Whether the sender's account is linked to an active team member (group chats answer
        members only)."""
        with Session(self.services.engine) as session:
            return find_sender(session, sender) is not None

    def handle(self, sender: Sender, command: Command) -> Reply:
        spec = self.catalogue.get(command.verb)
        if spec is None:
            return unknown_command(command.verb, self.catalogue)
        with Session(self.services.engine, expire_on_commit=False) as session:
            try:
                reply = self._run(session, sender, command, spec)
                dispatch(session)
                session.commit()
            except UsageError as error:
                session.rollback()
                discard(session)
                return error_reply(error.problem, error.example or spec.example)
            except NotAllowed as error:
                session.rollback()
                discard(session)
                return error_reply(str(error))
            except IntegrityError:
                session.rollback()
                discard(session)
                log.warning("conflicting write for /%s", command.verb, exc_info=True)
                return error_reply(
                    "Someone changed the same thing at the same moment, so nothing was saved. Please try again.",
                    spec.example,
                )
            except Exception:
                session.rollback()
                discard(session)
                incident = uuid.uuid4().hex[:8]
                log.exception("/%s failed (incident %s)", command.verb, incident)
                return error_reply(
                    f"Something went wrong on my side and nothing was saved (incident {incident}). "
                    "Please try again; if it keeps happening, tell your admin the incident number."
                )
        for callback in self.services.after_commit:
            callback()
        return reply

    def within(self, sender: Sender, work: Callable[[Context], T]) -> T:
        """Run `work` as the sender, in one transaction, outside the chat (the command line's
        bulk import); errors propagate to the caller."""
        with Session(self.services.engine, expire_on_commit=False) as session:
            ctx = self._context(session, sender)
            if ctx.actor is None:
                raise NotAllowed(f"{sender.display_name} is not on team {ctx.team.name}.")
            result = work(ctx)
            dispatch(session)
            session.commit()
        for callback in self.services.after_commit:
            callback()
        return result

    def _context(self, session: Session, sender: Sender) -> Context:
        ctx = Context(session=session, services=self.services, team=ensure_team(session, self.services), sender=sender,
                      now=self.services.clock.now())
        ctx.actor = identify(ctx)
        return ctx

    def _run(self, session: Session, sender: Sender, command: Command, spec: CommandSpec) -> Reply:
        ctx = self._context(session, sender)
        team = ctx.team
        if ctx.actor is None and spec.access is not Access.ANYONE:
            raise NotAllowed(
                f"Sorry, you are not on team {team.name} yet, so I can't help with /{spec.verb}. "
                f"Ask an admin to add you (/team add @yourname salesperson) and, on Telegram or Slack, to send you "
                "an invite (/team invite @yourname); then /start <code> links this account."
            )
        return spec.run(command, ctx)


def identify(ctx: Context) -> Person | None:
    """The team member behind the sender: a linked account, a handle the platform vouches for, or
    (on a fresh bot) the first person to write, who becomes the admin."""
    person = find_sender(ctx.session, ctx.sender)
    if person is not None:
        return person
    if ctx.sender.verified_handle:
        person = find_by_handle(ctx.session, ctx.team, ctx.sender.verified_handle)
        if person is not None and person.active:
            link_identity(ctx.session, person, ctx.sender, ctx.now)
            return person
    if team_size(ctx.session, ctx.team) == 0:
        return create_first_admin(ctx.session, ctx.team, ctx.sender, ctx.now)
    return None


def ensure_team(session: Session, services: Services) -> Team:
    team = session.exec(select(Team).order_by(Team.id)).first()
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
    hint = f" Did you mean /{close[0]}?" if close else ""
    return error_reply(f"I don't know the command /{verb}.{hint} /help lists what I can do.",
                       catalogue[close[0]].example if close else "/help")
