"""The real mediapipe tracker, pose, quality and FaceBank on the two public-domain portraits."""

from __future__ import annotations

import numpy as np
import pytest

from adengine.face import N_LANDMARKS, Face, FaceError, HeadPose
from adengine.facebank import FaceBank, assess_image
from adengine.quality import assess_quality
from adengine.smoothing import OneEuroParams
from adengine.tracker import MediapipeFaceTracker
from tests.support import faces as F

pytestmark = pytest.mark.integration

PORTRAITS = {
    "astronaut": (F.astronaut, F.ASTRONAUT_FACE),
    "hopper": (F.hopper, F.HOPPER_FACE),
}


@pytest.fixture(scope="module")
def still() -> MediapipeFaceTracker:
    tracker = MediapipeFaceTracker(static=True)
    yield tracker
    tracker.close()


def portrait(name: str, width: float = 160.0) -> np.ndarray:
    load, spot = PORTRAITS[name]
    return F.portrait(load(), spot, width)


@pytest.mark.parametrize("name", PORTRAITS)
def test_landmarks_are_found_on_the_face(still, name):
    load, spot = PORTRAITS[name]
    image = load()
    face = still.track(image)
    assert face is not None
    points = face.landmarks
    assert points.shape == (N_LANDMARKS, 2) and points.dtype == np.float32
    # All 478 inside the face where it really is (measured once, in tests/support/faces.py) ...
    cx, cy = spot.centre
    half = 0.75 * spot.width
    assert (np.abs(points - (cx, cy)) < half).all()
    x, y, w, h = face.box
    assert (points >= (x, y) - np.float32(0.01)).all() and (points <= (x + w + 0.01, y + h + 0.01)).all()
    assert w == pytest.approx(spot.width, rel=0.1)
    # ... and in their anatomical order: the image-left eye, the nose, the image-right eye; eyes, mouth, chin.
    assert points[33, 0] < points[1, 0] < points[263, 0]
    assert points[159, 1] < points[1, 1] < points[13, 1] < points[152, 1]
    assert face.confidence > 0.7
    assert abs(face.pose.yaw) < 10 and abs(face.pose.pitch) < 10


def test_a_still_face_does_not_jitter_once_smoothed():
    rng = np.random.default_rng(0)
    base = portrait("astronaut")
    frames = [F.add_noise(base, 4.0, rng) for _ in range(20)]  # the same face, fresh sensor noise

    def track(tracker: MediapipeFaceTracker) -> np.ndarray:
        with tracker:
            return np.stack([tracker.track(frame, i / 15).landmarks for i, frame in enumerate(frames)])

    raw = track(MediapipeFaceTracker(smoothing=None))
    smooth = track(MediapipeFaceTracker())
    settle = 5  # the filter starts from the first (noisy) frame
    raw_std = raw[settle:].std(axis=0).mean()
    smooth_std = smooth[settle:].std(axis=0).mean()
    assert raw_std > 0.05  # the noise does move the raw landmarks
    assert smooth_std < 0.5 * raw_std
    # Frame-to-frame motion, what an eye sees as jitter, over all 20 frames.
    raw_step = np.abs(np.diff(raw, axis=0)).mean()
    smooth_step = np.abs(np.diff(smooth, axis=0)).mean()
    assert smooth_step < 0.4 * raw_step


def test_smoothing_does_not_lag_behind_a_moving_head():
    frames = F.animate(F.astronaut(), 30, spot=F.ASTRONAUT_FACE, shift_px=60.0, period_s=1.5)

    def track(tracker: MediapipeFaceTracker) -> np.ndarray:
        with tracker:
            return np.stack([tracker.track(f, i / 15).landmarks for i, f in enumerate(frames)])

    raw = track(MediapipeFaceTracker(smoothing=None))
    smooth = track(MediapipeFaceTracker())
    plain = track(MediapipeFaceTracker(smoothing=OneEuroParams(beta=0.0)))  # a fixed low-pass
    speed = np.linalg.norm(np.diff(raw.mean(axis=1), axis=0), axis=1).max() * 15
    assert speed > 150  # px/s: the head really moves fast
    lag = np.linalg.norm(smooth - raw, axis=2).mean(axis=1)
    plain_lag = np.linalg.norm(plain - raw, axis=2).mean(axis=1)
    assert lag.mean() < 2.5 and lag.max() < 5.0  # pixels, on a 160 px face
    assert lag.mean() < 0.3 * plain_lag.mean()


