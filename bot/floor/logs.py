"""Logging for `collectbot`: the level comes from LOG_LEVEL, and nothing written to the log shows a
secret. Libraries log URLs with the bot token in them (httpx's request lines, python-telegram-bot
at DEBUG) and request parameters (setWebhook's `secret_token`); every line, exception text
included, passes through one redacting formatter that removes the configured secrets by value and
token-shaped strings by pattern."""
from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HIDDEN = "***"
SHORTEST_SECRET = 6
"""Shorter values are not searched for (they would blank out ordinary words)."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<!\d)\d{3,}:[A-Za-z0-9_-]{6,}"), HIDDEN),  # a Telegram bot token, in a URL or anywhere
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), "xox?-" + HIDDEN),  # Slack bot and user tokens
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), "xapp-" + HIDDEN),  # Slack app-level token
    (re.compile(r"(?i)(bearer\s+)[^\s'\",]+"), r"\1" + HIDDEN),
    (re.compile(r"(?i)(secret_token['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"), r"\1" + HIDDEN),
    (re.compile(r"(?i)(x-telegram-bot-api-secret-token['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"), r"\1" + HIDDEN),
    (re.compile(r"(?i)(x-slack-signature['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"), r"\1" + HIDDEN),
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+@"), r"\1" + HIDDEN + "@"),  # a password in a URL
)


class Redactor:
    """Removes known secret values and token-shaped strings from text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()

    def keep_secret(self, *values: str | None) -> None:
        fresh = {value for value in values if value and len(value) >= SHORTEST_SECRET}
        with self._lock:
            self._secrets = self._secrets | fresh

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, HIDDEN)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


REDACTOR = Redactor()


def keep_secret(*values: str | None) -> None:
    """Never log these values (a secret made at run time, such as a generated webhook secret)."""
    REDACTOR.keep_secret(*values)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR.redact(super().format(record))


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_UNLESS_DEBUG = ("sqlalchemy.engine", "aiohttp.access", "asyncio", "httpx", "httpcore")
"""Libraries that log every request at INFO (httpx: each getUpdates long poll)."""


def configure_logging(level: str, secrets: Iterable[str | None] = ()) -> None:
    """One stderr handler on the root logger, at `level`, that hides `secrets`."""
    keep_secret(*secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_UNLESS_DEBUG:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    logging.captureWarnings(True)
