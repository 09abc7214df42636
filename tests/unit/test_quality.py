"""Face quality on a drawn face with hand-placed landmarks: each defect gives its plain reason."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest

from adengine.face import N_LANDMARKS, Face, HeadPose
from adengine.quality import MIN_WIDTH_PX, FaceQuality, assess_quality, eye_aspect

SKIN = (205, 150, 125)


def drawn_face(
    width: float = 170.0,
    centre: tuple[float, float] = (200.0, 160.0),
    size: tuple[int, int] = (400, 320),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A skin-coloured oval with eyes, brows and a mouth on a textured background, and its landmarks.

    All 478 points lie on the oval's outline (so the hull is the face) except
    the ones quality reads: eye contours and the skin probes.
    """
    rng = np.random.default_rng(seed)
    w_px, h_px = size
    cx, cy = centre
    frame = np.empty((h_px, w_px, 3), np.uint8)
    frame[:] = (90, 110, 95)
    axes = (width / 2, width * 0.65)
    cv2.ellipse(frame, (round(cx), round(cy)), (round(axes[0]), round(axes[1])), 0, 0, 360, SKIN, -1)
    u = width / 100.0  # drawing unit
    for side in (-1, 1):
        ex, ey = cx + side * 22 * u, cy - 10 * u
        cv2.ellipse(frame, (round(ex), round(ey)), (round(9 * u), round(3 * u)), 0, 0, 360, (60, 40, 35), -1)
        cv2.line(
            frame, (round(ex - 10 * u), round(ey - 9 * u)), (round(ex + 10 * u), round(ey - 10 * u)), (80, 55, 40), 2
        )
    cv2.line(
        frame, (round(cx - 15 * u), round(cy + 30 * u)), (round(cx + 15 * u), round(cy + 30 * u)), (150, 70, 70), 2
    )
    # Skin texture, so the face has the fine detail a camera records.
    texture = cv2.GaussianBlur(rng.normal(0, 14, (h_px, w_px)).astype(np.float32), (0, 0), 0.8)
    frame = np.clip(frame.astype(np.float32) + texture[..., None], 0, 255).astype(np.uint8)

    angles = np.linspace(0, 2 * math.pi, N_LANDMARKS, endpoint=False)
    points = np.stack([cx + axes[0] * np.cos(angles), cy + axes[1] * np.sin(angles)], axis=1)
    placed = {
        # image-left eye: outer, inner, upper pair, lower pair
        33: (-32, -10), 133: (-12, -10), 160: (-25, -13), 158: (-19, -13), 144: (-25, -7), 153: (-19, -7),
        # image-right eye
        263: (32, -10), 362: (12, -10), 387: (25, -13), 385: (19, -13), 373: (25, -7), 380: (19, -7),
        # skin probes (adengine.quality): reference band, then the rest
        6: (0, -4), 118: (-22, 4), 347: (22, 4),
        9: (0, -30), 205: (-25, 15), 425: (25, 15), 4: (0, 8), 164: (0, 20), 199: (0, 42),
    }  # fmt: skip
    for index, (dx, dy) in placed.items():
        points[index] = (cx + dx * u, cy + dy * u)
    return frame, points.astype(np.float32)


FRONTAL = HeadPose(0.0, 0.0, 0.0)


def face_at(landmarks: np.ndarray, pose: HeadPose = FRONTAL) -> Face:
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    return Face(
        box=(float(x0), float(y0), float(x1 - x0), float(y1 - y0)), landmarks=landmarks, pose=pose, confidence=0.9
    )


def quality(frame: np.ndarray, landmarks: np.ndarray, pose: HeadPose = FRONTAL) -> FaceQuality:
    return assess_quality(frame, face_at(landmarks, pose))


@pytest.fixture(scope="module")
def good() -> tuple[np.ndarray, np.ndarray]:
    return drawn_face()


def test_a_clear_frontal_face_is_usable(good):
    q = quality(*good)
    assert q.problems() == [] and q.usable
    for name in ("frontality", "sharpness", "exposure", "size", "eyes_open", "in_frame", "skin_consistency"):
        assert getattr(q, name) > 0.7, name
    assert q.score > 0.8
    assert q.width_px == pytest.approx(170, abs=1)


