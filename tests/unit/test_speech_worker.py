"""SpeechWorker between a fake source (real 48 kHz stereo av.AudioFrames) and a list sink, with a scripted engine."""

from __future__ import annotations

import logging
import threading
import time

import av
import numpy as np
import pytest

from triggers import SAMPLE_RATE, StreamResampler
from triggers.events import TranscriptEvent, TriggerEvent
from triggers.worker import ReceiveClock, SpeechWorker

FRAME = 960  # 20 ms at 48 kHz
T0 = 1_000_000.0  # receive times of the fake network, far in the past


def test_receive_clock_maps_stream_time_to_the_frame_that_held_it():
    clock = ReceiveClock()
    for k in range(5):
        clock.record((k + 1) * 0.02, 100.0 + k)  # frame k holds (0.02k, 0.02(k+1)]
    assert clock.wall_at(0.02) == 100.0
    assert clock.wall_at(0.021) == 101.0
    assert clock.wall_at(0.05) == 102.0
    assert clock.wall_at(0.1) == 104.0
    assert clock.wall_at(0.5) == 104.0  # past the end: the newest frame
    assert clock.wall_at(0.0) == 100.0  # within the first frame's 20 ms


def test_receive_clock_says_none_before_its_span():
    assert ReceiveClock().wall_at(1.0) is None
    clock = ReceiveClock(span_s=0.1)  # remembers 5 frames
    for k in range(10):
        clock.record((k + 1) * 0.02, 100.0 + k)
    assert clock.wall_at(0.05) is None  # forgotten
    assert clock.wall_at(0.12) == 105.0
    assert clock.wall_at(0.2) == 109.0


def audio_frame(value: int = 0) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.full((1, FRAME * 2), value, np.int16), format="s16", layout="stereo")
    frame.sample_rate = 48_000
    return frame


def stream_ends(n_frames: int) -> list[float]:
    """Where each pushed frame ends on the 16 kHz stream clock (the resampler has its own delay)."""
    resampler, total, ends = StreamResampler(), 0, []
    for _ in range(n_frames):
        total += len(resampler.push_s16(np.zeros(FRAME * 2, np.int16), 48_000, 2))
        ends.append(total / SAMPLE_RATE)
    return ends


def receive_time(stream_s: float, received: list[float], n_frames: int) -> float:
    ends = stream_ends(n_frames)
    return received[next(k for k, end in enumerate(ends) if end >= stream_s)]


class ScriptedEngine:
    """Emits each scripted event once it has been fed `at_s` seconds; its clock counts only what it was fed."""

    def __init__(self, script: list[tuple[float, object]], fail_when: threading.Event | None = None) -> None:
        self.script = list(script)
        self.fed = 0
        self.phrases: list[str] | None = None
        self.fail_when = fail_when

    def feed(self, samples: np.ndarray) -> list:
        assert samples.dtype == np.float32 and samples.ndim == 1
        if self.fail_when is not None and self.fail_when.is_set():
            raise RuntimeError("decoder exploded")
        self.fed += len(samples)
        due = [event for at_s, event in self.script if at_s <= self.fed / SAMPLE_RATE]
        self.script = [(at_s, event) for at_s, event in self.script if at_s > self.fed / SAMPLE_RATE]
        return due

    def set_phrases(self, phrases: list[str]) -> None:
        self.phrases = phrases


class Sink:
    def __init__(self) -> None:
        self.got: list[tuple[object, float, float | None]] = []
        self._cond = threading.Condition()

    def __call__(self, event, emitted_t: float, phrase_end_t: float | None) -> None:
        with self._cond:
            self.got.append((event, emitted_t, phrase_end_t))
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float = 3.0) -> list:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.got) >= n, timeout), f"only {len(self.got)} of {n} events"
            return list(self.got)


