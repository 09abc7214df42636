"""FaceTracker on mediapipe's legacy face mesh (478 landmarks) and face detector.

Per-frame cost. Face mesh in video mode follows faces from the previous
frame's landmarks; it alone decides where the face is, and the box is the
extent of its landmarks. The separate face detector is there only for
`Face.confidence` (the mesh solution exposes no score) and costs about half
as much again as the mesh, so it runs when a face is first found and then
every `detect_every` frames; in between, the last score is carried. With
`static=True` both run on every image.

Most prominent face = the largest landmark box. The mesh looks for two faces
by default so that a bystander its detector happens to score higher cannot
take the track; that keeps the mesh's own detector running every frame while
only one face is in view. `max_faces=1` saves that, and the face kept is then
the one the detector scored highest when found (per-frame costs:
docs/experiments.md, 'Face tracker cost').

`faces()` reports every face found instead (unsmoothed, largest first), for a
caller that decides itself whose face it wants: the face bank harvests only the
face consistent with the participant's own earlier ones (adengine/identity.py).

Not thread-safe: one tracker per stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adengine.face import N_LANDMARKS, Face
from adengine.pose import estimate_pose
from adengine.quiet import native_stderr_muted
from adengine.smoothing import OneEuroFilter, OneEuroParams
from models.registry import verify_face_models

DEFAULT_SMOOTHING = OneEuroParams()  # frozen, so one shared default is safe

_verified = False


def _verify_models_once() -> None:
    # Hashing the two files takes a few milliseconds: once per process is enough.
    global _verified
    if not _verified:
        verify_face_models()
        _verified = True


def check_frame(frame: np.ndarray) -> np.ndarray:
    """`frame` as a C-contiguous RGB uint8 array, or ValueError."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        dtype = getattr(frame, "dtype", type(frame).__name__)
        raise ValueError(f"expected an RGB uint8 array of shape (H, W, 3), got {dtype} {shape}")
    return np.ascontiguousarray(frame)