def test_a_gap_in_time_or_a_lost_face_restarts_the_smoothing():
    face_frame = portrait("hopper")
    moved = F.place(F.hopper(), centre=F.HOPPER_FACE.centre, zoom=160 / F.HOPPER_FACE.width, shift=(80, 0))
    with MediapipeFaceTracker() as tracker:
        tracker.track(face_frame, 0.0)
        after_gap = tracker.track(moved, 5.0)  # five seconds later: no blending with the old position
        assert tracker.track(F.noise_image(), 5.1) is None
        after_loss = tracker.track(face_frame, 5.2)
    with MediapipeFaceTracker(static=True) as fresh:
        np.testing.assert_allclose(after_gap.landmarks, fresh.track(moved).landmarks, atol=2.0)
        np.testing.assert_allclose(after_loss.landmarks, fresh.track(face_frame).landmarks, atol=2.0)


def test_yaw_changes_sign_with_a_horizontal_flip(still):
    turned = F.turned(portrait("hopper", 200), F.FaceSpot((320.0, 240.0), 200.0), 40.0)
    pose = still.track(turned).pose
    flipped = still.track(F.mirrored(turned)).pose
    assert pose.yaw > 8  # turned towards the image's right, as HeadPose counts it
    assert flipped.yaw < -8
    assert pose.yaw + flipped.yaw == pytest.approx(0.0, abs=3.0)
    assert pose.pitch == pytest.approx(flipped.pitch, abs=3.0)


def test_roll_follows_an_image_rotation(still):
    image = F.hopper()
    clockwise = F.place(image, centre=F.HOPPER_FACE.centre, angle_deg=-15.0)
    counter = F.place(image, centre=F.HOPPER_FACE.centre, angle_deg=15.0)
    base = still.track(F.place(image, centre=F.HOPPER_FACE.centre)).pose.roll
    assert still.track(clockwise).pose.roll == pytest.approx(base + 15.0, abs=4.0)
    assert still.track(counter).pose.roll == pytest.approx(base - 15.0, abs=4.0)


def test_the_larger_of_two_faces_is_tracked():
    canvas = np.empty((480, 640, 3), np.uint8)
    canvas[:, 320:] = F.portrait(F.astronaut(), F.ASTRONAUT_FACE, 110, (320, 480))  # the detector's favourite
    canvas[:, :320] = F.portrait(F.hopper(), F.HOPPER_FACE, 170, (320, 480))
    with MediapipeFaceTracker(static=True) as tracker:
        face = tracker.track(canvas)
    assert face.box[0] + face.box[2] < 320 and face.box[2] > 150


@pytest.mark.parametrize("name", PORTRAITS)
def test_a_clear_portrait_is_accepted(still, name):
    crop = assess_image(portrait(name), still)
    assert crop.quality.usable
    h, w = crop.image.shape[:2]
    assert (crop.landmarks >= 0).all() and (crop.landmarks < (w, h)).all()
    assert w >= crop.quality.width_px


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda: F.dark(portrait("astronaut")), "^too dark$"),
        (lambda: F.dark(portrait("hopper")), "^too dark$"),
        (lambda: F.small(F.astronaut(), F.ASTRONAUT_FACE, 50), r"^face too small \(5\d px wide, needs 80\)$"),
        (lambda: F.small(F.hopper(), F.HOPPER_FACE, 50), r"^face too small \(5\d px wide, needs 80\)$"),
        (lambda: F.noise_image(), "^no face found$"),
        (lambda: F.blurred(portrait("astronaut"), 3.0), "^face blurred$"),
        (lambda: F.blurred(portrait("hopper"), 5.0), "^face blurred$"),
        (
            lambda: F.place(F.hopper(), centre=F.HOPPER_FACE.centre, zoom=160 / F.HOPPER_FACE.width, shift=(0, 200)),
            "^face partly outside the frame$",
        ),
    ],
    ids=[
        "dark-astronaut",
        "dark-hopper",
        "small-astronaut",
        "small-hopper",
        "noise",
        "blur-astronaut",
        "blur-hopper",
        "cut-off",
    ],
)
def test_an_unusable_image_says_why(still, make, reason):
    with pytest.raises(FaceError, match=reason):
        assess_image(make(), still)


