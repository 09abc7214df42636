"""FaceBank logic with a scripted tracker and scripted quality: consent, rate, bins, coverage, wiping."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pytest

import adengine.facebank as facebank
from adengine.face import N_LANDMARKS, Face, FaceError, HeadPose
from adengine.facebank import ConsentError, FaceBank, FaceCrop, assess_image, pose_bin
from adengine.quality import FaceQuality

SIZE = (160, 120)  # frame width, height


@dataclass
class Shot:
    """What the scripted tracker and scorer say about one frame; None face: nothing found."""

    yaw: float = 0.0
    pitch: float = 0.0
    score: float = 0.8
    problems: tuple[str, ...] = ()  # quality kinds to fail with
    found: bool = True


def quality_for(shot: Shot, pose: HeadPose) -> FaceQuality:
    """A FaceQuality whose score is `shot.score` and whose problems are `shot.problems`."""
    s = shot.score
    return FaceQuality(
        frontality=s,
        sharpness=0.1 if "face blurred" in shot.problems else s,
        exposure=s,
        size=s,
        eyes_open=s,
        in_frame=0.5 if "face partly outside the frame" in shot.problems else 1.0,
        skin_consistency=1.0,
        pose=pose,
        width_px=40.0 if "face too small" in shot.problems else 120.0,
        luma=20.0 if "too dark" in shot.problems else 128.0,
        clipped=0.0,
        eye_aspect=0.05 if "eyes closed" in shot.problems else 0.3,
    )


class ScriptedTracker:
    """Reports the shot drawn into each frame's first pixel (an index into `shots`)."""

    def __init__(self, shots: list[Shot]) -> None:
        self.shots = shots
        self.calls = 0
        self.resets = 0
        self.timestamps: list[float | None] = []

    def track(self, frame: np.ndarray, timestamp_s: float | None = None) -> Face | None:
        self.calls += 1
        self.timestamps.append(timestamp_s)
        shot = self.shots[int(frame[0, 0, 0])]
        if not shot.found:
            return None
        rng = np.random.default_rng(int(frame[0, 0, 0]))
        landmarks = rng.uniform((50, 30), (110, 90), (N_LANDMARKS, 2)).astype(np.float32)
        return Face(
            box=(50.0, 30.0, 60.0, 60.0), landmarks=landmarks, pose=HeadPose(shot.yaw, shot.pitch, 0.0), confidence=0.9
        )

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        pass


@pytest.fixture
def scripted(monkeypatch):
    """Make a bank whose tracker and quality follow a list of shots; frames encode the shot index."""

    def make(shots: list[Shot], **kwargs) -> tuple[FaceBank, ScriptedTracker, list[np.ndarray]]:
        tracker = ScriptedTracker(shots)

        def assess(frame: np.ndarray, face: Face) -> FaceQuality:
            return quality_for(shots[int(frame[0, 0, 0])], face.pose)

        monkeypatch.setattr(facebank, "assess_quality", assess)
        frames = []
        for i in range(len(shots)):
            frame = np.random.default_rng(i).integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
            frame[0, 0, 0] = i
            frames.append(frame)
        bank = FaceBank("alice", tracker, **{"consent": True, **kwargs})
        return bank, tracker, frames

    return make


def feed(bank: FaceBank, frames: list[np.ndarray], fps: float = 5.0) -> list[FaceCrop | None]:
    return [bank.offer(frame, i / fps) for i, frame in enumerate(frames)]


def test_without_consent_offer_raises_and_nothing_is_tracked(scripted):
    bank, tracker, frames = scripted([Shot()], consent=False)
    with pytest.raises(ConsentError, match="alice"):
        bank.offer(frames[0], 0.0)
    assert tracker.calls == 0 and len(bank) == 0
    bank.grant_consent()
    assert bank.offer(frames[0], 0.0) is not None
    assert tracker.calls == 1


