"""A virtual clock for ad breaks: waits return at once and time jumps to each deadline."""

from __future__ import annotations

import asyncio
import threading

EPOCH = 1_800_000_000.0  # the virtual wall clock's origin


class JumpingClock:
    """An AdClock on virtual time. Each wait records its deadline and moves time forward to it.

    Nothing really sleeps, so a break's pacing is checked from the recorded
    deadlines, and a test lasts as long as the work, not as long as the ad.
    """

    def __init__(self, start: float = 100.0) -> None:
        self._t = start
        self._lock = threading.Lock()
        self.thread_deadlines: list[float] = []  # the video thread's waits, in order
        self.loop_deadlines: list[float] = []  # the soundtrack's waits, in order

    def now(self) -> float:
        return EPOCH + self.monotonic()

    def monotonic(self) -> float:
        with self._lock:
            return self._t

    def _reach(self, deadline: float) -> None:
        with self._lock:
            self._t = max(self._t, deadline)

    def wait_until(self, cancelled: threading.Event, deadline: float) -> bool:
        self.thread_deadlines.append(deadline)
        if cancelled.is_set():
            return True
        self._reach(deadline)
        return cancelled.is_set()

    async def sleep_until(self, deadline: float) -> None:
        self.loop_deadlines.append(deadline)
        self._reach(deadline)
        await asyncio.sleep(0)
