"""How every bench states a result: the target, the figure, pass or fail, and the machine's load
(a figure taken on a busy machine says so)."""
from __future__ import annotations

import os
import time

BUSY_LOAD = 1.5
"""Load average (1 min) above which a run's timings are not the machine's own."""


def cpu_probe_ms() -> float:
    """Milliseconds one core takes for a fixed piece of pure Python (best of three). The same kind
    of machine ran the same code up to 2 × slower on some days than on others; a figure read with
    this probe beside it can be compared across days."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(number * number for number in range(1_000_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def load_note() -> str:
    one, five, _ = os.getloadavg()
    busy = " — BUSY machine, timings inflated; re-run when quiet" if one >= BUSY_LOAD else ""
    return f"load average {one:.2f} (5 min {five:.2f}), {os.cpu_count()} cores, CPU probe {cpu_probe_ms():.0f} ms{busy}"


def verdict(target: str, figure: str, passed: bool) -> str:
    """One line, e.g. `[PASS] answers p99 ≤ 1 s: 0.62 s (load average 0.40 …)`."""
    line = f"  [{'PASS' if passed else 'FAIL'}] {target}: {figure} ({load_note()})"
    print(line, flush=True)
    return line
