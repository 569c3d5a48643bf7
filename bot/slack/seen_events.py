"""Slack retries an event it thinks the app missed (`X-Slack-Retry-Num` over HTTP, `retry_attempt`
in Socket Mode) with the same event id; each event is handled once."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

REMEMBERED = 2000


class SeenEvents:
    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, body: dict[str, Any]) -> bool:
        event_id = body.get("event_id") or (body.get("event") or {}).get("event_ts")
        if not event_id:
            return True
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True
