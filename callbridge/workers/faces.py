"""One consenting participant's video -> FaceBank -> ad pre-renders, off the event loop.

Only the newest frame is kept: while the worker looks at one frame, later ones
replace each other in a single slot. The worker looks at most `max_fps` times a
second, so when the CPU is busy it simply samples less and never falls behind;
while the relay is busy (workers/load.py) it looks at most `busy_face_fps` times.

A failure (the tracker raising) restarts the worker's face bank with a new tracker;
consent and the participant's identity (whose face to harvest) carry over, and the
old bank's crops are wiped. Failures in a row are retried after a
pause that doubles up to `MAX_BACKOFF_S`, logged with a traceback only the first time,
and a tracker that cannot even be made again leaves the worker waiting, not dead.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable

import av

from adengine import FaceBank, FaceCrop
from adengine.facebank import ConsentError
from callbridge.workers.load import THROTTLE, Throttle

log = logging.getLogger(__name__)
# Once the bank holds a face this good, looking once a second is enough: it
# frees CPU for speech while still catching a better face.
SETTLED_QUALITY = 0.9
SETTLED_INTERVAL_S = 1.0
BACKOFF_S = 0.5  # pause after a second failure in a row; doubles with each further one ...
MAX_BACKOFF_S = 30.0  # ... up to this
BankFactory = Callable[[], FaceBank]
FaceSink = Callable[[FaceCrop], None]  # the bank's best face, after each kept crop
_LIVE: weakref.WeakSet[FaceWorker] = weakref.WeakSet()  # for the load gauge's count
_LIVE_LOCK = threading.Lock()  # workers are made on several threads while the gauge counts them


def live_face_workers() -> list[FaceWorker]:
    """Every face worker still in memory, closed or not."""
    with _LIVE_LOCK:
        return list(_LIVE)


class FaceWorker:
    """Harvests faces from the latest frame; never touches a frame without consent."""

    def __init__(
        self,
        make_bank: BankFactory,
        on_face: FaceSink,
        max_fps: float = 5.0,
        name: str = "faces",
        throttle: Throttle = THROTTLE,
    ) -> None:
        self._make_bank = make_bank
        self._on_face = on_face
        self._interval = 1.0 / max_fps
        self._throttle = throttle
        self._bank = make_bank()
        self._latest: tuple[av.VideoFrame, float] | None = None
        self._cond = threading.Condition()
        self._closing = False
        self.restarts = 0
        self.failures_in_a_row = 0
        self.examined = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        with _LIVE_LOCK:
            _LIVE.add(self)

    @property
    def closed(self) -> bool:
        return self._closing

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
            pause = 0.0
            try:
                self._examine(*item)
                self.failures_in_a_row = 0
            except Exception as exc:
                self.restarts += 1
                self.failures_in_a_row += 1
                pause = self._failed(exc)
            rest = max(pause, self._pause()) - (time.monotonic() - began)
            if rest > 0:
                with self._cond:
                    self._cond.wait_for(lambda: self._closing, timeout=rest)

    def _failed(self, exc: Exception) -> float:
        """Log a failure, restart the bank; the pause before the next frame (0 after a first failure)."""
        n = self.failures_in_a_row
        pause = 0.0 if n == 1 else min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (n - 2))
        if n == 1:
            log.exception("face worker failed; restarting its tracker (restart %d)", self.restarts)
        else:
            log.error(
                "face worker failed again (%d in a row: %s: %.200s); restarting its tracker, next look in %.1f s",
                n,
                type(exc).__name__,
                exc,
                pause,
            )
        try:
            self._restart()
        except Exception as again:  # e.g. the face mesh cannot be loaded: keep the old bank, try later
            log.error("face worker could not make a new tracker (%s: %.200s)", type(again).__name__, again)
        return pause

    def _pause(self) -> float:
        best = self._bank.best()
        settled = best is not None and best.quality.score >= SETTLED_QUALITY
        interval = max(self._interval, SETTLED_INTERVAL_S) if settled else self._interval
        if self._throttle.busy:  # read at each look: the rate comes back as soon as the relay is calm
            interval = max(interval, 1.0 / self._throttle.busy_face_fps)
        return interval

    def _examine(self, frame: av.VideoFrame, t: float) -> None:
        if not self._bank.consent:
            return
        self.examined += 1
        rgb = frame.to_ndarray(format="rgb24")
        try:
            kept = self._bank.offer(rgb, t)
        except ConsentError:  # withdrawn since the check above: nothing was looked at
            return
        finally:
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
                self._bank.take_identity(old)  # who the participant is survives; their crops do not
        try:
            old.clear()  # wipes the crops first; only the tracker's reset can fail here
        except Exception:
            log.exception("resetting a failed face tracker")
        try:
            old.tracker.close()
        except Exception:
            log.exception("closing a failed face tracker")
