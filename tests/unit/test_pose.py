"""Head pose from landmarks: magnitudes near the truth, signs as HeadPose documents."""

import math

import cv2
import numpy as np
import pytest

from adengine.face import N_LANDMARKS
from adengine.pose import _MODEL_INDEX, _MODEL_MM, camera_matrix, estimate_pose

SIZE = (640, 480)
# The model's mirror pairs: flipping an image swaps which mesh point is which side.
MIRROR = {33: 263, 263: 33, 133: 362, 362: 133, 61: 291, 291: 61}


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Model-to-camera rotation turning the face by these angles (HeadPose signs)."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    # Camera axes: x right, y down, z away. Yaw towards +x is a turn about -y,
    # pitch up a turn about -x, roll clockwise (as seen) a turn about +z.
    ry, _ = cv2.Rodrigues(np.array([0.0, -y, 0.0]))
    rx, _ = cv2.Rodrigues(np.array([-p, 0.0, 0.0]))
    rz, _ = cv2.Rodrigues(np.array([0.0, 0.0, r]))
    # Roll about the face's own axis, then pitch, then yaw: yaw and pitch are
    # then where the face points and roll the turn about that, as pose.py reads them.
    return ry @ rx @ rz


def landmarks_for(yaw: float, pitch: float, roll: float, offset=(0.0, 0.0), distance: float = 600.0) -> np.ndarray:
    """478 landmarks whose model points are the generic face seen at this pose (others are filler)."""
    rvec, _ = cv2.Rodrigues(rotation(yaw, pitch, roll))
    K = camera_matrix(*SIZE)
    # Put the face on the line of sight through `offset` from the image centre.
    ray = np.array([offset[0] / K[0, 0], offset[1] / K[1, 1], 1.0])
    tvec = ray / np.linalg.norm(ray) * distance
    if offset != (0.0, 0.0):
        # Turn the face with the line of sight, so it still faces the camera the same way.
        axis = np.cross([0.0, 0.0, 1.0], ray)
        angle = math.atan2(np.linalg.norm(axis), ray[2])
        towards, _ = cv2.Rodrigues(axis / np.linalg.norm(axis) * angle)
        rvec, _ = cv2.Rodrigues(towards @ rotation(yaw, pitch, roll))
    projected, _ = cv2.projectPoints(_MODEL_MM, rvec, tvec, K, None)
    points = np.full((N_LANDMARKS, 2), (SIZE[0] / 2, SIZE[1] / 2), np.float32)
    points[list(_MODEL_INDEX)] = projected.reshape(-1, 2)
    return points


@pytest.mark.parametrize(
    "yaw, pitch, roll",
    [(0, 0, 0), (25, 0, 0), (-25, 0, 0), (0, 15, 0), (0, -15, 0), (0, 0, 20), (0, 0, -20), (30, -10, 8)],
)
def test_known_poses_are_recovered(yaw, pitch, roll):
    pose = estimate_pose(landmarks_for(yaw, pitch, roll), SIZE)
    assert pose.yaw == pytest.approx(yaw, abs=1.0)
    assert pose.pitch == pytest.approx(pitch, abs=1.0)
    assert pose.roll == pytest.approx(roll, abs=1.0)


def test_signs_read_as_the_image_shows_them():
    right = landmarks_for(30, 0, 0)
    # Turned to the image's right: the nose tip moves right of the eye corners' midpoint.
    assert right[1, 0] > (right[33, 0] + right[263, 0]) / 2
    up = landmarks_for(0, 20, 0)
    level = landmarks_for(0, 0, 0)
    # Looking up: the nose tip rises towards the eyes.
    assert (up[1, 1] - up[33, 1]) < (level[1, 1] - level[33, 1])
    clockwise = landmarks_for(0, 0, 20)
    # Clockwise roll: the eye on the image's right sits lower than the other.
    assert clockwise[263, 1] > clockwise[33, 1]


def test_a_mirrored_face_has_opposite_yaw_and_roll():
    points = landmarks_for(20, 10, 12)
    flipped = points.copy()
    flipped[:, 0] = SIZE[0] - points[:, 0]
    relabelled = flipped.copy()
    for a, b in MIRROR.items():
        relabelled[a] = flipped[b]
    pose, mirror = estimate_pose(points, SIZE), estimate_pose(relabelled, SIZE)
    assert mirror.yaw == pytest.approx(-pose.yaw, abs=0.5)
    assert mirror.roll == pytest.approx(-pose.roll, abs=0.5)
    assert mirror.pitch == pytest.approx(pose.pitch, abs=0.5)


def test_a_face_off_centre_looking_into_the_lens_reads_frontal():
    # Near the top left corner, facing the camera: what a crop of it would show.
    pose = estimate_pose(landmarks_for(0, 0, 0, offset=(-220.0, -160.0)), SIZE)
    assert abs(pose.yaw) < 1.0 and abs(pose.pitch) < 1.0
