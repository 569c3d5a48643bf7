"""/digest: a summary pushed at a set time in your own zone (daily, or weekly on a day), or off."""
from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.i18n import N_, _
from bot.store.models import DigestSubscription
from handlers.context import Context
from bot.floor.dates import show_moment, weekday_number
from bot.floor.errors import UsageError
from handlers.grammar import Command
from bot.floor.reply import Reply
from scheduling.digests import DigestPlan

DIGEST_EXAMPLE = "/digest weekly mon 08:30"
DIGEST_USAGE = "/digest | /digest daily 08:30 | /digest weekly mon 08:30 | /digest off"
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


def digest_command(command: Command, ctx: Context) -> Reply:
    words = [word.lower() for word in command.words]
    current = ctx.session.get(DigestSubscription, ctx.person.id)
    if not words:
        if current is None:
            return Reply(title=_("No digest")).say(_("Ask for one with /digest daily 08:30 or {example}.", example=DIGEST_EXAMPLE))
        return Reply(title=_("Your digest")).say(describe(current, ctx))
    if words == ["off"]:
        if current is not None:
            ctx.session.delete(current)
        return Reply(title=_("Digest off")).say(_("No more digests; /digest daily 08:30 starts them again."))
    cadence = words.pop(0)
    if cadence not in ("daily", "weekly"):
        raise UsageError(_("{cadence!r}: a digest is daily, weekly or off.", cadence=cadence), DIGEST_EXAMPLE)
    weekday = None
    if cadence == "weekly":
        weekday = weekday_number(words.pop(0)) if words else None
        if weekday is None:
            raise UsageError(_("A weekly digest needs a day: mon, tue, wed, thu, fri, sat or sun (or its name in your language)."),
                             DIGEST_EXAMPLE)
    if len(words) != 1 or not (match := _TIME.match(words[0])):
        raise UsageError(_("Give the time as HH:MM in your own time zone, like 08:30."), DIGEST_EXAMPLE)
    at = time(int(match.group(1)), int(match.group(2)))
    subscription = current or DigestSubscription(person_id=ctx.person.id, cadence=cadence, at=at, created_at=ctx.now)  # type: ignore[arg-type]
    subscription.cadence, subscription.weekday, subscription.at, subscription.created_at = cadence, weekday, at, ctx.now
    ctx.session.add(subscription)
    return Reply(title=_("Digest set")).say(describe(subscription, ctx))


def describe(subscription: DigestSubscription, ctx: Context) -> str:
    weekly = subscription.cadence == "weekly"
    plan = DigestPlan(ctx.person.id, "digest", (subscription.weekday,) if weekly else tuple(range(7)),  # type: ignore[arg-type]
                      subscription.at, ctx.person.timezone, weekly)
    following = plan.next_after(ctx.now)
    next_text = show_moment(following, ctx.person.timezone, ctx.locale) if following else "?"
    when = _(EVERY_WEEKDAY[subscription.weekday]) if weekly and subscription.weekday is not None else _("every day")
    at = subscription.at.strftime("%H:%M")
    return _("The overdue summary {when} at {time} ({zone}); next: {next}. /digest off stops it.", when=when,
             time=at, zone=ctx.person.timezone, next=next_text)


EVERY_WEEKDAY = (N_("every Mon"), N_("every Tue"), N_("every Wed"), N_("every Thu"), N_("every Fri"), N_("every Sat"),
                 N_("every Sun"))
"""Whole phrases, not "every" + a day name: languages decline the day ("каждую среду", "по понедельникам")."""


def local_now(ctx: Context) -> datetime:
    return ctx.now.astimezone(ZoneInfo(ctx.person.timezone))
