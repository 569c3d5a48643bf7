"""/ladders: the ladder policies this team can use, and what each step does when."""
from __future__ import annotations

from bot.i18n import _, ngettext
from handlers.context import Context
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.state_names import action_name
from bot.floor.reply import BulletList, Reply, Table

LADDERS_EXAMPLE = "/ladders standard"


def list_ladders(command: Command, ctx: Context) -> Reply:
    ladders = ctx.services.ladders
    if command.words:
        name = command.words[0].lower()
        if name not in ladders:
            raise UsageError(_("There is no ladder called {name!r}; ladders: {ladders}.", name=name, ladders=", ".join(sorted(ladders))),
                             LADDERS_EXAMPLE)
        policy = ladders[name]
        reply = Reply(title=ngettext("Ladder {name}: {n} step", "Ladder {name}: {n} steps", len(policy.steps),
                                     name=policy.name)).say(_(policy.description))
        return reply.add(Table(
            ("#", _("Step"), _("When"), _("Action"), _("Who"), _("Draft")),
            tuple((str(n), _(s.name), s.when.describe(), action_name(s.action.value), s.responsible.value, f"{s.stage} / {s.tone}")
                  for n, s in enumerate(policy.steps, start=1)),
        ))
    default = ctx.team.default_ladder
    return Reply(title=_("Ladders ({count})", count=len(ladders))).add(BulletList(tuple(
        (ngettext("{name} (team default): {n} step — {description}", "{name} (team default): {n} steps — {description}",
                  len(policy.steps), name=policy.name, description=_(policy.description)) if policy.name == default else
         ngettext("{name}: {n} step — {description}", "{name}: {n} steps — {description}", len(policy.steps),
                  name=policy.name, description=_(policy.description)))
        for policy in sorted(ladders.values(), key=lambda p: p.name)
    ))).say(_("Pick one with /add … ladder=<name>; see one with /ladders <name>."))
