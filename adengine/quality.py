"""How usable one face in one frame is as the source of a synthetic face.

Each component is a score in 0..1 (1 is good) measured on the face region the
landmarks outline; `problems()` turns the ones below their limits into plain
reasons a person can act on ("too dark", "face too small (54 px wide, needs
80)"). The limits were set on the two public-domain test portraits, sharp and
degraded (see tests/support/faces.py); they are judgement, not a trained model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from adengine.face import Face, HeadPose

MIN_WIDTH_PX = 80  # below this a face holds too few pixels to warp onto a template
GOOD_WIDTH_PX = 160
MAX_YAW_DEG = 45.0  # beyond this the far side of the face is mostly hidden
MAX_PITCH_DEG = 30.0
DARK_LUMA = 50.0  # mean luma (0..255) of the face
BRIGHT_LUMA = 220.0
MAX_CLIPPED = 0.25  # fraction of face pixels crushed to black or blown to white
MIN_SHARPNESS = 0.25  # the soft astronaut portrait reads 0.75, and 0.22 blurred by 1.25% of its width
CLOSED_EYE_ASPECT = 0.12  # open eyes read 0.2-0.4 on the test faces; shut ones about 0.05-0.1
MIN_IN_FRAME = 0.95
MIN_SKIN_CONSISTENCY = 0.7

_SHARPNESS_WIDTH = 128  # faces are resampled to this width, so sharpness does not grow with size
_SHARP_LAPLACIAN_VAR = 20.0  # Laplacian variance counted as fully sharp, at that width and a mean luma of 128

# Eye contours on the mesh: outer and inner corner, then two upper/lower pairs.
_EYES = ((33, 133, (160, 144), (158, 153)), (263, 362, (387, 373), (385, 380)))
# Skin patches: the band under the eyes (nose bridge, upper cheeks) is the
# reference; the rest of the face should match it.
_SKIN_REFERENCE = (6, 118, 347)
_SKIN_PROBES = (9, 205, 425, 4, 164, 199)  # forehead, cheeks, nose tip, above the lip, chin


@dataclass(frozen=True)
class FaceQuality:
    """Scores (0..1, higher is better) and the measurements behind them.

    in_frame: fraction of the face outline inside the frame.
    skin_consistency: fraction of skin probes (forehead, cheeks, nose, lip,
        chin) whose colour matches the band under the eyes. A cheap stand-in
        for occlusion: it catches a mask, a scarf, a microphone or dark
        glasses' frames, not a hand (skin-coloured) nor anything over the
        eye band itself.
    """

    frontality: float
    sharpness: float
    exposure: float
    size: float
    eyes_open: float
    in_frame: float
    skin_consistency: float
    pose: HeadPose
    width_px: float
    luma: float  # mean 0..255 over the face
    clipped: float  # fraction of face pixels at black or white
    eye_aspect: float  # eye height over width, both eyes averaged

    @property
    def score(self) -> float:
        """One figure for ranking faces: a weighted geometric mean, so one bad component sinks it."""
        weighted = (
            (self.frontality, 1.0),
            (self.sharpness, 1.0),
            (self.exposure, 1.0),
            (self.size, 1.0),
            (self.eyes_open, 0.5),
            (self.in_frame, 1.0),
            (self.skin_consistency, 0.5),
        )
        total = sum(w for _, w in weighted)
        return math.exp(sum(w * math.log(max(v, 0.01)) for v, w in weighted) / total)

    def problems(self) -> list[str]:
        """Plain reasons this face is not usable, most fundamental first; empty when usable."""
        return [detail for _, detail in self._issues()]

    def kinds(self) -> list[str]:
        """The same problems without figures ("face too small"), for counting."""
        return [kind for kind, _ in self._issues()]

    @property
    def usable(self) -> bool:
        return not self._issues()

    def _issues(self) -> list[tuple[str, str]]:
        """(kind, detail) pairs: the kind is plain words, the detail adds the figures where they help."""
        issues: list[tuple[str, str]] = []

        def add(kind: str, detail: str | None = None) -> None:
            issues.append((kind, detail or kind))

        if self.width_px < MIN_WIDTH_PX:
            add("face too small", f"face too small ({self.width_px:.0f} px wide, needs {MIN_WIDTH_PX})")
        if self.in_frame < MIN_IN_FRAME:
            add("face partly outside the frame")
        if self.luma < DARK_LUMA:
            add("too dark")
        elif self.luma > BRIGHT_LUMA:
            add("too bright")
        elif self.clipped > MAX_CLIPPED:
            add("harsh light", f"harsh light ({self.clipped:.0%} of the face black or white)")
        if self.sharpness < MIN_SHARPNESS and self.luma >= DARK_LUMA:
            # In the dark, sensor noise and weak edges make focus unmeasurable;
            # "too dark" is then the reason to give.
            add("face blurred")
        if abs(self.pose.yaw) > MAX_YAW_DEG:
            add("head turned too far", f"head turned too far (yaw {self.pose.yaw:.0f}°)")
        if abs(self.pose.pitch) > MAX_PITCH_DEG:
            add("head tilted too far", f"head tilted too far (pitch {self.pose.pitch:.0f}°)")
        if self.eye_aspect < CLOSED_EYE_ASPECT:
            add("eyes closed")
        if self.skin_consistency < MIN_SKIN_CONSISTENCY:
            add("face partly covered")
        return issues


def assess_quality(frame: np.ndarray, face: Face) -> FaceQuality:
    """Score `face` as found in `frame` (RGB uint8)."""
    landmarks = np.asarray(face.landmarks, dtype=np.float32)
    height, width = frame.shape[:2]
    face_width = float(np.ptp(landmarks[:, 0]))
    hull = cv2.convexHull(landmarks[:468]).reshape(-1, 2)

    # Work inside the face's box only: cheap whatever the frame size.
    x0, y0 = np.floor(hull.min(axis=0)).astype(int).clip(0, (width - 1, height - 1))
    x1, y1 = np.ceil(hull.max(axis=0)).astype(int).clip(0, (width - 1, height - 1)) + 1
    roi = frame[y0:y1, x0:x1]
    mask = np.zeros(roi.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(hull - (x0, y0)).astype(np.int32), (1,))
    luma = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY)
    inside = luma[mask > 0]
    if inside.size < 16:
        inside = np.zeros(16, np.uint8)  # a face (nearly) all outside the frame: nothing to measure

    mean = float(inside.mean())
    clipped = float(np.mean((inside <= 8) | (inside >= 247)))
    yaw, pitch = abs(face.pose.yaw), abs(face.pose.pitch)
    ear = eye_aspect(landmarks)
    return FaceQuality(
        frontality=_clip01(1.0 - max(yaw / (MAX_YAW_DEG * 4 / 3), pitch / (MAX_PITCH_DEG * 4 / 3))),
        sharpness=_sharpness(luma, mask, mean),
        exposure=_exposure(mean, clipped),
        size=_clip01((face_width - MIN_WIDTH_PX / 2) / (GOOD_WIDTH_PX - MIN_WIDTH_PX / 2)),
        eyes_open=_clip01((ear - 0.08) / 0.12),
        in_frame=_in_frame(hull, width, height),
        skin_consistency=skin_consistency(frame, landmarks),
        pose=face.pose,
        width_px=face_width,
        luma=mean,
        clipped=clipped,
        eye_aspect=ear,
    )


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def _exposure(mean: float, clipped: float) -> float:
    """1 for a mean luma of 80..180, falling to 0 at 25 and 245; less for clipped pixels."""
    level = min(_clip01((mean - 25) / 55), _clip01((245 - mean) / 65))
    return level * _clip01(1.0 - clipped / (2 * MAX_CLIPPED))


def _sharpness(luma: np.ndarray, mask: np.ndarray, mean: float) -> float:
    """Variance of the Laplacian over the face, at a fixed face width and brightness, relative to a sharp face.

    Dividing by the squared mean luma makes it blind to exposure: a dimmer
    face has weaker edges but is no less in focus (darkness is `exposure`'s).
    """
    scale = _SHARPNESS_WIDTH / max(luma.shape[1], 1)
    size = (_SHARPNESS_WIDTH, max(1, round(luma.shape[0] * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small: np.ndarray = cv2.resize(luma, size, interpolation=interp).astype(np.float32)
    small_mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    # Sensor noise has a large Laplacian too: a light blur first keeps a noisy
    # but blurred face from passing as sharp, while real edges survive it.
    small = cv2.GaussianBlur(small, (0, 0), 1.0)
    lap = cv2.Laplacian(small, cv2.CV_32F)
    # The outline itself is an edge against the background: keep clear of it.
    core = cv2.erode(small_mask, np.ones((5, 5), np.uint8))
    values = lap[core > 0]
    if values.size < 16:
        return 0.0
    contrast = (max(mean, 1.0) / 128.0) ** 2
    return _clip01(float(values.var()) / contrast / _SHARP_LAPLACIAN_VAR)


def eye_aspect(landmarks: np.ndarray) -> float:
    """Eye aspect ratio (Soukupova and Cech), averaged over both eyes: open about 0.3, shut under 0.1."""
    ratios: list[float] = []
    for outer, inner, (u1, l1), (u2, l2) in _EYES:
        width = float(np.linalg.norm(landmarks[outer] - landmarks[inner]))
        gap = float(np.linalg.norm(landmarks[u1] - landmarks[l1]) + np.linalg.norm(landmarks[u2] - landmarks[l2]))
        ratios.append(gap / (2.0 * width) if width > 0 else 0.0)
    return float(np.mean(ratios))


def _in_frame(hull: np.ndarray, width: int, height: int) -> float:
    """Fraction of the face outline's area that lies inside the frame."""
    area = cv2.contourArea(hull)
    if area <= 0:
        return 0.0
    frame = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    shared, _ = cv2.intersectConvexConvex(hull.astype(np.float32), frame)
    return _clip01(shared / area)


def skin_consistency(frame: np.ndarray, landmarks: np.ndarray) -> float:
    """Fraction of skin probes whose colour matches the band under the eyes (see FaceQuality).

    Colours are compared by hue and chroma in CIELAB, which lighting changes
    little, plus a floor on lightness for black occluders. Probes outside the
    frame are left out: that is `in_frame`'s to report, not occlusion.
    """
    radius = max(2, int(round(np.ptp(landmarks[:, 0]) * 0.04)))
    refs = [lab for lab in (_patch_lab(frame, landmarks[i], radius) for i in _SKIN_REFERENCE) if lab is not None]
    probes = [lab for lab in (_patch_lab(frame, landmarks[i], radius) for i in _SKIN_PROBES) if lab is not None]
    if not refs or not probes:
        return 1.0
    ref = np.median(refs, axis=0)
    ref_chroma = math.hypot(ref[1], ref[2])
    if ref_chroma < 4.0:
        return 1.0  # too little colour (a dark or grey image) to tell skin from anything
    ref_hue = math.atan2(ref[2], ref[1])
    matches = 0
    for lightness, a, b in probes:
        chroma = math.hypot(a, b)
        hue_gap = abs(math.remainder(math.atan2(b, a) - ref_hue, 2 * math.pi))
        if chroma >= 0.4 * ref_chroma and hue_gap <= math.radians(30) and lightness >= 0.3 * ref[0]:
            matches += 1
    return matches / len(probes)


def _patch_lab(frame: np.ndarray, centre: np.ndarray, radius: int) -> np.ndarray | None:
    """Median CIELAB colour (L 0..100, a and b signed) of a square around `centre`; None if outside the frame."""
    h, w = frame.shape[:2]
    x, y = int(round(centre[0])), int(round(centre[1]))
    if not (0 <= x < w and 0 <= y < h):
        return None
    patch = frame[max(0, y - radius) : min(h, y + radius + 1), max(0, x - radius) : min(w, x + radius + 1)]
    lab = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)
    lightness, a, b = np.median(lab, axis=0)
    return np.array([lightness * 100.0 / 255.0, a - 128.0, b - 128.0])
