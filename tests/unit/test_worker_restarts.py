"""Workers that crash restart: speech (an engine that keeps failing), faces (a tracker that cannot even be
made again), renders (a swap that fails once, a trained swap that fails for good); and a pipeline whose
face worker cannot start leaves no speech thread and no recogniser behind. Failures are injected."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest

import callbridge.workers.faces as faces_module
import callbridge.workers.pipeline as pipeline_module
import triggers.worker as worker_module
from adengine.renderer import AdRenderer
from callbridge.workers.pipeline import ParticipantPipeline
from tests.unit.test_consent_races import FakeServices, PaintSwapper, _template
from tests.unit.test_facework import Harness, frame_with_index
from tests.unit.test_renderer import _face
from tests.unit.test_speech_worker import ScriptedEngine, audio_frame
from triggers.events import TranscriptEvent
from triggers.worker import SpeechWorker


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_an_engine_that_keeps_failing_is_retried_with_a_growing_pause_and_then_recovers(monkeypatch, caplog):
    monkeypatch.setattr(worker_module, "BACKOFF_S", 0.05)
    broken = threading.Event()
    broken.set()
    made: list[float] = []
    events: list = []
    hello = TranscriptEvent("ana", "hello", 0.0, 0.1, True)

    def make() -> ScriptedEngine:
        made.append(time.monotonic())
        if broken.is_set():
            raise RuntimeError("the recogniser is gone")
        return ScriptedEngine([(0.01, hello)])

    worker = SpeechWorker(make, lambda e, t, r: events.append(e), name="speech-test-backoff")
    try:
        with caplog.at_level(logging.ERROR, logger="triggers.worker"):
            for k in range(200):  # 4 s of audio at 20 ms, pushed in 0.4 s
                worker.push(audio_frame(), float(k))
                time.sleep(0.002)
                if len(made) >= 4:
                    break
            wait_until(lambda: len(made) >= 4)
        gaps = np.diff(made)
        assert gaps[2] >= 0.09 and gaps[2] > gaps[1] >= 0.04, gaps  # 0.05 s, then 0.1 s
        tracebacks = [r for r in caplog.records if r.exc_info]
        assert len(tracebacks) == 1  # only the first failure in a row carries a traceback
        assert any("failed again (3 in a row" in r.getMessage() for r in caplog.records)
        broken.clear()  # the recogniser is back
        for k in range(50):
            worker.push(audio_frame(), 100.0 + k)
            time.sleep(0.002)
        wait_until(lambda: events)
        assert events[0].text == "hello" and worker.failures_in_a_row == 0 and worker.restarts >= 3
    finally:
        worker.close()


def test_a_face_worker_whose_new_tracker_cannot_be_made_keeps_running(monkeypatch, caplog):
    monkeypatch.setattr(faces_module, "BACKOFF_S", 0.02)
    h = Harness(monkeypatch)
    try:
        h.worker.set_consent(True)
        real_make = h.make_bank
        cannot = threading.Event()
        cannot.set()

        def make_bank():
            if cannot.is_set():
                raise RuntimeError("no face mesh today")
            return real_make()

        h.worker._make_bank = make_bank
        h.trackers[0].fail_next = True
        with caplog.at_level(logging.ERROR, logger="callbridge.workers.faces"):
            h.worker.offer(frame_with_index(1), 1.0)
            wait_until(lambda: h.worker.restarts == 1)
            time.sleep(0.1)
        assert h.worker._thread.is_alive()
        assert any("could not make a new tracker" in r.getMessage() for r in caplog.records)
        cannot.clear()
        h.trackers[0].fail_next = True  # the old tracker fails once more: this time a new one is made
        h.worker.offer(frame_with_index(2), 2.0)
        wait_until(lambda: len(h.banks) == 2)
        h.worker.offer(frame_with_index(3), 3.0)
        wait_until(lambda: len(h.faces) >= 1)
        assert h.worker.consent and h.worker.restarts == 2 and h.banks[-1].consent
    finally:
        h.close()


class FailOnce(PaintSwapper):
    name = "fail-once"

    def __init__(self) -> None:
        super().__init__()
        self.binds = 0

    def bind(self, face, track):
        self.binds += 1
        if self.binds == 1:
            raise RuntimeError("the swap crashed")
        return lambda i, frame: np.full_like(frame, face.value)


class AlwaysFails(PaintSwapper):
    name = "trained"

    def bind(self, face, track):
        raise RuntimeError("the trained swap is broken")


class Paint(PaintSwapper):
    name = "warp"

    def bind(self, face, track):
        return lambda i, frame: np.full_like(frame, face.value)


def test_a_render_that_fails_restarts_itself(caplog):
    swapper = FailOnce()
    renderer = AdRenderer(_template(), swapper)
    with caplog.at_level(logging.WARNING, logger="adengine.renderer"):
        assert renderer.offer(_face(90, 0.5))
        wait_until(lambda: renderer.ready)
    assert renderer.restarts == 1 and swapper.binds == 2
    assert renderer.wait(1).frames[0][5, 5, 0] == 90
    assert any("failed (RuntimeError: the swap crashed); restarting" in r.getMessage() for r in caplog.records)


def test_a_failing_trained_swap_falls_back_to_the_fallback_swap():
    renderer = AdRenderer(_template(), AlwaysFails(), fallback=Paint())
    renderer.offer(_face(70, 0.5))
    wait_until(lambda: renderer.ready)
    assert renderer.swapper.name == "warp" and renderer.wait(1).frames[-1][5, 5, 0] == 70


def test_a_render_that_failed_for_good_restarts_at_the_next_offer_of_the_same_face():
    swapper = AlwaysFails()
    renderer = AdRenderer(_template(), swapper)
    renderer.offer(_face(70, 0.5))
    wait_until(lambda: renderer._job is not None and renderer._job.done.is_set() and renderer._job.attempt == 1)
    assert not renderer.ready
    renderer.swapper = Paint()  # whatever broke is fixed
    assert renderer.offer(_face(70, 0.5))  # the same quality: no better, but the last render failed
    wait_until(lambda: renderer.ready)


def test_a_face_worker_that_fails_to_start_leaves_no_speech_thread_and_no_recogniser(monkeypatch):
    def no_mesh():
        raise RuntimeError("face mesh weights missing")

    monkeypatch.setattr(pipeline_module, "MediapipeFaceTracker", no_mesh)
    services = FakeServices()
    before = {t.name for t in threading.enumerate()}
    with pytest.raises(RuntimeError, match="face mesh weights missing"):
        ParticipantPipeline("ana", True, services, on_speech=lambda *a: None)  # type: ignore[arg-type]
    time.sleep(0.1)
    assert "speech-ana" not in {t.name for t in threading.enumerate()} - before
    assert services.recognizers.released == 1


def test_a_pipeline_renders_again_after_its_render_crashed(monkeypatch):
    """The relay's path: the pipeline's renderer restarts a crashed render by itself."""
    import adengine.facebank as facebank
    from tests.unit.test_consent_races import GatedTracker, face_frame
    from tests.unit.test_facework import good_quality

    monkeypatch.setattr(facebank, "assess_quality", good_quality)
    monkeypatch.setattr(pipeline_module, "MediapipeFaceTracker", GatedTracker)
    swapper = FailOnceImage()
    monkeypatch.setattr(pipeline_module, "AdRenderer", lambda t, trained, fallback: AdRenderer(t, swapper))
    pipeline = ParticipantPipeline("ana", True, FakeServices(), on_speech=lambda *a: None)  # type: ignore[arg-type]
    try:
        pipeline.feed_video(face_frame(), 0.0)
        wait_until(lambda: "t" in pipeline._renderers and pipeline._renderers["t"].ready)
        media = pipeline.ad_media("t")
        assert media is not None and media.personalised and swapper.binds == 2
    finally:
        pipeline.close()


class FailOnceImage(FailOnce):
    def bind(self, face, track):
        self.binds += 1
        if self.binds == 1:
            raise RuntimeError("the swap crashed")
        value = int(face.image[0, 0, 0])
        return lambda i, frame: np.full_like(frame, value)


def test_a_restarted_face_bank_still_knows_whose_face_to_take(monkeypatch):
    """After a tracker failure the new bank keeps the identity: a stranger alone in the frame is not taken."""
    import adengine.facebank as facebank
    from adengine.identity import IdentityGate
    from tests.unit.test_facework import FakeTracker, good_quality

    monkeypatch.setattr(facebank, "assess_quality", good_quality)

    class AllFaces(FakeTracker):
        def faces(self, frame):
            face = self.track(frame)
            return [] if face is None else [face]

    whose = {"who": np.array([1.0, 0.0], np.float32)}

    def describe(frame, landmarks):
        return whose["who"].copy()

    banks = []

    def make_bank():
        banks.append(facebank.FaceBank("ana", AllFaces(), max_fps=1000.0, identity=IdentityGate(describe)))
        return banks[-1]

    from callbridge.workers.faces import FaceWorker

    seen: list = []
    worker = FaceWorker(make_bank, seen.append, max_fps=100.0, name="faces-identity")
    try:
        worker.set_consent(True)
        worker.offer(frame_with_index(1), 1.0)
        wait_until(lambda: len(seen) == 1)
        banks[0].tracker.fail_next = True
        worker.offer(frame_with_index(2), 2.0)
        wait_until(lambda: len(banks) == 2)
        assert banks[1].identity is not None and banks[1].identity.known
        whose["who"] = np.array([0.0, 1.0], np.float32)  # someone else sits down, alone
        worker.offer(frame_with_index(3), 10.0)
        wait_until(lambda: banks[1].coverage().examined == 1)
        assert len(banks[1]) == 0 and len(seen) == 1
    finally:
        worker.close()