def test_withdrawing_consent_wipes_and_stops(scripted):
    bank, tracker, frames = scripted([Shot(), Shot(yaw=-20)])
    crops = [c for c in feed(bank, frames) if c is not None]
    assert len(bank) == 2
    bank.withdraw_consent()
    assert len(bank) == 0 and bank.best() is None and not bank.consent
    assert all(not c.image.any() and not c.landmarks.any() for c in crops)
    with pytest.raises(ConsentError):
        bank.offer(frames[0], 10.0)
    assert tracker.calls == 2


def test_clear_really_empties_and_zeroes_the_crops(scripted):
    bank, tracker, frames = scripted([Shot(score=0.9), Shot(yaw=-20), Shot(yaw=40), Shot(problems=("too dark",))])
    crops = [c for c in feed(bank, frames) if c is not None]
    assert len(crops) == 3 and len(bank) == 3
    assert all(c.image.any() for c in crops)
    bank.clear()
    assert len(bank) == 0
    assert bank.best() is None
    assert all(not c.image.any() and not c.landmarks.any() for c in crops)
    coverage = bank.coverage()
    assert coverage.bins == {} and coverage.examined == 0 and coverage.rejected == {}
    assert tracker.resets == 1


def test_each_bin_keeps_only_its_best_per_bin(scripted):
    scores = [0.5, 0.9, 0.6, 0.8, 0.7, 0.55]
    bank, _, frames = scripted([Shot(score=s) for s in scores], per_bin=3)
    kept = feed(bank, frames)
    assert len(bank) == 3
    assert bank.coverage().bins == {"frontal level": 3}
    held = sorted(round(c.timestamp_s * 5) for c in kept if c is not None and c.image.any())
    assert held == [1, 3, 4]  # the frames scored 0.9, 0.8 and 0.7
    # Those pushed out (0.5, 0.6) were wiped; 0.55 never got in.
    assert kept[5] is None
    assert not kept[0].image.any() and not kept[2].image.any()


def test_frames_faster_than_max_fps_are_dropped_before_tracking(scripted):
    bank, tracker, frames = scripted([Shot()] * 30, max_fps=5.0)
    results = feed(bank, frames, fps=30.0)  # one second of 30 fps
    assert tracker.calls == 5
    assert sum(r is not None for r in results) <= 5
    assert bank.coverage().examined == 5


def test_slightly_early_frames_still_count_at_the_rate(scripted):
    # 15 fps with jittered timestamps: every third frame is about 0.2 s on.
    bank, tracker, frames = scripted([Shot()] * 15, max_fps=5.0)
    jitter = np.random.default_rng(3).uniform(-0.004, 0.004, 15)
    for i, frame in enumerate(frames):
        bank.offer(frame, i / 15 + jitter[i])
    assert tracker.calls == 5


def test_the_tracker_gets_no_timestamps_so_landmarks_match_the_pixels(scripted):
    bank, tracker, frames = scripted([Shot(), Shot()])
    feed(bank, frames)
    assert tracker.timestamps == [None, None]


def test_rejected_frames_are_counted_by_reason_and_not_kept(scripted):
    shots = [Shot(found=False), Shot(problems=("eyes closed",)), Shot(problems=("too dark", "face blurred")), Shot()]
    bank, _, frames = scripted(shots)
    results = feed(bank, frames)
    assert [r is not None for r in results] == [False, False, False, True]
    assert bank.coverage().rejected == {"no face found": 1, "eyes closed": 1, "too dark": 1}


def test_a_head_turned_past_the_limit_is_kept_for_coverage_but_never_best(scripted):
    bank, _, frames = scripted([Shot(yaw=60.0, score=0.95)])
    crop = feed(bank, frames)[0]
    assert crop is not None and crop.pose_bin == "right profile level"
    assert not crop.quality.usable
    assert bank.best() is None


def test_best_prefers_a_frontal_face_over_a_higher_scoring_turned_one(scripted):
    bank, _, frames = scripted([Shot(yaw=-20, score=0.95), Shot(yaw=2, score=0.7), Shot(yaw=-3, score=0.75)])
    feed(bank, frames)
    best = bank.best()
    assert best is not None and best.pose_bin == "frontal level" and best.timestamp_s == pytest.approx(0.4)