def test_a_small_face_says_how_small_and_what_is_needed():
    frame, points = drawn_face(width=54)
    q = quality(frame, points)
    assert q.problems()[0] == f"face too small (54 px wide, needs {MIN_WIDTH_PX})"
    assert q.kinds()[0] == "face too small"
    assert not q.usable


def test_darkness_is_reported_as_such_and_not_as_blur(good):
    frame, points = good
    q = quality((frame * 0.12).astype(np.uint8), points)
    assert q.problems() == ["too dark"]
    assert q.exposure < 0.1


def test_an_overexposed_face_is_too_bright(good):
    frame, points = good
    q = quality(np.clip(frame.astype(np.float32) * 2.2 + 40, 0, 255).astype(np.uint8), points)
    assert "too bright" in q.problems()


def test_blur_is_reported_and_sharpness_falls_with_it(good):
    frame, points = good
    values = [quality(cv2.GaussianBlur(frame, (0, 0), s) if s else frame, points).sharpness for s in (0, 1.5, 4)]
    assert values[0] > values[1] > values[2]
    assert "face blurred" in quality(cv2.GaussianBlur(frame, (0, 0), 4), points).problems()


def test_sharpness_does_not_depend_on_face_size_or_brightness(good):
    frame, points = good
    base = quality(frame, points).sharpness
    bigger = cv2.resize(frame, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    assert quality(bigger, points * 2).sharpness == pytest.approx(base, abs=0.2)
    dimmer = (frame * 0.6).astype(np.uint8)
    assert quality(dimmer, points).sharpness == pytest.approx(base, abs=0.15)


@pytest.mark.parametrize(
    "pose, message",
    [
        (HeadPose(52.0, 0.0, 0.0), "head turned too far (yaw 52°)"),
        (HeadPose(-52.0, 0.0, 0.0), "head turned too far (yaw -52°)"),
        (HeadPose(0.0, 40.0, 0.0), "head tilted too far (pitch 40°)"),
    ],
)
def test_a_turned_head_gives_the_angle(good, pose, message):
    q = quality(*good, pose=pose)
    assert q.problems() == [message]
    assert q.frontality < quality(*good).frontality


def test_roll_alone_is_no_problem(good):
    assert quality(*good, pose=HeadPose(0.0, 0.0, 35.0)).usable


def test_closed_eyes(good):
    frame, points = good
    shut = points.copy()
    for upper, lower in ((160, 144), (158, 153), (387, 373), (385, 380)):
        shut[upper] = shut[lower] = (points[upper] + points[lower]) / 2
    assert eye_aspect(shut) < 0.01 < 0.2 < eye_aspect(points)
    q = quality(frame, shut)
    assert q.problems() == ["eyes closed"]
    assert q.eyes_open == 0.0


def test_a_face_partly_outside_the_frame():
    frame, points = drawn_face(centre=(50.0, 160.0))
    q = quality(frame, points)
    assert "face partly outside the frame" in q.problems()
    assert 0.5 < q.in_frame < 0.95


def test_a_mask_over_the_lower_face_is_partly_covered(good):
    frame, points = good
    # A surgical mask: everything from just above the nose tip down.
    masked = frame.copy()
    below = points[points[:, 1] >= points[4, 1] - 3]
    cv2.fillConvexPoly(masked, cv2.convexHull(np.round(below).astype(np.int32)), (70, 90, 160))
    q = quality(masked, points)
    assert q.problems() == ["face partly covered"]
    assert q.skin_consistency < 0.5


def test_every_problem_lowers_the_score(good):
    frame, points = good
    clean = quality(frame, points).score
    worse = [
        quality((frame * 0.12).astype(np.uint8), points),
        quality(cv2.GaussianBlur(frame, (0, 0), 4), points),
        quality(frame, points, HeadPose(52.0, 0.0, 0.0)),
        quality(*drawn_face(width=54)),
    ]
    assert all(q.score < clean - 0.05 for q in worse)


def test_kinds_match_problems_without_figures(good):
    frame, points = drawn_face(width=54)
    q = quality((frame * 0.12).astype(np.uint8), points, HeadPose(60.0, 0.0, 0.0))
    assert len(q.kinds()) == len(q.problems()) == 3
    assert q.kinds() == ["face too small", "too dark", "head turned too far"]
    assert not any(ch.isdigit() for kind in q.kinds() for ch in kind)


def test_quality_is_frozen(good):
    q = quality(*good)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.sharpness = 0.0  # type: ignore[misc]
