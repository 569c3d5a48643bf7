"""A `Reply` as Telegram HTML: every user string escaped once, here; long replies split into
messages under Telegram's 4096-character limit at block boundaries, never inside a tag."""
from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.console.render import render_table
from handlers.reply import BulletList, DraftText, Facts, Paragraph, Reply, Table

LIMIT = 4096
BUTTONS_PER_ROW = 3


def render_blocks(reply: Reply) -> list[str]:
    """Each block as self-contained HTML (its tags open and close inside it)."""
    parts: list[str] = []
    if reply.title:
        parts.append(f"<b>{'⚠ ' if reply.is_error else ''}{escape(reply.title)}</b>")
    for index, block in enumerate(reply.blocks):
        if isinstance(block, Paragraph):
            warn = "⚠ " if reply.is_error and not reply.title and index == 0 else ""
            parts.append(warn + escape(block.text))
        elif isinstance(block, Facts):
            parts.append("\n".join(f"<b>{escape(label)}:</b> {escape(value)}" for label, value in block.items))
        elif isinstance(block, Table):
            parts.extend(preformatted(render_table(block)))
        elif isinstance(block, BulletList):
            lines = [f"<b>{escape(block.title)}</b>"] if block.title else []
            lines.extend(f"• {escape(item)}" for item in block.items) if block.items else lines.append("(none)")
            parts.append("\n".join(lines))
        elif isinstance(block, DraftText):
            heading = f"<b>{escape(block.label)}</b>" + (f"\n<b>Subject:</b> {escape(block.subject)}" if block.subject else "")
            parts.append(heading)
            parts.extend(preformatted(block.text))
    if reply.example:
        parts.append(f"Example: <code>{escape(reply.example)}</code>")
    return [part for part in parts if part]


def preformatted(text: str, limit: int = LIMIT - 100) -> list[str]:
    """Text in <pre> blocks (tap to copy in Telegram), split by lines to stay under the limit."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines() or [""]:
        escaped = escape(line)[:limit]
        if current and size + len(escaped) + 1 > limit:
            chunks.append("<pre>" + "\n".join(current) + "</pre>")
            current, size = [], 0
        current.append(escaped)
        size += len(escaped) + 1
    chunks.append("<pre>" + "\n".join(current) + "</pre>")
    return chunks


def render_messages(reply: Reply, limit: int = LIMIT) -> list[str]:
    """The reply as one or more messages, each at most `limit` characters."""
    messages: list[str] = []
    current = ""
    for block in (piece for whole in render_blocks(reply) for piece in split_block(whole, limit)):
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current or not messages:
        messages.append(current or "…")
    return messages


def split_block(block: str, limit: int) -> list[str]:
    """A block too long for one message, split between lines (each line closes its own tags);
    a single over-long line of plain text is cut, never inside an HTML entity."""
    if len(block) <= limit:
        return [block]
    pieces: list[str] = []
    current = ""
    for line in block.split("\n"):
        while len(line) > limit:
            cut = limit
            amp = line.rfind("&", limit - 8, limit)
            if amp != -1 and ";" not in line[amp:limit]:
                cut = amp
            pieces.append(line[:cut])
            line = line[cut:]
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """(label, callback data) pairs as an inline keyboard, a few per row."""
    if not buttons:
        return None
    rows = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in buttons[start:start + BUTTONS_PER_ROW]]
        for start in range(0, len(buttons), BUTTONS_PER_ROW)
    ]
    return InlineKeyboardMarkup(rows)