def test_a_masked_face_is_partly_covered(still):
    image = portrait("hopper")
    masked = F.covered(image, still.track(image).landmarks)
    with pytest.raises(FaceError, match="^face partly covered$"):
        assess_image(masked, still)


class TurnedHead:
    """The real tracker, with the yaw a strongly turned head would have.

    Face mesh reads a flat turned photo as only slightly turned (tests/support/faces.py
    `turned`), so a real 50+ degree turn cannot be made from these portraits.
    """

    def __init__(self, inner: MediapipeFaceTracker, yaw: float) -> None:
        self.inner, self.yaw = inner, yaw

    def track(self, frame: np.ndarray, timestamp_s: float | None = None) -> Face | None:
        face = self.inner.track(frame, timestamp_s)
        if face is None:
            return None
        pose = HeadPose(self.yaw, face.pose.pitch, face.pose.roll)
        return Face(box=face.box, landmarks=face.landmarks, pose=pose, confidence=face.confidence)

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        pass


def test_a_heavily_turned_face_is_refused_with_the_angle(still):
    with pytest.raises(FaceError, match=r"^head turned too far \(yaw -52°\)$"):
        assess_image(portrait("astronaut"), TurnedHead(still, -52.0))
    # The same real face, a little turned, is fine; the quality score falls with the turn.
    image = portrait("astronaut")
    face = still.track(image)
    assess_image(image, TurnedHead(still, 30.0))
    scores = [assess_quality(image, TurnedHead(still, yaw).track(image)).score for yaw in (0.0, 30.0, 52.0)]
    assert scores[0] > scores[1] > scores[2]
    assert face is not None


def test_a_facebank_fed_camera_like_video_collects_usable_crops():
    frames = F.animate(F.astronaut(), 45, spot=F.ASTRONAUT_FACE)  # 3 s at 15 fps
    with MediapipeFaceTracker() as tracker:
        bank = FaceBank("eileen", tracker, consent=True, max_fps=5.0, per_bin=3)
        kept = [bank.offer(frame, i / 15) for i, frame in enumerate(frames)]
        coverage = bank.coverage()
        assert coverage.examined == 15
        assert 1 <= len(bank) <= 3 * 15
        assert sum(c is not None for c in kept) >= len(bank)
        best = bank.best()
        assert best is not None and best.quality.usable
        assert best.pose_bin.startswith("frontal")
        assert "frontal level" in coverage.bins
        assert "no left profile" in coverage.missing  # the synthetic head never turns
        h, w = best.image.shape[:2]
        assert (best.landmarks >= 0).all() and (best.landmarks < (w, h)).all()
        # The crop's landmarks sit on its own pixels: the eyes are darker than the cheeks.
        gray = best.image.mean(axis=2)
        eye = gray[int(best.landmarks[468, 1]), int(best.landmarks[468, 0])]  # an iris centre
        cheek = gray[int(best.landmarks[118, 1]), int(best.landmarks[118, 0])]
        assert eye < cheek
        bank.clear()
        assert len(bank) == 0 and not best.image.any()


def test_a_facebank_fed_a_dark_room_says_so():
    frames = [F.dark(f) for f in F.animate(F.hopper(), 15, spot=F.HOPPER_FACE)]
    with MediapipeFaceTracker() as tracker:
        bank = FaceBank("grace", tracker, consent=True)
        for i, frame in enumerate(frames):
            bank.offer(frame, i / 5)
        coverage = bank.coverage()
    assert len(bank) == 0 and bank.best() is None
    assert "too dark" in coverage.missing
    assert "too dark" in coverage.summary()
