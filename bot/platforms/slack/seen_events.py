"""Each Slack request is acted on once, by whichever instance gets it first.

Slack retries an event it thinks the app missed (`X-Slack-Retry-Num` over HTTP, `retry_attempt`
in Socket Mode) with the same event id; and anyone who captured a signed request can send it again
inside its 5-minute window, when its signature still checks out. Both are remembered in the
database (so every instance behind the load balancer knows), with an expiry."""
from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from bot.store.stored_state import SWEEP_EVERY, InteractionStore
from handlers.once import Once

log = logging.getLogger(__name__)

REPLAY_WINDOW = timedelta(minutes=10)
"""Bolt accepts a signature up to 5 minutes old (or early); kept for twice that."""
SIGNATURE_KIND = "slack-signature"
EVENT_MEMORY = timedelta(hours=2)
"""Slack retries an event three times within about an hour."""


def once_for(signature: str | None) -> Once | None:
    """A slash command is noted as run in its own transaction (`Core.handle_text_once`), keyed by
    its signature; None without one (Socket Mode: Slack's connection is the authentication)."""
    return Once(SIGNATURE_KIND, signature[:160], REPLAY_WINDOW) if signature else None


class SeenRequests:
    def __init__(self, store: InteractionStore) -> None:
        self.store = store
        self._swept_at = 0.0

    def sweep_now_and_then(self) -> bool:
        """Whether it is time to remove expired signatures (once per `SWEEP_EVERY`); the caller runs
        `sweep` on a worker thread then."""
        now = time.monotonic()
        if now - self._swept_at < SWEEP_EVERY.total_seconds():
            return False
        self._swept_at = now
        return True

    def sweep(self) -> None:
        try:
            self.store.sweep(SIGNATURE_KIND)
        except Exception:  # noqa: BLE001 - housekeeping; the next sweep tries again
            log.warning("could not remove expired Slack request signatures", exc_info=True)

    def first_time(self, signature: str | None, body: dict[str, Any]) -> bool:
        """Blocking (a database write): call it from a worker thread."""
        if signature and not self.store.first_time(SIGNATURE_KIND, signature[:160], REPLAY_WINDOW):
            return False
        event_id = body.get("event_id")
        if event_id:
            team = body.get("team_id") or ""
            return self.store.first_time("slack-event", f"{team}:{event_id}"[:160], EVENT_MEMORY)
        return True