def test_best_falls_back_to_the_best_usable_score(scripted):
    bank, _, frames = scripted([Shot(yaw=-20, score=0.6), Shot(yaw=20, score=0.8)])
    feed(bank, frames)
    assert bank.best().pose_bin == "right level"


def test_coverage_names_what_is_missing_in_plain_words(scripted):
    shots = [Shot(), Shot(yaw=-20), Shot(problems=("too dark",)), Shot(problems=("too dark",)), Shot(pitch=15)]
    bank, _, frames = scripted(shots)
    feed(bank, frames)
    coverage = bank.coverage()
    assert coverage.bins == {"left level": 1, "frontal level": 1, "frontal up": 1}
    assert coverage.missing == ["no left profile", "no right", "no right profile", "no looking down", "too dark"]
    assert coverage.usable == 3 and coverage.examined == 5
    summary = coverage.summary()
    assert "3 face crops (3 usable) from 5 frames" in summary
    assert "no left profile" in summary and "too dark (2)" in summary


def test_a_rare_rejection_is_not_reported_as_missing(scripted):
    shots = [Shot(yaw=y) for y in (-40, -20, 0, 20, 40, 0, 0, 0, 0)] + [Shot(problems=("face too small",))]
    bank, _, frames = scripted(shots + [Shot(pitch=20), Shot(pitch=-20)])
    feed(bank, frames)
    coverage = bank.coverage()
    assert coverage.missing == []
    assert coverage.rejected == {"face too small": 1}


def test_with_no_usable_crop_every_reason_is_reported(scripted):
    bank, _, frames = scripted([Shot(problems=("face too small",))] + [Shot(found=False)] * 9)
    feed(bank, frames)
    missing = bank.coverage().missing
    assert "no face found" in missing and "face too small" in missing


@pytest.mark.parametrize(
    "yaw, pitch, name",
    [
        (0, 0, "frontal level"),
        (-9, 9, "frontal level"),
        (-15, 0, "left level"),
        (15, 12, "right up"),
        (-45, -15, "left profile down"),
        (70, 0, "right profile level"),
    ],
)
def test_pose_bins(yaw, pitch, name):
    assert pose_bin(HeadPose(yaw, pitch, 0.0)) == name


def test_crops_own_read_only_copies_in_crop_coordinates(scripted):
    bank, _, frames = scripted([Shot()])
    frame = frames[0]
    crop = bank.offer(frame, 0.0)
    original = crop.image.copy()
    frame[:] = 0  # the caller reuses its buffer
    assert np.array_equal(crop.image, original)
    with pytest.raises(ValueError):
        crop.image[0, 0, 0] = 1
    # Box (50, 30, 60, 60) with a 25% margin of 60 px: the crop starts at (35, 15).
    assert crop.image.shape == (90, 90, 3)
    assert crop.landmarks.dtype == np.float32 and crop.landmarks.shape == (N_LANDMARKS, 2)
    assert crop.landmarks.min() >= 0 and (crop.landmarks.max(axis=0) < (90, 90)).all()


def test_nothing_about_a_face_is_printed_logged_or_shown(scripted, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    bank, _, frames = scripted([Shot(), Shot(yaw=20)])
    crops = feed(bank, frames)
    bank.coverage().summary()
    text = repr(crops[0]) + repr(bank) + str(crops[0])
    assert "array" not in text and "image" not in text and "landmarks" not in text
    out = capsys.readouterr()
    assert out.out == "" and out.err == "" and caplog.records == []


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        FaceBank("bob", ScriptedTracker([]), max_fps=0)
    with pytest.raises(ValueError):
        FaceBank("bob", ScriptedTracker([]), per_bin=0)


def test_assess_image_says_no_face_found_with_any_tracker():
    image = np.zeros((120, 160, 3), np.uint8)
    with pytest.raises(FaceError, match="no face found"):
        assess_image(image, ScriptedTracker([Shot(found=False)]))
    with pytest.raises(ValueError, match="RGB uint8"):
        assess_image(np.zeros((120, 160), np.uint8), ScriptedTracker([Shot()]))
