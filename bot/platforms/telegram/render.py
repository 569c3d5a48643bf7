"""A `Reply` as Telegram HTML: every user string escaped once, here; long replies split into
messages under Telegram's 4096-character limit, never inside a tag or an entity.

Telegram counts its limits (text, captions, callback answers) in UTF-16 code units, so an emoji
counts twice; every length here is counted so (`utf16_len`). Every line this module writes closes
the tags it opens and is at most LINE_LIMIT units long (over-long text is wrapped between
characters, at a space when there is one), so a reply can always be split between lines."""
from __future__ import annotations

from html import escape
from typing import assert_never

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import translated
from bot.i18n.labels import EXAMPLE, NONE, SUBJECT
from bot.platforms.text import render_table
from bot.floor.reply import BulletList, DraftText, Facts, Paragraph, Reply, Table

LIMIT = 4096
LINE_LIMIT = 3800
"""Room for the longest line plus its tags (`<pre>`, a bold label) within LIMIT."""
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
BUTTONS_PER_ROW = 3


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (a character beyond the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units (never inside a character), with … when cut."""
    if utf16_len(text) <= limit:
        return text
    kept, size = [], 1
    for char in text:
        size += 2 if ord(char) > 0xFFFF else 1
        if size > limit:
            break
        kept.append(char)
    return "".join(kept) + "…"


def wrap(text: str, limit: int = LINE_LIMIT) -> list[str]:
    """Plain text as escaped lines of at most `limit` characters each."""
    lines: list[str] = []
    for raw in text.split("\n"):
        parts = [escape(char) for char in raw]
        start, size, space = 0, 0, -1
        for index, part in enumerate(parts):
            if size + utf16_len(part) > limit:
                cut = space + 1 if space >= start else index
                lines.append("".join(parts[start:cut]))
                start, space = cut, -1
                size = sum(utf16_len(p) for p in parts[start:index])
            size += utf16_len(part)
            if raw[index] == " ":
                space = index
        lines.append("".join(parts[start:]))
    return lines


def tagged(tag: str, text: str) -> str:
    """`text` inside `<tag>`, each line closing its own tag."""
    return "\n".join(f"<{tag}>{line}</{tag}>" if line else "" for line in wrap(text))


def render_blocks(reply: Reply) -> list[str]:
    """Each block as HTML lines that open and close their own tags."""
    parts: list[str] = []
    if reply.title:
        parts.append(tagged("b", ("⚠ " if reply.is_error else "") + reply.title))
    for index, block in enumerate(reply.blocks):
        match block:
            case Paragraph():
                warn = "⚠ " if reply.is_error and not reply.title and index == 0 else ""
                parts.append("\n".join(wrap(warn + block.text)))
            case Facts():
                parts.append("\n".join(fact(label, value) for label, value in block.items))
            case Table():
                parts.extend(preformatted(render_table(block)))
            case BulletList():
                lines = [tagged("b", block.title)] if block.title else []
                for item in block.items:
                    first, *rest = wrap(item)
                    lines.extend([f"• {first}", *rest])
                parts.append("\n".join(lines if block.items else [*lines, translated(reply.language, NONE)]))
            case DraftText():
                subject = translated(reply.language, SUBJECT)
                parts.append(tagged("b", block.label) + (f"\n{fact(subject, block.subject)}" if block.subject else ""))
                parts.extend(preformatted(block.text))
            case _:
                assert_never(block)
    if reply.example:
        parts.append(f"{escape(translated(reply.language, EXAMPLE))}: <code>{escape(reply.example)}</code>")
    return [part for part in parts if part]


def fact(label: str, value: str) -> str:
    """`Label: value` with the label in bold; a long value continues on the following lines."""
    first, *rest = wrap(value, LINE_LIMIT - utf16_len(escape(label)) - 10)
    return "\n".join([f"<b>{escape(label)}:</b> {first}", *rest])


def preformatted(text: str, limit: int = LINE_LIMIT) -> list[str]:
    """Text in <pre> blocks (tap to copy in Telegram), split between lines to stay under the limit."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in wrap(text, limit):
        if current and size + utf16_len(line) + 1 > limit:
            chunks.append("<pre>" + "\n".join(current) + "</pre>")
            current, size = [], 0
        current.append(line)
        size += utf16_len(line) + 1
    chunks.append("<pre>" + "\n".join(current) + "</pre>")
    return chunks


def render_messages(reply: Reply, limit: int = LIMIT) -> list[str]:
    """The reply as one or more messages, each at most `limit` UTF-16 units."""
    messages: list[str] = []
    current = ""
    for block in (piece for whole in render_blocks(reply) for piece in split_block(whole, limit)):
        candidate = f"{current}\n\n{block}" if current else block
        if utf16_len(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current or not messages:
        messages.append(current or "…")
    return messages


def split_block(block: str, limit: int) -> list[str]:
    """A block too long for one message, split between its lines (each closes its own tags)."""
    if utf16_len(block) <= limit:
        return [block]
    pieces: list[str] = []
    current = ""
    for line in block.split("\n"):
        if current and utf16_len(current) + 1 + utf16_len(line) > limit:
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
