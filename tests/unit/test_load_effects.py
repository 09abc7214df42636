"""What the load level changes in the workers: a speech worker's lag as it is measured, the face worker's
rate while busy, and the pre-renders put off while busy (only the likeliest template renders) and done after."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import adengine.facebank as facebank
import callbridge.workers.pipeline as pipeline_module
from adengine.renderer import AdRenderer
from callbridge.config.campaign import Campaign, PhraseRule, TemplateRecord
from callbridge.web.overload import speech_lag_s
from callbridge.workers.faces import FaceWorker, live_face_workers
from callbridge.workers.load import Throttle
from callbridge.workers.pipeline import ParticipantPipeline
from tests.unit.test_consent_races import FakeServices, GatedTracker, PaintSwapper, face_frame, wait_until
from tests.unit.test_facework import good_quality
from triggers.worker import SpeechWorker, live_workers


class HeldEngine:
    """Takes audio; while `hold` is clear, each feed waits (a decode the CPU is too busy for)."""

    def __init__(self, fail: bool = False) -> None:
        self.hold = threading.Event()
        self.hold.set()
        self.inside = threading.Event()
        self.fail = fail

    def feed(self, audio: np.ndarray) -> list:
        self.inside.set()
        assert self.hold.wait(5)
        if self.fail:
            raise RuntimeError("broken recogniser")
        return []

    def set_phrases(self, phrases) -> None:
        pass

    def flush(self) -> list:
        return []


def chunk() -> np.ndarray:
    return np.zeros(320, np.float32)  # 20 ms at 16 kHz


def test_lag_is_the_age_of_the_oldest_audio_not_yet_through_the_engine() -> None:
    engine = HeldEngine()
    worker = SpeechWorker(lambda: engine, lambda *a: None, name="speech-lag")  # type: ignore[arg-type,return-value]
    try:
        assert worker.lag_s == 0.0 and worker in live_workers()
        engine.hold.clear()
        worker.push_samples(chunk(), 0.0)
        assert engine.inside.wait(5)
        for _ in range(10):  # audio keeps coming while the decode is stuck
            worker.push_samples(chunk(), 0.0)
            time.sleep(0.03)
        assert 0.25 <= worker.lag_s < 2.0 and speech_lag_s() >= worker.lag_s - 0.01
        engine.hold.set()
        wait_until(lambda: worker.lag_s == 0.0)
    finally:
        worker.close()
    assert worker.closed and worker.lag_s == 0.0 and speech_lag_s() == 0.0


def test_a_recogniser_backing_off_after_failures_is_not_load() -> None:
    engine = HeldEngine(fail=True)
    worker = SpeechWorker(lambda: engine, lambda *a: None, name="speech-broken")  # type: ignore[arg-type,return-value]
    try:
        worker.push_samples(chunk(), 0.0)
        wait_until(lambda: worker.failures_in_a_row >= 1)
        for _ in range(5):
            worker.push_samples(chunk(), 0.0)
            time.sleep(0.05)
        assert worker.lag_s == 0.0
    finally:
        worker.close()


class StillBank:
    """A face bank with consent and a settled-or-not best face; the worker's pace is all that is looked at."""

    consent = True
    generation = 0

    def __init__(self) -> None:
        self.tracker = GatedTracker()

    def best(self) -> None:
        return None

    def clear(self) -> None:
        pass


def test_a_busy_relay_slows_each_face_worker_and_calm_restores_it_at_once() -> None:
    throttle = Throttle(busy_face_fps=1.0)
    worker = FaceWorker(StillBank, lambda crop: None, max_fps=5.0, throttle=throttle)  # type: ignore[arg-type]
    try:
        assert worker._pause() == pytest.approx(0.2)
        throttle.set_busy(True)
        assert worker._pause() == pytest.approx(1.0)
        throttle.set_busy(False)
        assert worker._pause() == pytest.approx(0.2)
        assert worker in live_face_workers() and not worker.closed
    finally:
        worker.close()
    assert worker.closed


class TwoTemplateStore:
    """A campaign whose lead phrase plays 'lead'; 'other' has a phrase too."""

    def campaign(self) -> Campaign:
        records = [TemplateRecord(name=n, status="ready", revision=1) for n in ("other", "lead")]
        rules = [PhraseRule("dinner tonight", "lead"), PhraseRule("pizza night", "other")]
        return Campaign(rules, records, revision=1)


@pytest.fixture
def made(monkeypatch):
    """A consenting pipeline over a scripted tracker and swap, on its own throttle; closed after the test."""
    monkeypatch.setattr(facebank, "assess_quality", good_quality)
    tracker, swapper = GatedTracker(), PaintSwapper()
    monkeypatch.setattr(pipeline_module, "MediapipeFaceTracker", lambda: tracker)
    monkeypatch.setattr(
        pipeline_module, "AdRenderer", lambda template, trained, fallback: AdRenderer(template, swapper)
    )
    services = FakeServices()
    services.store = TwoTemplateStore()  # type: ignore[assignment]
    throttle = Throttle()
    pipeline = ParticipantPipeline("ana", True, services, on_speech=lambda *a: None, throttle=throttle)  # type: ignore[arg-type]
    yield pipeline, throttle
    pipeline.close()


def test_while_busy_only_the_lead_template_is_pre_rendered_and_the_rest_follows_calm(made) -> None:
    pipeline, throttle = made
    throttle.set_busy(True)
    assert pipeline.likeliest_template() == "lead"
    pipeline.feed_video(face_frame(), 0.0)
    wait_until(lambda: pipeline._best is not None)
    time.sleep(0.1)
    assert sorted(pipeline._renderers) == ["lead"] and pipeline._put_off
    throttle.set_busy(False)  # the pipeline is subscribed: it renders what it put off, in a thread of its own
    wait_until(lambda: sorted(pipeline._renderers) == ["lead", "other"])
    assert not pipeline._put_off


def test_the_template_a_participant_last_triggered_becomes_the_likeliest(made) -> None:
    pipeline, throttle = made
    assert pipeline.ad_media("other") is None  # nothing rendered, no fallback: but it was asked to play
    assert pipeline.likeliest_template() == "other"
    throttle.set_busy(True)
    pipeline.feed_video(face_frame(), 0.0)
    wait_until(lambda: pipeline._best is not None)
    time.sleep(0.1)
    assert sorted(pipeline._renderers) == ["other"]


def test_a_closed_pipeline_is_no_longer_told_of_calm(made) -> None:
    pipeline, throttle = made
    throttle.set_busy(True)
    pipeline.close()
    assert pipeline not in list(throttle._waiting)
    throttle.set_busy(False)
    assert not pipeline._renderers
