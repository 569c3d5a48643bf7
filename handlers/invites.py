"""Linking chat accounts to team members: an admin's one-time invite code, redeemed with
`/start <code>` (on Telegram, through the deep link `t.me/<bot>?start=<code>`)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import select

from bot.i18n import _, ngettext
from bot.store.models import ChatIdentity, Invite, Person
from handlers.context import Context
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.people import link_identity, resolve_mention
from bot.floor.reply import Facts, Reply

INVITE_EXAMPLE = "/team invite @bob"
VALID_FOR = timedelta(days=7)


def invite(command: Command, ctx: Context) -> Reply:
    if not command.mentions:
        raise UsageError(_("Whom should I invite? Mention a team member (add them first with /team add)."), INVITE_EXAMPLE)
    person = resolve_mention(ctx.session, ctx.team, command.mentions[0], INVITE_EXAMPLE)
    code = secrets.token_urlsafe(12)
    ctx.session.add(Invite(code=code, person_id=person.id, created_at=ctx.now, expires_at=ctx.now + VALID_FOR))  # type: ignore[arg-type]
    facts = [(_("Code"), code), (_("Anywhere"), _("send me /start {code}", code=code))]
    facts.extend((_(label), link(code)) for label, link in ctx.services.invite_links.items())
    return Reply(title=_("Invite for @{handle}", handle=person.handle), private=True, blocks=[Facts(tuple(facts))]).say(
        ngettext("Send this to @{handle}; it works once, within {n} day.", "Send this to @{handle}; it works once, within {n} days.",
                 VALID_FOR.days, handle=person.handle))


def redeem(code: str, ctx: Context) -> Person:
    """Link the sender's account to the invited person; the code is used up."""
    found = ctx.session.get(Invite, code)
    if found is None or found.used_at is not None or found.expires_at < ctx.now:
        raise UsageError(_("That invite code is unknown, used or expired. Ask your admin for a new one."), "/start")
    person = ctx.session.get(Person, found.person_id)
    if person is None or not person.active:
        raise UsageError(_("That invite is for someone no longer on the team."), "/start")
    already = ctx.session.exec(select(ChatIdentity).where(
        ChatIdentity.platform == ctx.sender.platform, ChatIdentity.external_id == ctx.sender.external_id)).first()
    if already is not None:
        raise UsageError(_("This account is already linked to a team member."), "/start")
    found.used_at = ctx.now
    ctx.session.add(found)
    link_identity(ctx.session, person, ctx.sender, ctx.now)
    return person
