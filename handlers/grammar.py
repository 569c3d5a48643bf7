"""The one command grammar every platform shares: `/verb arg arg key=value @person`.

Adapters hand over the text (Telegram `/add …`, Slack `/collect add …` as `add …`, console lines);
the parser splits it into a verb, positional words, `key=value` options and `@mentions`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_OPTION = re.compile(r"^([a-z_]+)=(.*)$", re.IGNORECASE)
_MENTION = re.compile(r"^@([\w.:-]+)$", re.UNICODE)


@dataclass(frozen=True)
class IncomingFile:
    """A file the user sent with the command (a CSV for /import): adapters download it."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Command:
    verb: str
    words: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    mentions: tuple[str, ...] = ()
    text: str = ""
    """The argument text as typed, after the verb."""
    files: tuple[IncomingFile, ...] = ()

    def option(self, name: str) -> str | None:
        return self.options.get(name)


_WORD = re.compile(r'(?<!\S)([a-z_]+=)?["\u201c\u201d]([^"\u201c\u201d]*)["\u201c\u201d](?!\S)|(\S+)', re.IGNORECASE)


def split_words(text: str) -> list[str]:
    """Whitespace splitting where `"Acme, Inc."` (straight or curly double quotes) stays one word, and
    so does a quoted option value: `contact="Marte Haugland"` is `contact=Marte Haugland`.

    Apostrophes are ordinary letters, so `O'Brien's Bakery` survives.
    """
    return [(m.group(1) or "") + m.group(2) if m.group(2) is not None else m.group(3) for m in _WORD.finditer(text)]


def parse_command(text: str) -> Command | None:
    """`None` when the text is not a command (does not start with `/`)."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    verb = head.split("@", 1)[0].lower()
    return parse_arguments(verb, rest.strip())


def parse_arguments(verb: str, rest: str) -> Command:
    words: list[str] = []
    options: dict[str, str] = {}
    mentions: list[str] = []
    for token in split_words(rest):
        if option := _OPTION.match(token):
            options[option.group(1).lower()] = option.group(2)
        elif mention := _MENTION.match(token):
            mentions.append(mention.group(1))
        else:
            words.append(token)
    return Command(verb=verb, words=tuple(words), options=options, mentions=tuple(mentions), text=rest)