def landmark_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the landmarks' extent."""
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection of two (x, y, w, h) boxes over the smaller one's area.

    Not IoU: the detector's box (brows to mouth) is much smaller than the
    mesh's (forehead to chin), and lies inside it.
    """
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return ix * iy / smaller if smaller > 0 else 0.0


class MediapipeFaceTracker:
    """The most prominent face per frame, from mediapipe face mesh with iris refinement.

    static: treat every frame as an unrelated image (no tracking, no smoothing).
    max_faces: faces the mesh looks for; the largest is reported (see above).
    smoothing: One Euro settings for landmarks when `track` gets timestamps;
        None turns smoothing off.
    detect_every: frames between detector runs while a face is tracked.
    max_gap_s: a longer gap between timestamps restarts the smoothing.
    min_confidence: the detector score that starts a track.
    """

    def __init__(
        self,
        static: bool = False,
        max_faces: int = 2,
        smoothing: OneEuroParams | None = DEFAULT_SMOOTHING,
        detect_every: int = 10,
        max_gap_s: float = 0.5,
        min_confidence: float = 0.5,
    ) -> None:
        import mediapipe as mp  # deferred: importing it costs a second and loads TensorFlow Lite

        if max_faces < 1 or detect_every < 1:
            raise ValueError("max_faces and detect_every must be at least 1")
        _verify_models_once()
        self.static = static
        self.detect_every = detect_every
        self.max_gap_s = max_gap_s
        with native_stderr_muted():
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=static,
                max_num_faces=max_faces,
                refine_landmarks=True,
                min_detection_confidence=min_confidence,
                min_tracking_confidence=0.5,
            )
            # Scores below the mesh's own threshold still say how face-like a
            # tracked face looks, so the detector reports down to 0.2.
            self._detector = mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.2)
        self._filter = OneEuroFilter.from_params(smoothing) if smoothing is not None else None
        self._last_t: float | None = None
        self._last_centre: np.ndarray | None = None
        self._confidence = 0.0
        self._since_detection = 0
        self._closed = False

    def track(self, frame: np.ndarray, timestamp_s: float | None = None) -> Face | None:
        """The most prominent face in `frame`, smoothed over time when timestamps are given."""
        frame, result = self._mesh_of(frame)
        height, width = frame.shape[:2]
        if not result.multi_face_landmarks:
            self._lose()
            return None
        candidates = [
            np.array([(p.x * width, p.y * height) for p in face.landmark], dtype=np.float32)
            for face in result.multi_face_landmarks
        ]
        raw = max(candidates, key=lambda pts: np.ptp(pts[:, 0]) * np.ptp(pts[:, 1]))
        if raw.shape != (N_LANDMARKS, 2):
            raise RuntimeError(f"face mesh gave {raw.shape[0]} landmarks, expected {N_LANDMARKS}")
        box = landmark_box(raw)
        centre = np.array([box[0] + box[2] / 2, box[1] + box[3] / 2])
        new_track = self._last_centre is None or np.linalg.norm(centre - self._last_centre) > max(box[2], 1.0)
        if new_track and self._filter is not None:
            self._filter.reset()  # another face (or the first): its past is not this one's
        self._last_centre = centre

        if self.static or new_track or self._since_detection >= self.detect_every - 1:
            self._confidence = self._detect(frame, box)
            self._since_detection = 0
        else:
            self._since_detection += 1

        landmarks = self._smooth(raw, timestamp_s, scale=box[2])
        return Face(
            box=landmark_box(landmarks),
            landmarks=landmarks,
            pose=estimate_pose(landmarks, (width, height)),
            confidence=self._confidence,
        )

    def _mesh_of(self, frame: np.ndarray) -> tuple[np.ndarray, Any]:
        """The checked frame and the face mesh's result for it."""
        if self._closed:
            raise RuntimeError("tracker is closed")
        frame = check_frame(frame)
        with native_stderr_muted():
            return frame, self._mesh.process(frame)

    def faces(self, frame: np.ndarray) -> list[Face]:
        """Every face the mesh finds (up to `max_faces`), unsmoothed, largest first, each with its
        detector score. Leaves `track`'s smoothing alone."""
        frame, result = self._mesh_of(frame)
        height, width = frame.shape[:2]
        if not result.multi_face_landmarks:
            return []
        found = []
        detections = self._detections(frame)
        for mesh_face in result.multi_face_landmarks:
            points = np.array([(p.x * width, p.y * height) for p in mesh_face.landmark], dtype=np.float32)
            if points.shape != (N_LANDMARKS, 2):
                raise RuntimeError(f"face mesh gave {points.shape[0]} landmarks, expected {N_LANDMARKS}")
            box = landmark_box(points)
            confidence = max((score for det, score in detections if _overlap(det, box) > 0.5), default=0.0)
            found.append(
                Face(box=box, landmarks=points, pose=estimate_pose(points, (width, height)), confidence=confidence)
            )
        return sorted(found, key=lambda f: -f.box[2] * f.box[3])

    def _smooth(self, raw: np.ndarray, timestamp_s: float | None, scale: float) -> np.ndarray:
        if self._filter is None or self.static or timestamp_s is None:
            # Without times there is no rate to filter at; stale state must not
            # leak into a later timed call either.
            if self._filter is not None:
                self._filter.reset()
            self._last_t = None
            return raw
        if self._last_t is not None and not 0.0 < timestamp_s - self._last_t <= self.max_gap_s:
            self._filter.reset()  # a long gap or time going backwards: the old state is meaningless
        self._last_t = timestamp_s
        return self._filter(raw, timestamp_s, scale=scale)

    def _detect(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> float:
        """Score of the detection that best overlaps `box`; 0.0 when the detector sees no such face.

        A face the mesh follows but the detector does not see (a strong turn,
        for one) is still reported, with confidence 0.
        """
        return max((score for det, score in self._detections(frame) if _overlap(det, box) > 0.5), default=0.0)

    def _detections(self, frame: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        """The face detector's (box, score) pairs."""
        height, width = frame.shape[:2]
        with native_stderr_muted():
            result = self._detector.process(frame)
        found = []
        for detection in result.detections or ():
            rel = detection.location_data.relative_bounding_box
            box = (rel.xmin * width, rel.ymin * height, rel.width * width, rel.height * height)
            found.append((box, float(detection.score[0])))
        return found

    def _lose(self) -> None:
        if self._filter is not None:
            self._filter.reset()
        self._last_t = None
        self._last_centre = None
        self._confidence = 0.0
        self._since_detection = 0

    def reset(self) -> None:
        """Forget temporal state (a new stream or a cut)."""
        self._lose()
        if not self.static and not self._closed:
            # The mesh graph keeps the previous frame's face region; a reset
            # must not steer the next frame's search.
            self._mesh.reset()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._mesh.close()
            self._detector.close()

    def __enter__(self) -> MediapipeFaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
