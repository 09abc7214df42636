"""The clocks an ad break paces itself by, injected so that tests run on virtual time."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol


class AdClock(Protocol):
    """Wall time for events, monotonic time for pacing, and waits until a monotonic deadline."""

    def now(self) -> float:
        """Wall-clock seconds since the epoch (`time.time`), as room events carry."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps: the pacing clock."""
        ...

    def wait_until(self, cancelled: threading.Event, deadline: float) -> bool:
        """Block (a worker thread) until `deadline` or until `cancelled` is set; True if cancelled."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Yield to the event loop at least once, and until `deadline`."""
        ...


class SystemClock:
    """The real clocks."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait_until(self, cancelled: threading.Event, deadline: float) -> bool:
        return cancelled.wait(max(0.0, deadline - time.monotonic()))

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))


SYSTEM_CLOCK = SystemClock()
