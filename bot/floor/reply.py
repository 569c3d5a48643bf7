"""What a handler returns: a platform-neutral reply that each adapter renders (and escapes) its way.

Every string in a reply is plain text — user text included, unescaped. Emphasis is structure
(a title, fact labels, table headers), never markup, so each renderer can escape once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.i18n import _


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Facts:
    """Label/value pairs: the numbers of an invoice, a summary's totals."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str | None = None


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]
    title: str | None = None


@dataclass(frozen=True)
class DraftText:
    """A ready-to-copy draft (letter, message or call script): rendered as a copyable block."""

    label: str
    text: str
    subject: str | None = None


Block = Paragraph | Facts | Table | BulletList | DraftText


@dataclass(frozen=True)
class Button:
    """A choice the user can press; `action` is the command it runs, without the slash
    (`paid INV-1042`).

    A button that needs one more value (a promised date, a dispute reason) sets `asks` to the
    question and `input` to its kind; its action holds `{input}` where the answer goes. Adapters
    ask their way: Telegram with a forced reply, Slack with a modal (a date picker for dates), the
    console with a prompt.
    """

    label: str
    action: str
    asks: str | None = None
    input: Literal["date", "text"] | None = None

    def with_input(self, answer: str) -> str:
        return self.action.replace("{input}", answer.strip())


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str
    kind: Literal["photo", "document"] = "document"


@dataclass
class Reply:
    title: str | None = None
    blocks: list[Block] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    is_error: bool = False
    example: str | None = None
    private: bool = False
    """True when the reply holds facts only its reader may see (kept out of group chats)."""
    step_ids: tuple[int, ...] = ()
    """For pings: the ladder steps this message delivers (adapters keep it to edit the message later)."""
    language: str | None = None
    """The reader's language (en, ru, nb, bg): the core sets it, unless the handler answered in another
    (someone who has just changed their own); renderers write their own labels in it (None: English)."""
    repeat: bool = False
    """For pings: the whole message says at its top it may be a repeat (all steps taken over, or resent); not said twice."""
    repeated_step_ids: tuple[int, ...] = ()
    """For pings: only some steps, each marked on its own line (a merged ping); `repeat` marks the whole message instead."""
    field: str | None = None
    """A refusal's argument (`UsageError.field`: "amount", "due", "owner"…): a form shows the problem beside it."""

    def add(self, block: Block) -> "Reply":
        self.blocks.append(block)
        return self

    def say(self, text: str) -> "Reply":
        return self.add(Paragraph(text))


def error_reply(problem: str, example: str | None = None, field: str | None = None) -> Reply:
    """A refusal with its correct example; an example marked with `N_` (one with words around the
    command: "/done INV-1042 spoke to Anna, paying Friday") comes out in the speaker's language."""
    return Reply(blocks=[Paragraph(problem)], is_error=True, example=_(example) if example else example, field=field)
