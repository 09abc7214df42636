"""Head pose (yaw, pitch, roll in degrees) from face-mesh landmarks.

A generic rigid 3D face of nine points is fitted to their 2D landmarks with
`cv2.solvePnP` under a pinhole camera whose focal length is the image width
(about a 53 degree field of view, typical of webcams). The result is coarse,
a few degrees, which is what pose bins and quality checks need.

The angles are taken against the line of sight from the camera to the face,
not against the camera's axis: a face near the top of the frame that looks
into the lens reads as frontal, because that is how it looks in a crop.

Signs follow `HeadPose`: yaw > 0 when the face turns towards the image's right
(the nose points right), pitch > 0 when it looks up, roll > 0 when the head
tilts clockwise as seen in the image (the top of the head moves right).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from adengine.face import HeadPose

# Mesh indices and model points in millimetres, camera axes (x to the image's
# right, y down, z away from the camera), origin at the nose tip. The points
# are mediapipe's own landmark depths on two frontal portraits (Eileen Collins
# and Grace Hopper), averaged, mirrored to be symmetric and scaled to 90 mm
# between the outer eye corners: a model that agrees with where the mesh puts
# each landmark, rather than with an anatomical ideal.
_MODEL_INDEX = (1, 152, 33, 263, 133, 362, 168, 61, 291)
_MODEL_MM = np.array(
    [
        [0.0, 0.0, 0.0],  # 1 nose tip
        [0.0, 68.7, 42.4],  # 152 chin
        [-45.0, -41.4, 41.0],  # 33 outer corner of the eye on the image's left
        [45.0, -41.4, 41.0],  # 263 outer corner of the eye on the image's right
        [-17.3, -39.4, 35.8],  # 133 inner corner, image left
        [17.3, -39.4, 35.8],  # 362 inner corner, image right
        [0.0, -43.9, 18.5],  # 168 bridge of the nose, between the eyes
        [-29.3, 20.0, 40.3],  # 61 mouth corner, image left
        [29.3, 20.0, 40.3],  # 291 mouth corner, image right
    ],
    dtype=np.float64,
)


def camera_matrix(width: int, height: int) -> np.ndarray:
    """Pinhole intrinsics with focal length = image width and the centre as principal point."""
    f = float(width)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def rotation_from_landmarks(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Rotation (3x3) of the face relative to the line of sight, fitted to `landmarks`.

    It takes the model's axes to those of a camera turned to look straight at
    the face. `image_size` is (width, height) of the frame the landmarks are in.
    """
    points = np.asarray(landmarks, dtype=np.float64)[list(_MODEL_INDEX)]
    K = camera_matrix(*image_size)
    # SQPnP finds the global optimum, so no initial guess is needed and it does
    # not fall into the mirrored solution (the face pointing away) that the
    # iterative solver can return for nearly planar point sets.
    # No lens distortion: an empty array, which OpenCV reads as None (its stubs refuse None).
    ok, rvec, tvec = cv2.solvePnP(_MODEL_MM, points, K, np.empty(0), flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        raise ValueError("solvePnP found no head pose for these landmarks")
    rotation, _ = cv2.Rodrigues(rvec)
    return _towards_line_of_sight(tvec.ravel()) @ rotation


def _towards_line_of_sight(ray: np.ndarray) -> np.ndarray:
    """The smallest rotation taking the camera-to-face ray onto the optical axis."""
    ray = ray / np.linalg.norm(ray)
    axis = np.cross(ray, [0.0, 0.0, 1.0])
    sin = np.linalg.norm(axis)
    if sin < 1e-9:
        return np.eye(3)
    angle = math.atan2(sin, ray[2])
    rotation, _ = cv2.Rodrigues(axis / sin * angle)
    return rotation


def pose_from_rotation(rotation: np.ndarray) -> HeadPose:
    """Yaw, pitch and roll of a model-to-camera rotation, in HeadPose's signs.

    Yaw and pitch are the direction the face points (its forward axis), roll
    the turn of its up axis about that direction: each angle means what it
    says even when the others are large, unlike a fixed Euler order.
    """
    forward = rotation @ np.array([0.0, 0.0, -1.0])  # out of the face, towards the camera when frontal
    up = rotation @ np.array([0.0, -1.0, 0.0])  # from the chin to the forehead
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    # The up axis a face pointing this way would have with no roll: the
    # camera's up, made perpendicular to `forward`.
    level_up = np.array([0.0, -1.0, 0.0]) - forward * -forward[1]
    level_up /= np.linalg.norm(level_up)
    # Clockwise in the image is positive; seen from the camera (looking along
    # +z, i.e. along -forward) that is a turn towards +x.
    roll = math.degrees(math.atan2(float(np.dot(np.cross(level_up, up), -forward)), float(np.dot(level_up, up))))
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll)


def estimate_pose(landmarks: np.ndarray, image_size: tuple[int, int]) -> HeadPose:
    """Head pose of a face from its (478, 2) landmarks in a frame of `image_size` (width, height)."""
    return pose_from_rotation(rotation_from_landmarks(landmarks, image_size))
