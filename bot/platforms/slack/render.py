"""A `Reply` as Slack Block Kit: user text escaped for mrkdwn once, here (`&`, `<`, `>`, so a
customer called `<!channel>` notifies nobody); drafts in a preformatted section to copy; buttons
in actions blocks."""
from __future__ import annotations

import json
from typing import Any, assert_never

from bot.i18n import translated
from bot.i18n.labels import EXAMPLE, NONE, SHORTENED, SUBJECT
from bot.platforms.text import render_table
from bot.floor.reply import BulletList, Button, DraftText, Facts, Paragraph, Reply, Table

MAX_BLOCKS = 50
MAX_TEXT = 2900
FIELDS_PER_SECTION = 10
BUTTONS_PER_ROW = 5
ACTION_PREFIX = "collect_"
ASKS = "ask:"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def escaped_chunks(text: str, room: int) -> list[str]:
    """The text escaped and cut at line ends into pieces of at most `room` characters (a line
    longer than that is cut after a space where it can be, never inside an entity such as `&amp;`)."""
    pieces: list[str] = []
    for line in text.splitlines() or [""]:
        escaped = [escape(char) for char in line]
        while escaped:
            taken, size = 0, 0
            while taken < len(escaped) and size + len(escaped[taken]) <= room:
                size += len(escaped[taken])
                taken += 1
            if taken < len(escaped) and " " in escaped[:taken]:
                taken = len(escaped[:taken]) - escaped[:taken][::-1].index(" ")  # after the last space that fits
            pieces.append("".join(escaped[:taken]))
            escaped = escaped[taken:]
        if not line:
            pieces.append("")
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= room:
            chunks[-1] += "\n" + piece
        else:
            chunks.append(piece)
    return chunks


def sections(text: str, prefix: str = "") -> list[dict[str, Any]]:
    """Plain text as mrkdwn sections, as many as its length needs."""
    return [section(prefix + chunk if n == 0 else chunk) for n, chunk in enumerate(escaped_chunks(text, MAX_TEXT - len(prefix)))]


def preformatted(text: str) -> list[dict[str, Any]]:
    return [section(f"```{chunk}```") for chunk in escaped_chunks(text, MAX_TEXT - 6)]


def button_value(button: Button) -> str:
    """A plain button carries its command; one that asks carries the whole button (for the modal)."""
    if button.asks:
        return ASKS + json.dumps({"label": button.label, "action": button.action, "asks": button.asks, "input": button.input})
    return button.action


def pressed_button(value: str) -> Button:
    if value.startswith(ASKS):
        return Button(**json.loads(value[len(ASKS):]))
    return Button(label="", action=value)


def content_blocks(reply: Reply) -> list[dict[str, Any]]:
    """Everything but the buttons, however many blocks that takes."""
    blocks: list[dict[str, Any]] = []
    if reply.title:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": (("⚠ " if reply.is_error else "") + reply.title)[:150]}})
    for index, block in enumerate(reply.blocks):
        match block:
            case Paragraph():
                warn = "⚠ " if reply.is_error and not reply.title and index == 0 else ""
                blocks.extend(sections(block.text, warn))
            case Facts():
                items = [{"type": "mrkdwn", "text": f"*{escape(label)}*\n{escape(value)}"[:2000]} for label, value in block.items]
                for start in range(0, len(items), FIELDS_PER_SECTION):
                    blocks.append({"type": "section", "fields": items[start:start + FIELDS_PER_SECTION]})
            case Table():
                blocks.extend(preformatted(render_table(block)))
            case BulletList():
                if block.title:
                    blocks.append(section(f"*{escape(block.title)}*"[:MAX_TEXT]))
                blocks.extend(sections("\n".join(f"• {item}" for item in block.items) or translated(reply.language, NONE)))
            case DraftText():
                subject = escape(translated(reply.language, SUBJECT))
                heading = f"*{escape(block.label)}*" + (f"\n*{subject}:* {escape(block.subject)}" if block.subject else "")
                blocks.append(section(heading))
                blocks.extend(preformatted(block.text))
            case _:
                assert_never(block)
    if reply.example:
        example = f"{escape(translated(reply.language, EXAMPLE))}: `{escape(reply.example)}`"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": example}]})
    return blocks


def action_blocks(reply: Reply) -> list[dict[str, Any]]:
    """The buttons, a few per actions block."""
    buttons = [
        {"type": "button", "text": {"type": "plain_text", "text": button.label[:75]}, "action_id": f"{ACTION_PREFIX}{n}",
         "value": button_value(button)[:2000]}
        for n, button in enumerate(reply.buttons)
    ]
    return [{"type": "actions", "elements": buttons[start:start + BUTTONS_PER_ROW]}
            for start in range(0, len(buttons), BUTTONS_PER_ROW)]


def render_blocks(reply: Reply) -> list[dict[str, Any]]:
    """One message's blocks: a reply longer than Slack's 50 blocks is shortened, and says so
    (command answers; pings are split instead, see render_messages)."""
    blocks = content_blocks(reply)
    actions = action_blocks(reply)
    room = MAX_BLOCKS - len(blocks) - len(actions)
    if room < 0:
        blocks = blocks[:room - 1] + [section(escape(translated(reply.language, SHORTENED)))]
    return blocks + actions


def render_messages(reply: Reply, max_blocks: int = MAX_BLOCKS) -> list[list[dict[str, Any]]]:
    """The reply as as many messages as Slack's block limit needs, nothing dropped: the content
    in order, the buttons with the last part."""
    blocks = content_blocks(reply)
    actions = action_blocks(reply)
    messages: list[list[dict[str, Any]]] = []
    for start in range(0, len(blocks), max_blocks):
        messages.append(blocks[start:start + max_blocks])
    for start in range(0, len(actions), max_blocks):
        chunk = actions[start:start + max_blocks]
        if messages and len(messages[-1]) + len(chunk) <= max_blocks:
            messages[-1].extend(chunk)
        else:
            messages.append(chunk)
    return messages or [[section("…")]]


def fallback_text(reply: Reply) -> str:
    """The notification text (and what screen readers read)."""
    first = next((b.text for b in reply.blocks if isinstance(b, Paragraph)), "")
    return escape(reply.title or first or "collectbot")[:300]
