"""The one command grammar every platform shares: `/verb arg arg key=value @person`.

Adapters hand over the text (Telegram `/add …`, Slack `/collect add …` as `add …`, console lines);
the parser splits it into a verb, positional words, `key=value` options and `@mentions`.
Text the parser cannot place — an unbalanced quote, a control character, a message too long to
be a command — is refused with `InputError`, never passed on half-understood.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from babel.numbers import format_decimal

from bot.i18n import _, current_language, locale_for
from bot.floor.dates import join_day_words
from bot.floor.errors import UsageError

MAX_COMMAND_LENGTH = 4000
"""Longer than any command a person types (Telegram's own message limit is 4096)."""
MAX_VALUE_LENGTH = 200
"""A `key=value` option's value (names, contacts): the longest name the team table shows."""
QUOTES = "\"\u201c\u201d\u201e"
"""Double quotes as people type them: straight, English curly, and the Bulgarian/German low opener („…“)."""
_OPTION = re.compile(r"^([a-z_]+)=(.*)$", re.IGNORECASE | re.DOTALL)
_MENTION = re.compile(r"^@([\w.:-]+)$", re.UNICODE)
_TOKEN = re.compile(
    r"(?P<key>[A-Za-z_]+=)?"  # "Acme, Inc." or key="a b"; inside each pair the other kinds are ordinary letters
    r'(?:"(?P<straight>[^"]*)"|[\u201c\u201d\u201e](?P<curly>[^\u201c\u201d]*)[\u201c\u201d]|\u00ab(?P<angled>[^\u00bb]*)\u00bb)'
    r"|(?P<word>\S+)"
)
_ALLOWED_CONTROLS = frozenset("\t\n\r")


class InputError(UsageError):
    """The text cannot be read as a command at all (before any handler sees it)."""


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

    def free_text_after_first_word(self) -> str:
        """A note or reason as typed after the invoice number, quotes and @mentions kept
        ("«паллеты» битые, see @anna"); runs of spaces and line breaks become one space."""
        return " ".join(self.text.split()[1:])


def split_words(text: str) -> list[str]:
    """Whitespace splitting where `"Acme, Inc."` (straight, curly „…“ or «…» quotes) stays one word
    and `key="value with spaces"` stays one option (returned as `key=value with spaces`).

    Apostrophes are ordinary letters, so `O'Brien's Bakery` survives. A double quote that does not
    close (`contact="Anna Weber`, `Acme"`) raises `InputError`.
    """
    words: list[str] = []
    for match in _TOKEN.finditer(text):
        if match.group("word") is not None:
            word = match.group("word")
            if any(quote in word for quote in QUOTES):
                raise InputError(_(
                    "I can't tell where the quoted text in {word} starts and ends. Put a name with spaces "
                    'in a pair of double quotes, like "Acme, Inc." or contact="Anna Weber".', word=shorten(word)))
            words.append(word)
            continue
        quoted = next(value for value in match.group("straight", "curly", "angled") if value is not None)
        if not quoted.strip():
            raise InputError(_('Empty quotes ("") hold nothing; write the value between them, or leave them out.'))
        words.append((match.group("key") or "") + quoted)
    return words


def shown_count(count: int) -> str:
    """A count as the reader's locale writes it ("4,000", "4 000", "4.000")."""
    return format_decimal(count, locale=locale_for(current_language()))


def check_text(text: str) -> None:
    """Refuse text no command can hold: too long, or with control characters (a NUL byte cannot
    even be stored in PostgreSQL)."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise InputError(_(
            "That message is {length} characters long; a command can be at most {most}. "
            "Shorten it (a long note or reason belongs in a file or the invoice's history).",
            length=shown_count(len(text)), most=shown_count(MAX_COMMAND_LENGTH)))
    for character in text:
        category = unicodedata.category(character)
        if (category == "Cc" and character not in _ALLOWED_CONTROLS) or category == "Cs":
            code = f"U+{ord(character):04X}"
            raise InputError(_(
                "Your message contains an invisible control character ({code}) that I can't store. "
                "Remove it (it often comes with copy and paste) and send the command again.", code=code))


def shorten(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def parse_command(text: str) -> Command | None:
    """`None` when the text is not a command (does not start with `/`). Raises `InputError` for a
    command that cannot be read."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _space, rest = stripped[1:].partition(" ")
    verb = head.split("@", 1)[0].lower()
    return parse_arguments(verb, rest.strip())


def parse_arguments(verb: str, rest: str) -> Command:
    check_text(verb + " " + rest)
    words: list[str] = []
    options: dict[str, str] = {}
    mentions: list[str] = []
    for token in split_words(rest):
        if option := _OPTION.match(token):
            key, value = option.group(1).lower(), option.group(2)
            if len(value) > MAX_VALUE_LENGTH:
                raise InputError(_("The value of {key}= is {length} characters long; at most {most} fit.", key=key,
                                   length=shown_count(len(value)), most=shown_count(MAX_VALUE_LENGTH)))
            if key in options and options[key] != value:
                raise InputError(_("{key}= is given twice ({first} and {second}); give it once.", key=key,
                                   first=shorten(options[key]), second=shorten(value)))
            options[key] = value
        elif mention := _MENTION.match(token):
            mentions.append(mention.group(1))
        else:
            words.append(token)
    return Command(verb=verb, words=tuple(join_day_words(words)), options=options, mentions=tuple(mentions), text=rest)
