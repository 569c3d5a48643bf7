"""Each Slack request is acted on once, by whichever instance gets it first.

Slack retries an event it thinks the app missed (`X-Slack-Retry-Num` over HTTP, `retry_attempt`
in Socket Mode) with the same event id; and anyone who captured a signed request can send it again
inside its 5-minute window, when its signature still checks out. Both are remembered in the
database (so every instance behind the load balancer knows), with an expiry."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.store.stored_state import InteractionStore

REPLAY_WINDOW = timedelta(minutes=10)
"""Bolt accepts a signature up to 5 minutes old (or early); kept for twice that."""
EVENT_MEMORY = timedelta(hours=2)
"""Slack retries an event three times within about an hour."""


class SeenRequests:
    def __init__(self, store: InteractionStore) -> None:
        self.store = store

    def first_time(self, signature: str | None, body: dict[str, Any]) -> bool:
        """Blocking (a database write): call it from a worker thread."""
        if signature and not self.store.first_time("slack-signature", signature[:160], REPLAY_WINDOW):
            return False
        event_id = body.get("event_id")
        if event_id:
            team = body.get("team_id") or ""
            return self.store.first_time("slack-event", f"{team}:{event_id}"[:160], EVENT_MEMORY)
        return True
