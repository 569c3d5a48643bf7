"""/ladders: the ladder policies this team can use, and what each step does when."""
from __future__ import annotations

from handlers.context import Context
from bot.floor.errors import UsageError
from handlers.grammar import Command
from bot.floor.reply import BulletList, Reply, Table

LADDERS_EXAMPLE = "/ladders standard"


def list_ladders(command: Command, ctx: Context) -> Reply:
    ladders = ctx.services.ladders
    if command.words:
        name = command.words[0].lower()
        if name not in ladders:
            raise UsageError(f"There is no ladder called {name!r}; ladders: {', '.join(sorted(ladders))}.", LADDERS_EXAMPLE)
        policy = ladders[name]
        reply = Reply(title=f"Ladder {policy.name}: {len(policy.steps)} steps").say(policy.description)
        return reply.add(Table(
            ("#", "Step", "When", "Action", "Who", "Draft"),
            tuple((str(n), s.name, s.when.describe(), s.action.value, s.responsible.value, f"{s.stage} / {s.tone}")
                  for n, s in enumerate(policy.steps, start=1)),
        ))
    default = ctx.team.default_ladder
    return Reply(title=f"Ladders ({len(ladders)})").add(BulletList(tuple(
        f"{policy.name}{' (team default)' if policy.name == default else ''}: {len(policy.steps)} steps — {policy.description}"
        for policy in sorted(ladders.values(), key=lambda p: p.name)
    ))).say("Pick one with /add … ladder=<name>; see one with /ladders <name>.")
