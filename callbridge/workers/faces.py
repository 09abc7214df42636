"""One consenting participant's video -> FaceBank -> ad pre-renders, off the event loop.

Only the newest frame is kept: while the worker looks at one frame, later ones
replace each other in a single slot. The worker looks at most `max_fps` times a
second, so when the CPU is busy it simply samples less and never falls behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import av

from adengine import FaceBank, FaceCrop

log = logging.getLogger(__name__)
# Once the bank holds a face this good, looking once a second is enough: it
# frees CPU for speech while still catching a better face.
SETTLED_QUALITY = 0.9
SETTLED_INTERVAL_S = 1.0
BankFactory = Callable[[], FaceBank]
FaceSink = Callable[[FaceCrop], None]  # the bank's best face, after each kept crop


class FaceWorker:
    """Harvests faces from the latest frame; never touches a frame without consent."""

    def __init__(self, make_bank: BankFactory, on_face: FaceSink, max_fps: float = 5.0, name: str = "faces") -> None:
        self._make_bank = make_bank
        self._on_face = on_face
        self._interval = 1.0 / max_fps
        self._bank = make_bank()
        self._latest: tuple[av.VideoFrame, float] | None = None
        self._cond = threading.Condition()
        self._closing = False
        self.restarts = 0
        self.examined = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def consent(self) -> bool:
        return self._bank.consent

    @property
    def bank(self) -> FaceBank:
        return self._bank

    def offer(self, frame: av.VideoFrame, t: float) -> None:
        """Keep `frame` as the newest one (from the event loop; costs nothing without consent)."""
        if not self._bank.consent:
            return
        with self._cond:
            self._latest = (frame, t)
            self._cond.notify()

    def set_consent(self, consent: bool) -> None:
        """Grant, or withdraw and wipe everything collected."""
        with self._cond:
            if consent:
                self._bank.grant_consent()
            else:
                self._latest = None
                self._bank.withdraw_consent()

    def close(self, timeout: float = 2.0) -> None:
        """Stop and wipe the face bank."""
        with self._cond:
            self._closing = True
            self._latest = None
            self._cond.notify()
        self._thread.join(timeout)
        try:
            self._bank.clear()  # wipes the crops first; only the tracker's reset can fail
        finally:
            self._bank.tracker.close()

    def _take(self) -> tuple[av.VideoFrame, float] | None:
        with self._cond:
            while self._latest is None and not self._closing:
                self._cond.wait()
            item, self._latest = self._latest, None
            return None if self._closing else item

    def _run(self) -> None:
        while (item := self._take()) is not None:
            began = time.monotonic()
            try:
                self._examine(*item)
            except Exception:
                self.restarts += 1
                log.exception("face worker failed; restarting its tracker (restart %d)", self.restarts)
                self._restart()
            rest = self._pause() - (time.monotonic() - began)
            if rest > 0:
                time.sleep(rest)

    def _pause(self) -> float:
        best = self._bank.best()
        settled = best is not None and best.quality.score >= SETTLED_QUALITY
        return max(self._interval, SETTLED_INTERVAL_S) if settled else self._interval

    def _examine(self, frame: av.VideoFrame, t: float) -> None:
        if not self._bank.consent:
            return
        self.examined += 1
        rgb = frame.to_ndarray(format="rgb24")
        kept = self._bank.offer(rgb, t)
        rgb.fill(0)  # the copy held a face; wipe it rather than leave it to the allocator
        if kept is not None:
            best = self._bank.best()
            if best is not None:
                self._on_face(best)

    def _restart(self) -> None:
        with self._cond:
            old, consent = self._bank, self._bank.consent
            self._bank = self._make_bank()
            if consent:
                self._bank.grant_consent()
        try:
            old.clear()  # wipes the crops first; only the tracker's reset can fail here
        except Exception:
            log.exception("resetting a failed face tracker")
        try:
            old.tracker.close()
        except Exception:
            log.exception("closing a failed face tracker")
