"""Who wrote and what they wrote, as the core understands it.

Slack users are linked by team id + user id (`T…:U…`), never by display name. Slack sends command
text escaped (`&amp;`, `&lt;`, `&gt;`) with people, channels and links encoded as `<@U…|name>`,
`<#C…|name>`, `<!here>`, `<https://…|label>`; the core wants plain text, and a person as a
mention it can resolve (`@slack:T…:U…`, see handlers/people.py).
"""
from __future__ import annotations

import re
from typing import Any

from handlers.context import Sender

PLATFORM = "slack"
_ENCODED = re.compile(r"<([@#!]?)([^>|]*)(?:\|([^>]*))?>")


def external_id(team_id: str, user_id: str) -> str:
    return f"{team_id}:{user_id}"


def is_direct_message(channel: str | None) -> bool:
    return bool(channel and channel.startswith("D"))


def sender_from(team_id: str, user_id: str, name: str | None = None, channel: str | None = None) -> Sender:
    return Sender(platform=PLATFORM, external_id=external_id(team_id, user_id), display_name=name or user_id,
                  chat_id=user_id, in_group=bool(channel) and not is_direct_message(channel))


def team_and_user(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """Team id, user id and user name from a slash command, an interaction or an event."""
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    team = body.get("team_id") or (body.get("team") or {}).get("id") or user.get("team_id") or ""
    user_id = body.get("user_id") or user.get("id") or (body.get("event") or {}).get("user") or ""
    name = body.get("user_name") or user.get("username") or user.get("name")
    return team, user_id, name


def plain_text(text: str, team_id: str) -> str:
    """Slack's encoded text as the plain text a person typed; people become `@slack:T…:U…`."""

    def decode(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "@":
            return f"@slack:{external_id(team_id, target)}"
        if sigil == "#":
            return f"#{label or target}"
        if sigil == "!":
            return label or f"@{target}"  # <!here>, <!subteam^S1|@sales>: as words, never a broadcast
        return label or target.removeprefix("mailto:")

    decoded = _ENCODED.sub(decode, text)
    return decoded.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def command_text(text: str, team_id: str) -> str:
    """`/collect add …` → `/add …`; `/collect` alone → `/help`."""
    return "/" + (plain_text(text, team_id) or "help")
