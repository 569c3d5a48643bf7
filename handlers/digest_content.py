"""What a digest says: the overdue summary (/digest) or the morning list of today's steps."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.i18n import _, speaking
from bot.store.models import Person, Team
from handlers.agenda import today
from handlers.context import Context, Sender, Services
from bot.floor.dates import show_moment
from handlers.grammar import Command
from bot.floor.reply import Paragraph, Reply
from handlers.reports import overdue_summary
from scheduling.digests import ComposeDigest


def compose_digest(services: Services) -> ComposeDigest:
    def compose(session: Session, person: Person, kind: str, now: datetime, late_since: datetime | None) -> Reply | None:
        team = session.get(Team, person.team_id)
        assert team is not None
        ctx = Context(session=session, services=services, team=team, now=now, actor=person,
                      sender=Sender(platform="digest", external_id=str(person.id), display_name=person.handle))
        with speaking(person.language) as language:
            if kind == "morning":
                reply = today(Command("today"), ctx)
                reply.title = _("Good morning — {title}", title=reply.title)
            else:
                reply = overdue_summary(Command("overdue"), ctx)
                reply.title = _("Digest · {title}", title=reply.title)
            if late_since is not None:
                reply.blocks.insert(0, Paragraph(_("Late: this was due {when}, while I was not running.",
                                                   when=show_moment(late_since, person.timezone, ctx.locale))))
        reply.language = language
        return reply

    return compose
