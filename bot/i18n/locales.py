"""Which languages the bot speaks and which locales format its numbers, money and dates."""
from __future__ import annotations

LANGUAGES = ("en", "ru", "nb", "bg")
"""English is the source; the others have a catalog in bot/i18n/locale/<lang>/LC_MESSAGES."""
LOCALES = ("en_GB", "en_US", "en_IE", "nb_NO", "ru_RU", "bg_BG")
"""The locales a person or team may choose (`locale=`): how money, numbers and dates are written."""
DEFAULT_LOCALES = {"en": "en_US", "ru": "ru_RU", "nb": "nb_NO", "bg": "bg_BG"}
_ALIASES = {"no": "nb", "nn": "nb", "nb-no": "nb", "en-gb": "en", "en-us": "en"}


def language_of(code: str | None) -> str:
    """The language of a language or locale code (`ru`, `nb_NO`, Telegram's `en-US`, Slack's
    `nb-NO`); anything the bot does not speak is English."""
    if not code:
        return "en"
    lowered = code.strip().lower().replace("_", "-")
    lowered = _ALIASES.get(lowered, lowered)
    head = lowered.split("-", 1)[0]
    head = _ALIASES.get(head, head)
    return head if head in LANGUAGES else "en"


def supported_language(code: str | None) -> str | None:
    """The language of a platform's hint when the bot speaks it, else None (then the team's default)."""
    if not code:
        return None
    language = language_of(code)
    return language if language != "en" or code.strip().lower().startswith("en") else None


def locale_for(code: str | None, fallback: str | None = None) -> str:
    """The Babel locale for a stored code: a chosen locale (`en_US`) as is; a bare language
    (`nb`) its usual locale, or `fallback` (the team's locale) when that is in the same language."""
    if code and code.replace("-", "_") in LOCALES:
        return code.replace("-", "_")
    language = language_of(code)
    if fallback and fallback in LOCALES and language_of(fallback) == language:
        return fallback
    return DEFAULT_LOCALES[language]
