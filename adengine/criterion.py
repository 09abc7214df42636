"""Which swap is better for one person: the measure that decides when a trained swap replaces `warp`.

Two numbers per swap, over a few sampled ad frames:
- `appearance`: how far the ad's face looks from the person's held-back crops (crops the
  trained network never saw). Faces are aligned onto one template and described by
  their gradients (HOG, the eigenface idea without a learned model), so lighting and
  position matter less than eyes, brows, glasses and lines. Lower is more like the person.
- `motion`: how far the ad's face landmarks are from the actor's in that frame, in
  eye distances. The ad must keep the actor's expression. Lower is truer.
- `mouth`: the ad's gap between the inner lips over the actor's, in frames where the
  actor's lips are apart. A network that has learnt only one still face pastes a shut
  mouth over a smile: near the person, but no longer an actor speaking (1 keeps it).

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
UPPER_LIP, LOWER_LIP, EYE_L, EYE_R = 13, 14, 33, 263
LIPS_APART = 0.05  # the actor's lip gap, in eye distances, from which the mouth counts as open
# A trained swap must beat warp's appearance by this much, keep its motion within this factor
# (plus a floor for landmark noise), and keep at least this share of the actor's lip gap.
APPEARANCE_MARGIN = 0.02
MOTION_FACTOR, MOTION_FLOOR = 1.5, 0.01
MOUTH_KEPT = 0.5


@dataclass(frozen=True)
class SwapScore:
    """One swap's measure over the sampled frames (see the module's docstring)."""

    appearance: float
    motion: float
    frames: int  # sampled frames in which a face was found
    mouth: float = float("nan")  # nan when the actor's lips are never apart in the sampled frames

    def beats(self, other: SwapScore) -> bool:
        """True when this swap is clearly more like the person and about as true to the actor."""
        if self.frames == 0 or other.frames == 0:
            return self.frames > 0
        closer = self.appearance < other.appearance - APPEARANCE_MARGIN
        moves = self.motion <= other.motion * MOTION_FACTOR + MOTION_FLOOR
        bar = MOUTH_KEPT * (1.0 if np.isnan(other.mouth) else min(1.0, other.mouth))
        speaks = np.isnan(self.mouth) or self.mouth >= bar
        return bool(closer and moves and speaks)


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
    appearance, motion, mouth = [], [], []
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
        actor_gap = lip_gap(actor_points)
        if actor_gap >= LIPS_APART:
            mouth.append(lip_gap(face.landmarks) / actor_gap)
    if not appearance:
        return SwapScore(appearance=1.0, motion=float("inf"), frames=0)
    kept = float(np.median(mouth)) if mouth else float("nan")
    return SwapScore(float(np.median(appearance)), float(np.median(motion)), len(appearance), kept)


def lip_gap(landmarks: np.ndarray) -> float:
    """The gap between the inner lips, in eye distances."""
    eyes = float(np.linalg.norm(landmarks[EYE_L] - landmarks[EYE_R])) or 1.0
    return float(np.linalg.norm(landmarks[UPPER_LIP] - landmarks[LOWER_LIP])) / eyes
