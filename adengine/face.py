"""What a face tracker reports about one face in one frame.

All images in adengine are RGB uint8 arrays of shape (height, width, 3).
Landmarks follow mediapipe's 478-point face mesh (468 + 10 iris points), in
pixel coordinates of the frame they were found in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

N_LANDMARKS = 478


class FaceError(ValueError):
    """An image or video holds no usable face; the message says why."""


@dataclass(frozen=True)
class HeadPose:
    """Head rotation in degrees: yaw > 0 turns to the image's right, pitch > 0 looks up,
    roll > 0 tilts the head clockwise as seen in the image."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Face:
    """One tracked face."""

    box: tuple[float, float, float, float]  # x, y, width, height in pixels
    landmarks: np.ndarray  # (478, 2) float32, pixels
    pose: HeadPose
    confidence: float  # 0..1


class FaceTracker(Protocol):
    """Finds the main face in a stream of frames (or in single images).

    Backends (mediapipe face mesh today; mediapipe tasks or insightface later)
    implement this and nothing else, so callers never change.
    """

    def track(self, frame: np.ndarray, timestamp_s: float | None = None) -> Face | None:
        """The most prominent face in `frame`, smoothed over time when timestamps are given."""
        ...

    def reset(self) -> None:
        """Forget temporal state (a new stream or a cut)."""
        ...

    def close(self) -> None: ...
