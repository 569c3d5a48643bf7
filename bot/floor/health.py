"""Liveness of the background loops (firing, housekeeping, wake-ups, send queues, digests).

Each loop reports a heartbeat after every pass and a failure when a pass raises; a health
endpoint, `collectbot doctor` and the logs read the same snapshot, so a loop that stopped or keeps
failing is visible instead of silently leaving pings unsent.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any


@dataclass(frozen=True)
class LoopState:
    name: str
    running: bool = False
    last_beat: datetime | None = None
    failures_in_a_row: int = 0
    total_failures: int = 0
    last_error: str | None = None

    def healthy(self, now: datetime, stale_after: timedelta) -> bool:
        """Running, not failing right now, and heard from within `stale_after`."""
        if not self.running or self.failures_in_a_row:
            return False
        return self.last_beat is not None and now - self.last_beat <= stale_after


class LoopHealth:
    """Thread-safe register of loop states, shared by every loop of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, LoopState] = {}

    def _update(self, name: str, **changes: Any) -> None:
        with self._lock:
            state = self._states.get(name, LoopState(name))
            self._states[name] = replace(state, **changes)

    def started(self, name: str, now: datetime | None = None) -> None:
        self._update(name, running=True, last_beat=now or datetime.now(timezone.utc))

    def beat(self, name: str, now: datetime | None = None) -> None:
        self._update(name, running=True, last_beat=now or datetime.now(timezone.utc), failures_in_a_row=0)

    def alive(self, name: str, now: datetime | None = None) -> None:
        """Still running (an idle wait), without saying that its last failure is over."""
        self._update(name, running=True, last_beat=now or datetime.now(timezone.utc))

    def failing(self, stale_after: timedelta, now: datetime | None = None) -> dict[str, LoopState]:
        """The loops that are not healthy: stopped, failing right now, or silent too long."""
        now = now or datetime.now(timezone.utc)
        return {name: state for name, state in self.snapshot().items() if not state.healthy(now, stale_after)}

    def failed(self, name: str, error: BaseException) -> None:
        with self._lock:
            state = self._states.get(name, LoopState(name))
            self._states[name] = replace(
                state, failures_in_a_row=state.failures_in_a_row + 1, total_failures=state.total_failures + 1,
                last_error=f"{type(error).__name__}: {error}"[:500],
            )

    def stopped(self, name: str) -> None:
        self._update(name, running=False)

    def snapshot(self) -> dict[str, LoopState]:
        with self._lock:
            return dict(self._states)
