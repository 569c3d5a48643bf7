"""/start and /help."""
from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING

from bot.i18n import _, supported_language
from handlers.context import Context
from bot.floor.dates import DATE_FORMS
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.invites import redeem
from bot.floor.money import AMOUNT_FORMS
from bot.floor.reply import BulletList, Facts, Reply

if TYPE_CHECKING:
    from handlers.catalogue import CommandSpec


def start(command: Command, ctx: Context) -> Reply:
    """Greet; tell a newcomer how to join."""
    if ctx.actor is None and command.words:
        ctx.actor = redeem(command.words[0], ctx)
        hinted = supported_language(ctx.sender.language_hint)
        if hinted and ctx.actor.language == ctx.team.default_language:  # nobody chose for them: their app's
            ctx.actor.language = hinted
        reply = Reply(title=_("Welcome, @{handle}: your account is linked", handle=ctx.actor.handle))
        return reply.say(_("I'll ping you here when a ladder step is yours. /today shows your steps, /help every command."))
    reply = Reply(title=_("Hello, I'm collectbot"))
    reply.say(_(
        "I make sure unpaid invoices get chased on time, politely and step by step: I ping the right person "
        "at the exact time of each step of the ladder, with what to do and a draft to use."
    ))
    if ctx.actor is None:
        if ctx.sender.verified_handle:
            reply.say(_("You are not on team {team} yet. Ask an admin to add you (/team add @yourname salesperson), "
                        "then write /start again.", team=ctx.team.name))
        else:  # a chat account is linked with an invite, not by the name it shows
            reply.say(_("You are not on team {team} yet. Ask an admin to add you (/team add @yourname salesperson) "
                        "and to invite you (/team invite @yourname); then open the link or write /start <code>.",
                        team=ctx.team.name))
        return reply
    if ctx.actor.is_admin:
        reply.say(_("You are an admin of team {team}. Add your colleagues with /team add @bob salesperson.",
                    team=ctx.team.name))
    reply.say(_("Add your first invoice like this: {example}",
                example="/add INV-1042 1200.50 EUR 2026-12-01 Acme Trading Ltd"))
    reply.say(_("/help lists every command."))
    return reply


def help_command(command: Command, ctx: Context) -> Reply:
    """Every command with an example; `/help <command>` for one in detail. Both read the catalogue."""
    catalogue = ctx.services.catalogue
    by_path = ctx.sender.files_by_path
    if command.words:
        verb = command.words[0].lstrip("/").lower()
        spec = catalogue.get(verb)
        if spec is None:
            raise UsageError(_("There is no /{verb} command. /help lists them all.", verb=verb), "/help add")
        return command_help(spec, by_path)
    reply = Reply(title=_("What I can do"))
    ordered = sorted(catalogue.values(), key=lambda spec: spec.group)
    for group, specs in groupby(ordered, key=lambda spec: spec.group):
        reply.add(BulletList(tuple(_("/{verb} — {summary}. Example: {example}", verb=spec.verb, summary=_(spec.summary),
                                     example=_(spec.example_for(by_path))) for spec in specs), title=_(group)))
    reply.say(_("Dates: {dates}. Amounts: {amounts}.", dates=_(DATE_FORMS), amounts=_(AMOUNT_FORMS)))
    return reply


def command_help(spec: CommandSpec, by_path: bool) -> Reply:
    """One command in full: what it does, how it is written (every form and option) and examples."""
    reply = Reply(title=f"/{spec.verb}").say(_("{summary}.", summary=_(spec.summary)))
    if spec.details:
        reply.say(_(spec.details).replace("`", ""))
    reply.add(Facts(((_("Usage"), spec.usage_for(by_path)), (_("Example"), _(spec.example_for(by_path))))))
    if spec.forms:
        reply.add(BulletList(tuple(_("{usage} — {summary}. Example: {example}", usage=form.usage, summary=_(form.summary),
                                     example=_(form.example)) for form in spec.forms), title=_("Also")))
    return reply
