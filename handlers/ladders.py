"""/ladders: the ladder policies this team can use, and what each step does when."""
from __future__ import annotations

from babel.dates import format_timedelta

from bot.i18n import _, ngettext
from handlers.context import Context
from bot.floor.errors import UsageError
from handlers.grammar import Command
from handlers.drafts import STAGE_NAMES, TONE_NAMES
from handlers.state_names import action_name, responsible_name
from bot.floor.reply import BulletList, Reply, Table
from scheduling.policies import StepPolicy, When

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
            tuple((str(n), _(s.name), when_text(s.when, ctx.locale), action_name(s.action.value),
                   responsible_name(s.responsible.value), draft_text(s)) for n, s in enumerate(policy.steps, start=1)),
        ))
    default = ctx.team.default_ladder
    return Reply(title=_("Ladders ({count})", count=len(ladders))).add(BulletList(tuple(
        (ngettext("{name} (team default): {n} step — {description}", "{name} (team default): {n} steps — {description}",
                  len(policy.steps), name=policy.name, description=_(policy.description)) if policy.name == default else
         ngettext("{name}: {n} step — {description}", "{name}: {n} steps — {description}", len(policy.steps),
                  name=policy.name, description=_(policy.description)))
        for policy in sorted(ladders.values(), key=lambda p: p.name)
    ))).say(_("Pick one with /add … ladder=<name>; see one with /ladders <name>."))


def when_text(when: When, locale: str) -> str:
    """When a step goes out, in the reader's language ("3 business days before due at 10:00");
    the plural of "business day" from the catalog, a plain duration from Babel."""
    at = f"{when.at:%H:%M}"
    if when.business_days is not None:
        days = when.business_days
        if days == 0:
            return _("on the due date at {time}", time=at)
        if days < 0:
            return ngettext("{n} business day before due at {time}", "{n} business days before due at {time}", -days, time=at)
        return ngettext("{n} business day after due at {time}", "{n} business days after due at {time}", days, time=at)
    if when.after_previous_business_days is not None:
        return ngettext("{n} business day after the previous step at {time}", "{n} business days after the previous step at {time}",
                        when.after_previous_business_days, time=at)
    assert when.after_previous is not None
    return _("{duration} after the previous step", duration=format_timedelta(when.after_previous, locale=locale))


def draft_text(step: StepPolicy) -> str:
    """The draft a step prepares: its stage and tone, as the ping's draft heading names them."""
    stage, tone = _(STAGE_NAMES.get(step.stage, step.stage)), _(TONE_NAMES.get(step.tone, step.tone))
    return _("{stage} / {tone}", stage=stage, tone=tone)
