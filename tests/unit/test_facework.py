"""FaceWorker between a fake source (av.VideoFrames offered by hand) and a real FaceBank over a scripted tracker."""

from __future__ import annotations

import logging
import threading
import time

import av
import numpy as np
import pytest

import adengine.facebank as facebank
from adengine.face import N_LANDMARKS, Face, HeadPose
from adengine.facebank import FaceBank, FaceCrop
from adengine.quality import FaceQuality
from callbridge.workers.faces import FaceWorker

SIZE = (160, 120)


def frame_with_index(i: int) -> av.VideoFrame:
    """A frame whose first pixel says which one it is."""
    rgb = np.full((SIZE[1], SIZE[0], 3), 90, np.uint8)
    rgb[0, 0, :2] = (i % 256, i // 256)
    return av.VideoFrame.from_ndarray(rgb, format="rgb24")


def good_quality(frame: np.ndarray, face: Face) -> FaceQuality:
    return FaceQuality(
        frontality=0.8, sharpness=0.8, exposure=0.8, size=0.8, eyes_open=0.8, in_frame=1.0, skin_consistency=1.0,
        pose=face.pose, width_px=120.0, luma=128.0, clipped=0.0, eye_aspect=0.3,
    )  # fmt: skip


class FakeTracker:
    """Finds a frontal face in every frame (or none); records which frames it saw; may fail once."""

    def __init__(self, find: bool = True, slow_s: float = 0.0) -> None:
        self.find = find
        self.slow_s = slow_s
        self.seen: list[int] = []
        self.resets = 0
        self.closed = False
        self.fail_next = False

    def track(self, frame: np.ndarray, timestamp_s: float | None = None) -> Face | None:
        self.seen.append(int(frame[0, 0, 0]) + 256 * int(frame[0, 0, 1]))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("tracker crashed")
        time.sleep(self.slow_s)
        if not self.find:
            return None
        landmarks = np.random.default_rng(0).uniform((50, 30), (110, 90), (N_LANDMARKS, 2)).astype(np.float32)
        return Face(box=(50.0, 30.0, 60.0, 60.0), landmarks=landmarks, pose=HeadPose(0.0, 0.0, 0.0), confidence=0.9)

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        self.closed = True


class Harness:
    """Banks made by the worker, their trackers, and the faces it reported."""

    def __init__(self, monkeypatch, find: bool = True, slow_s: float = 0.0, max_fps: float = 100.0) -> None:
        monkeypatch.setattr(facebank, "assess_quality", good_quality)
        self.trackers: list[FakeTracker] = []
        self.banks: list[FaceBank] = []
        self.faces: list[FaceCrop] = []
        self.find, self.slow_s = find, slow_s
        self.worker = FaceWorker(self.make_bank, self.faces.append, max_fps=max_fps, name="faces-test")

    def make_bank(self) -> FaceBank:
        self.trackers.append(FakeTracker(self.find, self.slow_s))
        self.banks.append(FaceBank("ana", self.trackers[-1], max_fps=1000.0))
        return self.banks[-1]

    def close(self) -> None:
        self.worker.close()


@pytest.fixture
def harness(monkeypatch):
    made: list[Harness] = []

    def make(**kwargs) -> Harness:
        made.append(Harness(monkeypatch, **kwargs))
        return made[-1]

    yield make
    for h in made:
        h.close()


def wait_until(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_without_consent_no_frame_reaches_the_tracker(harness):
    h = harness()
    assert not h.worker.consent
    for i in range(20):
        h.worker.offer(frame_with_index(i), i * 0.1)
    time.sleep(0.05)
    assert h.trackers[0].seen == [] and h.worker.examined == 0 and h.faces == []


def test_with_consent_the_newest_frame_wins(harness):
    h = harness(slow_s=0.03)
    h.worker.set_consent(True)
    frames = [frame_with_index(i) for i in range(200)]
    for i, frame in enumerate(frames):
        h.worker.offer(frame, float(i))
    wait_until(lambda: h.trackers[0].seen and h.trackers[0].seen[-1] == 199)
    seen = h.trackers[0].seen
    assert len(seen) < 10  # far fewer than offered
    assert seen == sorted(seen)  # never an older frame after a newer one
    assert h.worker.examined == len(seen)
    wait_until(lambda: len(h.faces) == min(len(seen), 3))  # equal crops: the bin keeps its first three
    assert h.faces[-1] is h.worker.bank.best()


def test_max_fps_limits_how_often_a_frame_is_examined(harness):
    h = harness(max_fps=10.0)
    h.worker.set_consent(True)
    began = time.monotonic()
    while time.monotonic() - began < 0.35:
        h.worker.offer(frame_with_index(1), time.monotonic())
        time.sleep(0.005)
    assert 2 <= h.worker.examined <= 5  # about 0.35 s x 10 per second, far below ~70 offers


def test_a_tracker_failure_is_logged_and_the_worker_restarts(harness, caplog):
    caplog.set_level(logging.ERROR, logger="callbridge.workers.faces")
    h = harness()
    h.worker.set_consent(True)
    h.worker.offer(frame_with_index(1), 1.0)
    wait_until(lambda: len(h.faces) == 1)
    first_bank, first_tracker = h.banks[0], h.trackers[0]
    first_tracker.fail_next = True
    h.worker.offer(frame_with_index(2), 2.0)
    wait_until(lambda: first_tracker.closed)  # the last step of a restart
    assert h.worker.restarts == 1
    assert any("face worker failed" in r.getMessage() for r in caplog.records)
    assert len(h.banks) == 2 and h.worker.bank is h.banks[1]
    assert h.worker.consent  # consent carries over to the fresh bank
    assert len(first_bank) == 0 and first_tracker.closed and first_tracker.resets >= 1  # the old one is wiped
    h.worker.offer(frame_with_index(3), 3.0)
    wait_until(lambda: h.trackers[1].seen == [3])
    wait_until(lambda: len(h.faces) == 2)
    assert len(h.worker.bank) == 1 and h.worker.restarts == 1


def test_withdrawing_consent_wipes_and_stops_looking(harness):
    h = harness()
    h.worker.set_consent(True)
    h.worker.offer(frame_with_index(1), 1.0)
    wait_until(lambda: len(h.faces) == 1)
    crop = h.faces[0]
    assert len(h.worker.bank) == 1 and crop.image.any()
    h.worker.set_consent(False)
    assert not h.worker.consent and len(h.worker.bank) == 0
    assert not crop.image.any()  # zeroed, not just dropped
    h.worker.offer(frame_with_index(2), 2.0)
    time.sleep(0.05)
    assert h.trackers[0].seen == [1]


def test_close_clears_the_bank_and_stops_the_thread(harness):
    h = harness()
    h.worker.set_consent(True)
    h.worker.offer(frame_with_index(1), 1.0)
    wait_until(lambda: len(h.faces) == 1)
    assert "faces-test" in [t.name for t in threading.enumerate()]
    h.worker.close()
    assert len(h.worker.bank) == 0 and not h.faces[0].image.any()
    assert h.trackers[0].closed
    assert "faces-test" not in [t.name for t in threading.enumerate()]


def test_a_tracker_that_also_fails_to_reset_is_still_replaced(harness, caplog):
    caplog.set_level(logging.ERROR, logger="callbridge.workers.faces")
    h = harness()
    h.worker.set_consent(True)
    h.worker.offer(frame_with_index(1), 1.0)
    wait_until(lambda: len(h.faces) == 1)
    first_bank, first_tracker, crop = h.banks[0], h.trackers[0], h.faces[0]

    def broken_reset() -> None:
        raise RuntimeError("graph is in an error state")

    first_tracker.fail_next = True
    first_tracker.reset = broken_reset
    h.worker.offer(frame_with_index(2), 2.0)
    wait_until(lambda: first_tracker.closed)
    assert len(first_bank) == 0 and not crop.image.any()  # wiped before the reset failed
    h.worker.offer(frame_with_index(3), 3.0)
    wait_until(lambda: len(h.trackers) == 2 and h.trackers[1].seen == [3])
    assert h.worker.restarts == 1
