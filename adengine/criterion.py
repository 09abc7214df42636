"""Which swap is better for one person: the measure that decides when a trained swap replaces `warp`.

Two numbers per swap, over a few sampled ad frames:
- `appearance`: how far the ad's face looks from the person's held-back crops (crops the
  trained network never saw). Faces are aligned onto one template and described by
  their gradients (HOG, the eigenface idea without a learned model), so lighting and
  position matter less than eyes, brows, glasses and lines. Lower is more like the person.
- `motion`: how far the ad's face landmarks are from the actor's in that frame, in
  eye distances. The ad must keep the actor's expression and mouth. Lower is truer.

It uses only the face mesh the project already runs; the independent identity judge
(dlib) checks in the bench whether this measure picks the right swap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from adengine.face import FaceTracker
from models.faceswap.align import ANCHORS, TEMPLATE

# Landmarks that carry expression: eye corners and lids, brows, nose, lips, jaw line.
MOTION_POINTS = (33, 133, 159, 145, 362, 263, 386, 374, 70, 105, 300, 334, 1, 61, 291, 13, 14, 0, 17, 152, 234, 454)
_SIZE = 64
_HOG = cv2.HOGDescriptor((_SIZE, _SIZE), (16, 16), (8, 8), (8, 8), 9)
# A trained swap must beat warp's appearance by this much, and may lose this much motion.
APPEARANCE_MARGIN = 0.02
MOTION_SLACK = 0.05


@dataclass(frozen=True)
class SwapScore:
    """One swap's measure over the sampled frames (see the module's docstring)."""

    appearance: float
    motion: float
    frames: int  # sampled frames in which a face was found

    def beats(self, other: SwapScore) -> bool:
        """True when this swap is clearly more like the person and about as true to the actor."""
        if self.frames == 0 or other.frames == 0:
            return self.frames > 0
        return self.appearance < other.appearance - APPEARANCE_MARGIN and self.motion <= other.motion + MOTION_SLACK


def descriptor(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """The aligned face's gradient descriptor (unit length), or None when it cannot be aligned."""
    matrix, _ = cv2.estimateAffinePartial2D(landmarks[list(ANCHORS)].astype(np.float32), TEMPLATE * _SIZE)
    if matrix is None:
        return None
    grey = cv2.cvtColor(cv2.warpAffine(image, matrix, (_SIZE, _SIZE), flags=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    grey = cv2.equalizeHist(grey)  # lighting differs between a webcam and an ad
    feature = np.asarray(_HOG.compute(grey), np.float32).ravel()
    norm = float(np.linalg.norm(feature))
    return feature / norm if norm > 0 else None


def reference(crops: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The person's mean descriptor from (image, landmarks) crops; ValueError when none aligns."""
    found = [d for image, points in crops if (d := descriptor(image, points)) is not None]
    if not found:
        raise ValueError("no held-back crop could be aligned")
    mean = np.mean(found, axis=0)
    return mean / max(1e-6, float(np.linalg.norm(mean)))


def score(
    frames: Sequence[np.ndarray], actor: Sequence[np.ndarray], person: np.ndarray, tracker: FaceTracker
) -> SwapScore:
    """Measure swapped `frames` against the actor's landmarks in the same frames and the person's reference."""
    appearance, motion = [], []
    for frame, actor_points in zip(frames, actor, strict=True):
        face = tracker.track(frame, None)
        if face is None:
            continue
        d = descriptor(frame, face.landmarks)
        if d is None:
            continue
        appearance.append(1.0 - float(d @ person))
        eyes = float(np.linalg.norm(actor_points[33] - actor_points[263])) or 1.0
        picked = list(MOTION_POINTS)
        motion.append(float(np.linalg.norm(face.landmarks[picked] - actor_points[picked], axis=1).mean()) / eyes)
    if not appearance:
        return SwapScore(appearance=1.0, motion=float("inf"), frames=0)
    return SwapScore(float(np.median(appearance)), float(np.median(motion)), len(appearance))
