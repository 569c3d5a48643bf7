"""Plain-text rendering of a `Reply` for the console (and for anything else that wants text)."""
from __future__ import annotations

import re
import textwrap
from typing import assert_never

from bot.i18n import translated
from bot.i18n.labels import EXAMPLE, NONE, SUBJECT
from bot.floor.reply import BulletList, Button, DraftText, Facts, Paragraph, Reply, Table

WIDTH = 100

UNBREAKABLE_SPACE = "\ue000"
"""A space wrapping must not break at, while wrapping: textwrap breaks at ASCII whitespace only; a private-use
character, not U+00A0, so that the text's own no-break spaces (a Norwegian amount's) come out as they went in."""
COMMAND_IN_PARENTHESES = re.compile(r"\((/[a-z][^()]*)\)")
"""An example in parentheses, "(/team invite @yourname)": kept whole on one line."""
COMMAND_AND_WORD = re.compile(r"(?<![^\s(])(/[a-z]\w*) (?=\S)")
"""A command and the word after it, "/team invite", "/add INV-1042": never cut in two."""


def wrap(text: str, width: int = WIDTH) -> str:
    """`text` filled to `width`, never breaking inside a command example (copied from the terminal,
    "/team" at the end of one line and "invite" on the next would not work)."""
    if UNBREAKABLE_SPACE in text:  # someone typed it: wrapped as it is
        return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)
    kept = COMMAND_IN_PARENTHESES.sub(lambda match: match[0].replace(" ", UNBREAKABLE_SPACE), text)
    kept = COMMAND_AND_WORD.sub(lambda match: match[1] + UNBREAKABLE_SPACE, kept)
    filled = textwrap.fill(kept, width, break_long_words=False, break_on_hyphens=False)
    return filled.replace(UNBREAKABLE_SPACE, " ")


def render_text(reply: Reply, files: bool = True, width: int = WIDTH) -> str:
    """`files=False` leaves out the files' placeholders, for a caller that says where it saved them."""
    parts: list[str] = []
    if reply.title:
        parts.append(reply.title)
        parts.append("─" * min(len(reply.title), width))
    for block in reply.blocks:
        match block:
            case Paragraph():
                prefix = "⚠ " if reply.is_error and not parts else ""
                parts.append(wrap(prefix + block.text, width))
            case Facts():
                labels = max(len(label) for label, _ in block.items)
                parts.extend(f"  {label + ':':<{labels + 1}} {value}" for label, value in block.items)
            case Table():
                parts.append(render_table(block))
            case BulletList():
                if block.title:
                    parts.append(f"{block.title}:")
                none = f"  {translated(reply.language, NONE)}"
                parts.extend(f"  • {item}" for item in block.items) if block.items else parts.append(none)
            case DraftText():
                parts.append(f"┌─ {block.label}")
                if block.subject:
                    parts.append(f"│ {translated(reply.language, SUBJECT)}: {block.subject}")
                parts.extend(f"│ {line}" if line else "│" for line in block.text.splitlines())
                parts.append("└─")
            case _:
                assert_never(block)
    if reply.example:
        parts.append(f"  {translated(reply.language, EXAMPLE)}: {reply.example}")
    for attachment in reply.files if files else ():
        parts.append(f"  [file: {attachment.filename}, {len(attachment.content)} bytes]")
    if reply.buttons:
        parts.append(render_buttons(reply.buttons))
    return "\n".join(parts)


def render_buttons(buttons: list[Button]) -> str:
    """Numbered, as the console presses them: `[1] Paid  [2] Promised`."""
    return "  ".join(f"[{number}] {button.label}" for number, button in enumerate(buttons, start=1))


def render_table(table: Table) -> str:
    columns = list(zip(table.headers, *table.rows, strict=False))
    widths = [max(len(cell) for cell in column) for column in columns]
    lines = []
    if table.caption:
        lines.append(f"{table.caption}:")
    lines.append("  " + "  ".join(header.ljust(width) for header, width in zip(table.headers, widths, strict=True)).rstrip())
    lines.append("  " + "  ".join("─" * width for width in widths))
    lines.extend("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in table.rows)
    return "\n".join(lines)
