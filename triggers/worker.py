"""One audio stream -> trigger engine, on a thread of its own, fed at the pace audio arrives.

The caller (an event loop, or a file fed at wall-clock pace) only copies samples
and appends them. The worker resamples everything pending at each wake-up, so a
slow decode makes the next one cover more audio instead of building a queue. If
the engine raises, the failure is logged and a fresh engine carries on from the
current audio: the stream goes on. An engine that keeps failing (a broken
recogniser) is retried after a pause that doubles up to `MAX_BACKOFF_S`, and only
its first failure in a row is logged with a traceback, so a dead model neither
spins a core nor floods the log. `callbridge listen --realtime` and the relay run
this same worker.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import av
import numpy as np

from triggers.audio import SAMPLE_RATE, StreamResampler
from triggers.engine import TriggerEngine
from triggers.events import Event, TranscriptEvent, TriggerEvent
from triggers.matcher import Phrase

log = logging.getLogger(__name__)
MAX_PENDING_S = 10.0  # more unrecognised audio than this: the engine is restarted on fresh audio
CLOCK_SPAN_S = 120.0  # how far back phrase ends can be mapped to receive times
BACKOFF_S = 0.5  # the pause before a second restart in a row; it doubles with each further failure ...
MAX_BACKOFF_S = 30.0  # ... up to this

EngineFactory = Callable[[], TriggerEngine]
# event on the stream's clock, wall time it was emitted, wall time the phrase end was received (triggers only)
SpeechSink = Callable[[Event, float, float | None], None]
_LIVE: weakref.WeakSet[SpeechWorker] = weakref.WeakSet()  # for the relay's load gauge; weak: counts no leak itself
_LIVE_LOCK = threading.Lock()  # workers are made on several threads while the gauge reads the set


def live_workers() -> list[SpeechWorker]:
    """Every speech worker still in memory, closed or not (the relay's load gauge reads their lag)."""
    with _LIVE_LOCK:
        return list(_LIVE)


class ReceiveClock:
    """Maps the stream clock (seconds of audio fed) to when that audio arrived."""

    def __init__(self, span_s: float = CLOCK_SPAN_S) -> None:
        self._ends: deque[float] = deque(maxlen=int(span_s * 50))
        self._walls: deque[float] = deque(maxlen=int(span_s * 50))

    def record(self, end_s: float, received_t: float) -> None:
        self._ends.append(end_s)
        self._walls.append(received_t)

    def wall_at(self, stream_s: float) -> float | None:
        """Receive time of the frame that holds stream time `stream_s` (None if forgotten)."""
        if not self._ends or stream_s < self._ends[0] - 0.02:
            return None
        i = min(bisect.bisect_left(self._ends, stream_s), len(self._ends) - 1)
        return self._walls[i]


@dataclass(frozen=True)
class _Received:
    """One pushed piece of audio: interleaved s16 at any rate, or 16 kHz mono float32 (rate 0)."""

    samples: np.ndarray
    rate: int
    channels: int
    received_t: float


class SpeechWorker:
    """Feeds one stream's audio to a TriggerEngine; events come back on `sink`, on the worker thread."""

    def __init__(self, make_engine: EngineFactory, sink: SpeechSink, name: str = "speech") -> None:
        self._make_engine = make_engine
        self._sink = sink
        self._resampler = StreamResampler()
        self.clock = ReceiveClock()
        self._received = 0  # samples at 16 kHz so far: the stream's audio clock; worker thread only
        self._pending: list[_Received] = []
        self._engine_origin = 0  # stream sample at which the current engine started
        self._cond = threading.Condition()
        self._closing = False
        self._draining = False
        self._waiting_since: float | None = None  # monotonic arrival of the oldest audio not yet recognised ...
        self._pending_since = 0.0  # ... and of the oldest in `_pending`
        self.restarts = 0
        self.failures_in_a_row = 0
        self._engine: TriggerEngine | None = None
        self._new_phrases: list[Phrase | str] | None = None  # for the worker thread to hand its engine
        self.phrases_applied_t: float | None = None  # wall time the engine last took a new phrase list
        self._phrases_taken = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        with _LIVE_LOCK:
            _LIVE.add(self)

    @property
    def closed(self) -> bool:
        return self._closing

    @property
    def lag_s(self) -> float:
        """How long the oldest audio not yet through the engine has waited (0 when it is all done).

        Audio in the decode under way counts: a slow decode is lag. A worker backing off after a failure
        reports 0, since that wait says nothing about the CPU. Read from any thread without a lock.
        """
        since = self._waiting_since
        if since is None or self._closing or self.failures_in_a_row:
            return 0.0
        return max(0.0, time.monotonic() - since)

    def push(self, frame: av.AudioFrame, received_t: float) -> None:
        """Take one s16 frame (any rate and layout), received at wall time `received_t`.

        Only copies the samples (the frame may be shared with encoders); the worker resamples them.
        """
        pcm = frame.to_ndarray().reshape(-1).copy()
        self._append(_Received(pcm, frame.sample_rate, len(frame.layout.channels), received_t))

    def push_samples(self, samples: np.ndarray, received_t: float) -> None:
        """Take 16 kHz mono float32 samples, as `triggers.load_audio` gives them."""
        self._append(_Received(np.asarray(samples, np.float32), 0, 1, received_t))

    def set_phrases(self, phrases: Sequence[Phrase | str], wait_s: float = 0.0) -> bool:
        """Listen for these phrases from the next audio chunk on (the worker thread applies them).

        Waits up to `wait_s` for the engine to take them; True once it has.
        """
        with self._cond:
            self._new_phrases = list(phrases)
            self._phrases_taken.clear()
        return self._phrases_taken.wait(wait_s) if wait_s > 0 else False

    def close(self, timeout: float | None = 2.0, drain: bool = False) -> None:
        """Stop the worker. With `drain`, first recognise what is pending and flush the engine."""
        with self._cond:
            self._closing = True
            self._draining = drain
            if not drain:
                self._pending.clear()
            self._cond.notify()
        self._thread.join(timeout)

    def _append(self, item: _Received) -> None:
        with self._cond:
            if not self._pending:
                self._pending_since = time.monotonic()
                if self._waiting_since is None:
                    self._waiting_since = self._pending_since
            self._pending.append(item)
            self._cond.notify()

    def _done_with_batch(self) -> None:
        """The batch taken is through the engine: lag now counts from the oldest audio still pending."""
        with self._cond:
            self._waiting_since = self._pending_since if self._pending else None

    def _take(self) -> list[_Received] | None:
        with self._cond:
            while not self._pending and not self._closing:
                self._cond.wait()
            if self._closing and not (self._draining and self._pending):
                return None
            pending, self._pending = self._pending, []
            return pending

    def _resample(self, pending: list[_Received]) -> tuple[np.ndarray, int]:
        """16 kHz mono audio of the pending pieces, and the stream sample it starts at."""
        first = self._received
        pieces = []
        for item in pending:
            if item.rate:
                samples = self._resampler.push_s16(item.samples, item.rate, item.channels)
            else:
                samples = item.samples
            self._received += len(samples)
            self.clock.record(self._received / SAMPLE_RATE, item.received_t)
            pieces.append(samples)
        return np.concatenate(pieces), first

    def _run(self) -> None:
        while (pending := self._take()) is not None:
            try:
                self._feed(*self._resample(pending))
                self.failures_in_a_row = 0
            except Exception as exc:
                self.restarts += 1
                self.failures_in_a_row += 1
                self._engine = None
                self._back_off(exc)
            finally:
                self._done_with_batch()
        if self._draining and self._engine is not None:
            try:
                self._emit_all(self._engine.flush())
            except Exception:
                log.exception("speech worker failed while flushing its engine")

    def _back_off(self, exc: Exception) -> None:
        """Log a failure (with its traceback the first time in a row) and pause before the next engine."""
        n = self.failures_in_a_row
        if n == 1:
            log.exception("speech worker failed; restarting its engine (restart %d)", self.restarts)
            return
        pause = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (n - 2))
        log.error(
            "speech worker failed again (%d in a row: %s: %.200s); restarting its engine in %.1f s",
            n,
            type(exc).__name__,
            exc,
            pause,
        )
        with self._cond:  # audio arriving meanwhile waits (beyond MAX_PENDING_S, only its newest second)
            self._cond.wait_for(lambda: self._closing, timeout=pause)

    def _feed(self, audio: np.ndarray, first_sample: int) -> None:
        if self._engine is None or len(audio) > MAX_PENDING_S * SAMPLE_RATE:
            if self._engine is not None:
                behind_s = len(audio) / SAMPLE_RATE
                log.warning("speech fell %.1f s behind; listening again from the newest audio", behind_s)
                first_sample += len(audio) - int(SAMPLE_RATE)  # not from _received: more may have come since
                audio = audio[-int(SAMPLE_RATE) :]
            self._engine = self._make_engine()
            self._engine_origin = first_sample
        with self._cond:
            phrases, self._new_phrases = self._new_phrases, None
        if phrases is not None:
            self._engine.set_phrases(phrases)
            self.phrases_applied_t = time.time()
            self._phrases_taken.set()
        self._emit_all(self._engine.feed(audio))

    def _emit_all(self, events: list[Event]) -> None:
        # The engine's clock counts only what it was fed; the stream's clock counts from the first piece.
        offset_s = self._engine_origin / SAMPLE_RATE
        emitted_t = time.time()
        for event in events:
            self._emit(event, offset_s, emitted_t)

    def _emit(self, event: Event, offset_s: float, emitted_t: float) -> None:
        if isinstance(event, TriggerEvent):
            end_s = event.phrase_end_s + offset_s
            shifted: Event = TriggerEvent(
                event.participant, event.phrase, event.heard, end_s, event.emitted_at_s + offset_s, event.confidence
            )
            received = self.clock.wall_at(end_s)
            self._sink(shifted, emitted_t, None if received is None else min(received, emitted_t))
        elif isinstance(event, TranscriptEvent):
            shifted = TranscriptEvent(
                event.participant, event.text, event.start_s + offset_s, event.end_s + offset_s, event.final
            )
            self._sink(shifted, emitted_t, None)