def wait_until(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def trigger(end_s: float, emitted_s: float) -> TriggerEvent:
    return TriggerEvent("ana", "dinner tonight", "dinner tonight", end_s, emitted_s, 0.9)


def test_events_reach_the_sink_with_the_receive_time_of_the_phrase_end():
    engines: list[ScriptedEngine] = []

    def make() -> ScriptedEngine:
        transcript = TranscriptEvent("ana", "dinner tonight", 0.2, 0.7, True)
        engines.append(ScriptedEngine([(0.6, trigger(0.51, 0.6)), (0.8, transcript)]))
        return engines[-1]

    sink = Sink()
    worker = SpeechWorker(make, sink, name="speech-test-times")
    received = [T0 + 0.02 * k + 0.003 * (k % 3) for k in range(50)]  # 1 s, with network jitter
    try:
        for t in received:
            worker.push(audio_frame(), t)
        got = sink.wait_for(2)
    finally:
        worker.close()
    assert len(engines) == 1 and worker.restarts == 0
    (event, emitted_t, phrase_end_t), (transcript, t_emitted, t_end) = got
    assert event == trigger(0.51, 0.6)  # the engine's clock started with the call's
    assert phrase_end_t == receive_time(0.51, received, 50)
    assert phrase_end_t <= emitted_t and emitted_t >= time.time() - 5
    assert isinstance(transcript, TranscriptEvent) and (transcript.start_s, transcript.end_s) == (0.2, 0.7)
    assert t_end is None and t_emitted >= emitted_t


def test_a_phrase_end_is_never_later_than_the_emission():
    sink = Sink()
    worker = SpeechWorker(lambda: ScriptedEngine([(0.3, trigger(0.25, 0.3))]), sink, name="speech-test-clamp")
    future = time.time() + 3600  # a receive clock ahead of this one
    try:
        for k in range(20):
            worker.push(audio_frame(), future + 0.02 * k)
        ((_, emitted_t, phrase_end_t),) = sink.wait_for(1)
    finally:
        worker.close()
    assert phrase_end_t == emitted_t


def test_a_failing_engine_is_replaced_and_later_times_stay_on_the_calls_clock(caplog):
    caplog.set_level(logging.ERROR, logger="triggers.worker")
    fail = threading.Event()
    engines: list[ScriptedEngine] = []

    def make() -> ScriptedEngine:
        if not engines:
            engines.append(ScriptedEngine([], fail_when=fail))
        else:  # the new engine's clock starts at 0 with the audio it is fed
            engines.append(
                ScriptedEngine([(0.5, trigger(0.31, 0.5)), (0.6, TranscriptEvent("ana", "hi", 0.1, 0.3, False))])
            )
        return engines[-1]

    sink = Sink()
    worker = SpeechWorker(make, sink, name="speech-test-restart")
    received = [T0 + 0.02 * k for k in range(100)]
    try:
        first_second = round(stream_ends(50)[-1] * SAMPLE_RATE)
        for t in received[:50]:  # 1 s fed to the first engine
            worker.push(audio_frame(), t)
        wait_until(lambda: engines and engines[0].fed == first_second)
        fail.set()
        worker.push(audio_frame(), received[50])  # this frame is lost with the failed engine
        wait_until(lambda: worker.restarts == 1)
        for t in received[51:]:
            worker.push(audio_frame(), t)
        got = sink.wait_for(2)
    finally:
        worker.close()
    assert worker.restarts == 1 and len(engines) == 2
    assert any("speech worker failed" in r.getMessage() for r in caplog.records)
    (event, emitted_t, phrase_end_t), (transcript, _, _) = got
    origin = stream_ends(51)[-1]  # the second engine starts after the lost frame
    assert event.phrase_end_s == pytest.approx(origin + 0.31)
    assert event.emitted_at_s == pytest.approx(origin + 0.5)
    assert phrase_end_t == receive_time(origin + 0.31, received, 100)
    assert (transcript.start_s, transcript.end_s) == (pytest.approx(origin + 0.1), pytest.approx(origin + 0.3))


def stuck_then_hearing():
    """An engine factory: the first engine blocks in feed until released; later ones hear a trigger.

    Returns (entered, release, engines made so far, the factory).
    """
    entered, release = threading.Event(), threading.Event()
    engines: list[ScriptedEngine] = []

    class Stuck(ScriptedEngine):
        def feed(self, samples):
            entered.set()
            assert release.wait(5.0)
            return super().feed(samples)

    def make() -> ScriptedEngine:
        engines.append(Stuck([]) if not engines else ScriptedEngine([(0.5, trigger(0.4, 0.5))]))
        return engines[-1]

    return entered, release, engines, make


def test_falling_far_behind_restarts_the_engine_on_the_newest_second():
    entered, release, engines, make = stuck_then_hearing()

    sink = Sink()
    worker = SpeechWorker(make, sink, name="speech-test-behind")
    n = 1 + 560  # one frame, then 11.2 s while the engine is stuck
    received = [T0 + 0.02 * k for k in range(n)]
    try:
        worker.push(audio_frame(), received[0])
        assert entered.wait(3.0)
        for t in received[1:]:
            worker.push(audio_frame(), t)
        release.set()
        ((event, _, phrase_end_t),) = sink.wait_for(1)
    finally:
        release.set()
        worker.close()
    assert len(engines) == 2 and worker.restarts == 0
    assert engines[1].fed == SAMPLE_RATE  # only the newest second
    origin = stream_ends(n)[-1] - 1.0
    assert event.phrase_end_s == pytest.approx(origin + 0.4)
    assert phrase_end_t == receive_time(origin + 0.4, received, n)


def test_set_phrases_reaches_the_current_engine_at_the_next_chunk():
    engines: list[ScriptedEngine] = []
    worker = SpeechWorker(lambda: engines.append(ScriptedEngine([])) or engines[-1], Sink(), name="speech-test-phrases")
    try:
        worker.push(audio_frame(), T0)
        wait_until(lambda: engines and engines[0].fed > 0)
        worker.set_phrases(["see you soon"])
        assert worker.phrases_applied_t is None  # the engine is fed on the worker thread only
        worker.push(audio_frame(), T0 + 0.02)
        wait_until(lambda: worker.phrases_applied_t is not None)
    finally:
        worker.close()
    assert engines[0].phrases == ["see you soon"] and len(engines) == 1


def test_close_stops_the_thread():
    worker = SpeechWorker(lambda: ScriptedEngine([]), Sink(), name="speech-test-close")
    assert "speech-test-close" in [t.name for t in threading.enumerate()]
    worker.close()
    assert "speech-test-close" not in [t.name for t in threading.enumerate()]


def test_audio_arriving_during_a_catch_up_does_not_shift_the_new_engines_clock():
    # A frame pushed between the worker taking its backlog and restarting on the newest
    # second must not move where that second starts on the call's clock.
    entered, release, engines, make = stuck_then_hearing()

    sink = Sink()
    worker = SpeechWorker(make, sink, name="speech-test-catch-up")
    n = 1 + 560
    received = [T0 + 0.02 * k for k in range(n + 1)]

    class PushDuringCatchUp(logging.Filter):
        def filter(self, record):
            if "fell" in record.getMessage():
                worker.push(audio_frame(), received[n])  # lands while the backlog is being cut
            return True

    hook = PushDuringCatchUp()
    logging.getLogger("triggers.worker").addFilter(hook)
    try:
        worker.push(audio_frame(), received[0])
        assert entered.wait(3.0)
        for t in received[1:n]:
            worker.push(audio_frame(), t)
        release.set()
        ((event, _, _),) = sink.wait_for(1)
    finally:
        logging.getLogger("triggers.worker").removeFilter(hook)
        release.set()
        worker.close()
    origin = stream_ends(n)[-1] - 1.0  # the newest second of the backlog, not of what came after
    assert event.phrase_end_s == pytest.approx(origin + 0.4)


class FlushingEngine(ScriptedEngine):
    """A scripted engine whose flush (end of stream) emits one last event."""

    def __init__(self, script: list[tuple[float, object]], at_flush: object) -> None:
        super().__init__(script)
        self.at_flush = at_flush
        self.flushed = False

    def flush(self) -> list:
        self.flushed = True
        return [self.at_flush]


def test_16k_samples_map_a_phrase_end_to_the_chunk_that_held_it():
    """`listen --realtime` pushes 16 kHz chunks: the phrase end's receive time is its chunk's, exactly."""
    sink = Sink()
    worker = SpeechWorker(lambda: ScriptedEngine([(0.6, trigger(0.51, 0.6))]), sink, name="speech-test-16k")
    fed = [T0 + 0.02 * k + 0.001 * (k % 4) for k in range(50)]
    try:
        for t in fed:
            worker.push_samples(np.zeros(320, np.float32), t)
        (event, emitted_t, phrase_end_t), *_ = sink.wait_for(1)
    finally:
        worker.close()
    assert event == trigger(0.51, 0.6)
    assert phrase_end_t == fed[25]  # 0.51 s lies in the 26th 20 ms chunk, (0.50, 0.52]


def test_a_draining_close_recognises_all_pending_audio_then_flushes():
    engines: list[FlushingEngine] = []
    final = TranscriptEvent("", "the end", 0.9, 1.0, True)

    def make() -> FlushingEngine:
        engines.append(FlushingEngine([], final))
        return engines[-1]

    sink = Sink()
    worker = SpeechWorker(make, sink, name="speech-test-drain")
    for k in range(100):  # 2 s pushed at once: more than the worker has taken when close() is called
        worker.push_samples(np.zeros(320, np.float32), T0 + 0.02 * k)
    worker.close(timeout=None, drain=True)
    assert len(engines) == 1 and engines[0].fed == 100 * 320 and engines[0].flushed
    assert [event for event, _, _ in sink.got] == [final]
    assert "speech-test-drain" not in [t.name for t in threading.enumerate()]


def test_a_plain_close_drops_pending_audio_and_does_not_flush():
    engines: list[FlushingEngine] = []
    gate = threading.Event()

    class SlowEngine(FlushingEngine):
        def feed(self, samples: np.ndarray) -> list:
            gate.wait(2.0)
            return super().feed(samples)

    worker = SpeechWorker(lambda: engines.append(SlowEngine([], None)) or engines[-1], Sink(), name="speech-test-drop")
    worker.push_samples(np.zeros(320, np.float32), T0)
    wait_until(lambda: bool(engines))
    for k in range(1, 50):
        worker.push_samples(np.zeros(320, np.float32), T0 + 0.02 * k)
    closer = threading.Thread(target=worker.close, kwargs={"timeout": 3.0})
    closer.start()
    gate.set()
    closer.join()
    assert engines[0].fed == 320 and not engines[0].flushed
