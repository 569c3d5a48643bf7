"""A request that may arrive more than once (a signed Slack request replayed within its window)
is acted on once: its key is remembered in the command's own transaction, so the command runs, and
is committed, together with the note that it ran — or neither does."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Once:
    kind: str
    """What the key is, e.g. `slack-signature`."""
    key: str
    ttl: timedelta
    """How long a repeat is recognised."""


class Repeated(Exception):
    """The request was handled before (by this instance or another): nothing was done."""
