"""The words the bot writes to a team member, in that person's language (gettext, domain `collectbot`).

Handlers write English source text through `_` and `ngettext`; which language comes out is the
current *speaker's* language, set once per command, ping or screen with `speaking(language)`.
Values go in as named `{placeholders}` (`_("Paid {amount}", amount=shown)`), never by gluing
translated pieces together, so each language can order its sentence its own way.

`N_` marks a text kept in a constant (a command's summary) for extraction; `_(constant)` translates
it where it is shown.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from bot.i18n.catalogs import translations
from bot.i18n.locales import (
    DEFAULT_LOCALES,
    LANGUAGES,
    LOCALES,
    language_of,
    locale_for,
    supported_language,
)

__all__ = ["DEFAULT_LOCALES", "LANGUAGES", "LOCALES", "N_", "_", "current_language", "language_of", "locale_for",
           "ngettext", "speaking", "supported_language", "translated"]

_speaker: ContextVar[str] = ContextVar("collectbot_language", default="en")


def current_language() -> str:
    return _speaker.get()


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Everything `_` returns inside the block is in `language` (a language or a locale such as
    `en_GB`; an unknown one speaks English)."""
    chosen = language_of(language)
    token = _speaker.set(chosen)
    try:
        yield chosen
    finally:
        _speaker.reset(token)


def _(message: str, /, **values: object) -> str:
    """`message` in the current language, with `{name}` placeholders filled from `values` (an empty
    message stays empty: gettext would answer it with the catalog's header)."""
    if not message:
        return message
    text = translations(_speaker.get()).gettext(message)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, count: int, /, **values: object) -> str:
    """The plural form the current language's catalog picks for `count` (Russian and Bulgarian have
    their own rules); `{n}` is `count` unless `values` gives it already formatted (`n="24,5"`)."""
    text = translations(_speaker.get()).ngettext(singular, plural, count)
    values.setdefault("n", count)
    return text.format(**values)


def N_(message: str) -> str:
    """Marks `message` for extraction only; translate it with `_` where it is shown."""
    return message


def translated(language: str | None, message: str, /, **values: object) -> str:
    """`message` (marked with `N_` where it is written) in `language`: for renderers and
    adapters that know their reader's language but run outside `speaking`."""
    with speaking(language):
        return _(message, **values)
