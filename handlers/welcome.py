"""/start and /help."""
from __future__ import annotations

from itertools import groupby

from handlers.context import Context
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.invites import redeem
from bot.floor.reply import BulletList, Facts, Reply


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
    """Every command with an example; `/help <command>` for one in detail."""
    catalogue = ctx.services.catalogue
    if command.words:
        verb = command.words[0].lstrip("/").lower()
        spec = catalogue.get(verb)
        if spec is None:
            raise UsageError(f"There is no /{verb} command. /help lists them all.", "/help add")
        return Reply(title=f"/{spec.verb}").say(spec.summary).add(Facts((("Usage", spec.usage), ("Example", spec.example))))
    reply = Reply(title="What I can do")
    ordered = sorted(catalogue.values(), key=lambda spec: spec.group)
    for group, specs in groupby(ordered, key=lambda spec: spec.group):
        reply.add(BulletList(tuple(f"/{spec.verb} — {spec.summary}. Example: {spec.example}" for spec in specs), title=group))
    reply.say("Dates: 2026-12-01, 01.12.2026 or +30d. Amounts: 1200.50, 1,200.50, 1 200,50 or 1.200,50.")
    return reply
