"""Runs a TriggerEngine on its own thread, fed at the pace audio arrives.

Intake (push) never blocks on recognition. Each time the worker wakes it takes
all pending audio at once, so a slow decode makes the next one cover more audio
instead of letting a queue, and latency, grow.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from triggers.engine import TriggerEngine
from triggers.events import Event

log = logging.getLogger(__name__)
EventSink = Callable[[Event, float], None]  # event, wall-clock time of emission


class EngineThread:
    """Owns one engine; `push` from any thread, events arrive at `sink`."""

    def __init__(self, engine: TriggerEngine, sink: EventSink, name: str = "trigger-engine") -> None:
        self.engine = engine
        self._sink = sink
        self._pending: list[np.ndarray] = []
        self._cond = threading.Condition()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def push(self, samples: np.ndarray) -> None:
        with self._cond:
            self._pending.append(samples)
            self._cond.notify()

    def close(self, timeout: float | None = None) -> None:
        """Process what is pending, finalise the stream and stop the worker."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        if self._error is not None:
            raise self._error

    def _take(self) -> tuple[np.ndarray | None, bool]:
        with self._cond:
            while not self._pending and not self._closing:
                self._cond.wait()
            audio = np.concatenate(self._pending) if self._pending else None
            self._pending = []
            return audio, self._closing

    def _run(self) -> None:
        try:
            while True:
                audio, closing = self._take()
                if audio is not None:
                    self._emit(self.engine.feed(audio))
                if closing:
                    self._emit(self.engine.flush())
                    return
        except BaseException as exc:  # surfaced to the caller by close()
            log.exception("trigger engine failed")
            self._error = exc

    def _emit(self, events: list[Event]) -> None:
        now = time.time()
        for event in events:
            self._sink(event, now)
