"""An ingest's stages as one rising number, 0 to 1, for the admin page's bar.

Reading the clip reports nothing and tracking reports every frame; what follows
tracking (masks, colour statistics, writing the cache) reports nothing either and
takes about twice as long as the tracking did. So after the last tracked frame the
number creeps on towards FINISHING_TOP, on a clock scaled by the tracking time,
and only the end of the ingest says 1.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

READ_SHARE = 0.10
TRACK_SHARE = 0.35
FINISHING_TOP = 0.97
_STEP = 0.01  # report changes of at least this much
_TICK_S = 0.25

Send = Callable[[dict[str, Any]], None]


class IngestProgress:
    """A StageProgress callback that sends {"progress": p} lines; use it as a context manager."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._last = -1.0
        self._started = time.monotonic()
        self._tracked_at: float | None = None
        self._done = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> IngestProgress:
        self._report(0.0)
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._ticker is not None:
            self._ticker.join()
        if exc[0] is None:
            self._report(1.0)

    def __call__(self, stage: str, done: int, total: int) -> None:
        self._report(READ_SHARE + TRACK_SHARE * done / max(total, 1))
        if done >= total and self._ticker is None:
            self._tracked_at = time.monotonic()
            self._ticker = threading.Thread(target=self._creep, daemon=True)
            self._ticker.start()

    def _creep(self) -> None:
        assert self._tracked_at is not None
        scale = 2.0 * max(self._tracked_at - self._started, 0.1)
        base = READ_SHARE + TRACK_SHARE
        while not self._done.wait(_TICK_S):
            elapsed = time.monotonic() - self._tracked_at
            self._report(base + (FINISHING_TOP - base) * (1.0 - math.exp(-elapsed / scale)))

    def _report(self, share: float) -> None:
        with self._lock:
            if share - self._last >= _STEP or (share >= 1.0 > self._last):
                self._last = share
                self._send({"progress": round(share, 3)})
