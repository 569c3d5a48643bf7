"""The App Home tab: the person's steps for today, their upcoming steps and, for managers, the
overdue summary — the core's own replies to those commands, refreshed each time the tab opens."""
from __future__ import annotations

from typing import Any

from bot.i18n import N_, translated
from bot.platforms.slack.render import render_blocks, section
from handlers.context import Sender
from handlers.core import Core

MAX_HOME_BLOCKS = 100
EVERYONE_SEES = ("today", "upcoming")
MANAGERS_SEE = ("overdue",)
NOT_LINKED = N_("You are not linked to the team yet. Ask an admin for an invite (`/collect team invite @you`), "
                "then send `/collect start <code>` here.")
TOO_MUCH = N_("… more than fits here; ask `/collect today` for the rest.")


def home_view(core: Core, sender: Sender) -> dict[str, Any]:
    """Blocking (it runs the core's commands): call it in a worker thread."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "collectbot"}}]
    language = core.language_of(sender)
    if not core.is_member(sender):
        blocks.append(section(translated(language, NOT_LINKED)))
        return {"type": "home", "blocks": blocks}
    manager = core.within(sender, lambda ctx: ctx.person.is_manager)
    verbs = [verb for verb in EVERYONE_SEES + (MANAGERS_SEE if manager else ()) if verb in core.catalogue]
    for verb in verbs or ["help"]:
        reply = core.handle_text(sender, f"/{verb}")
        reply.buttons.clear()  # the answers to buttons go to a conversation; the tab only shows
        blocks.extend(render_blocks(reply))
        blocks.append({"type": "divider"})
    if len(blocks) > MAX_HOME_BLOCKS:
        blocks = blocks[:MAX_HOME_BLOCKS - 1] + [section(translated(language, TOO_MUCH))]
    return {"type": "home", "blocks": blocks}
