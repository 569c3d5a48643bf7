"""/start and /help."""
from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING

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
        reply = Reply(title=f"Welcome, @{ctx.actor.handle}: your account is linked")
        return reply.say("I'll ping you here when a ladder step is yours. /today shows your steps, /help every command.")
    reply = Reply(title="Hello, I'm collectbot")
    reply.say(
        "I make sure unpaid invoices get chased on time, politely and step by step: I ping the right person "
        "at the exact time of each step of the ladder, with what to do and a draft to use."
    )
    if ctx.actor is None:
        if ctx.sender.verified_handle:
            then = "then write /start again"
        else:  # a chat account is linked with an invite, not by the name it shows
            then = "and to invite you (/team invite @yourname); then open the link or write /start <code>"
        reply.say(f"You are not on team {ctx.team.name} yet. Ask an admin to add you (/team add @yourname salesperson) {then}.")
        return reply
    if ctx.actor.is_admin:
        reply.say(f"You are an admin of team {ctx.team.name}. Add your colleagues with /team add @bob salesperson.")
    reply.say("Add your first invoice like this: /add INV-1042 1200.50 EUR 2026-12-01 Acme Trading Ltd")
    reply.say("/help lists every command.")
    return reply


def help_command(command: Command, ctx: Context) -> Reply:
    """Every command with an example; `/help <command>` for one in detail. Both read the catalogue."""
    catalogue = ctx.services.catalogue
    by_path = ctx.sender.files_by_path
    if command.words:
        verb = command.words[0].lstrip("/").lower()
        spec = catalogue.get(verb)
        if spec is None:
            raise UsageError(f"There is no /{verb} command. /help lists them all.", "/help add")
        return command_help(spec, by_path)
    reply = Reply(title="What I can do")
    ordered = sorted(catalogue.values(), key=lambda spec: spec.group)
    for group, specs in groupby(ordered, key=lambda spec: spec.group):
        reply.add(BulletList(tuple(f"/{spec.verb} — {spec.summary}. Example: {spec.example_for(by_path)}" for spec in specs),
                             title=group))
    reply.say(f"Dates: {DATE_FORMS}. Amounts: {AMOUNT_FORMS}.")
    return reply


def command_help(spec: CommandSpec, by_path: bool) -> Reply:
    """One command in full: what it does, how it is written (every form and option) and examples."""
    reply = Reply(title=f"/{spec.verb}").say(spec.summary + ".")
    if spec.details:
        reply.say(spec.details.replace("`", ""))
    reply.add(Facts((("Usage", spec.usage_for(by_path)), ("Example", spec.example_for(by_path)))))
    if spec.forms:
        reply.add(BulletList(tuple(f"{form.usage} — {form.summary}. Example: {form.example}" for form in spec.forms),
                             title="Also"))
    return reply
