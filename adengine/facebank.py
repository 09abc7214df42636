"""The best recent crops of one participant's face, by head pose, held in RAM with consent.

A call sends far more frames than a synthetic face needs. `FaceBank` looks at
a few a second, keeps the best few per pose bin, and says in plain words what
is still missing ("no left profile", "too dark"), so the participant can be
asked for it. Nothing is examined without consent; nothing is ever logged,
printed or written; `clear()` overwrites the pixels before letting go of them.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from adengine.face import Face, FaceError, FaceTracker, HeadPose
from adengine.identity import Choice, IdentityGate
from adengine.quality import FaceQuality, assess_quality

# Yaw bins as seen in the image (HeadPose: yaw > 0 turns to the image's right).
# Edges in degrees; the quality limit (45) lies inside the profile bins, so a
# profile past it is still collected for coverage, but never used as `best()`.
YAW_BINS = ("left profile", "left", "frontal", "right", "right profile")
YAW_EDGES = (-30.0, -10.0, 10.0, 30.0)
PITCH_BINS = ("up", "level", "down")
PITCH_EDGES = (10.0, -10.0)  # up above +10, down below -10
CROP_MARGIN = 0.25  # of the face box's larger side, on every side
# Pose alone never rejects a frame: the bins exist to collect turned heads.
_POSE_KINDS = frozenset({"head turned too far", "head tilted too far"})
# A rejection reason is reported once it cost this share of the examined frames
# (or always, while no usable crop exists): one dark frame in a hundred is noise.
_REASON_SHARE = 0.2
# Every bank's every wipe starts a new generation, unique in the process: a crop made
# before a wipe (or by a bank that has been replaced) is recognisably stale.
_GENERATIONS = itertools.count(1)


class ConsentError(PermissionError):
    """The participant has not agreed to have their face collected."""


@dataclass(frozen=True, eq=False)  # compared by identity: == on arrays is no answer
class FaceCrop:
    """One kept face: the pixels around it, its landmarks in those pixels, and how good it is."""

    image: np.ndarray = field(repr=False)  # RGB uint8 crop, the face plus a margin
    landmarks: np.ndarray = field(repr=False)  # (478, 2) float32, crop pixels
    pose: HeadPose
    quality: FaceQuality
    timestamp_s: float
    generation: int = 0  # the bank generation it was harvested in (FaceBank.generation)

    @property
    def pose_bin(self) -> str:
        return pose_bin(self.pose)


def pose_bin(pose: HeadPose) -> str:
    """Name of the bin a pose falls in, e.g. "frontal level" or "left profile up"."""
    yaw = YAW_BINS[int(np.searchsorted(YAW_EDGES, pose.yaw))]
    pitch = "up" if pose.pitch > PITCH_EDGES[0] else "down" if pose.pitch < PITCH_EDGES[1] else "level"
    return f"{yaw} {pitch}"


def crop_face(frame: np.ndarray, face: Face, quality: FaceQuality, timestamp_s: float) -> FaceCrop:
    """A FaceCrop that owns its arrays (copies), read-only until wiped."""
    height, width = frame.shape[:2]
    x, y, w, h = face.box
    margin = CROP_MARGIN * max(w, h)
    x0, y0 = max(0, int(np.floor(x - margin))), max(0, int(np.floor(y - margin)))
    x1, y1 = min(width, int(np.ceil(x + w + margin))), min(height, int(np.ceil(y + h + margin)))
    image = np.array(frame[y0:y1, x0:x1], dtype=np.uint8, order="C", copy=True)
    landmarks = np.array(face.landmarks, dtype=np.float32, copy=True) - np.array((x0, y0), np.float32)
    image.flags.writeable = False
    landmarks.flags.writeable = False
    return FaceCrop(image=image, landmarks=landmarks, pose=face.pose, quality=quality, timestamp_s=timestamp_s)


def crop_copy(crop: FaceCrop) -> FaceCrop:
    """A private copy of `crop` (its own read-only arrays), for a holder that wipes it itself."""
    image, landmarks = np.array(crop.image, copy=True), np.array(crop.landmarks, copy=True)
    image.flags.writeable = landmarks.flags.writeable = False
    return replace(crop, image=image, landmarks=landmarks)


def wipe(crop: FaceCrop) -> None:
    """Overwrite a crop's pixels and landmarks with zeros, in place."""
    for array in (crop.image, crop.landmarks):
        array.flags.writeable = True  # allowed: the crop owns these arrays (see crop_face)
        array.fill(0)
        array.flags.writeable = False


@dataclass(frozen=True)
class Coverage:
    """What the bank holds and what it still lacks."""

    bins: dict[str, int]  # pose bin -> crops held, for bins holding any
    missing: list[str]  # plain words: "no left profile", "too dark"
    examined: int  # frames tracked (not those dropped by the rate limit)
    rejected: dict[str, int]  # reason -> frames it turned away
    usable: int  # crops good enough to render from

    def summary(self) -> str:
        held = sum(self.bins.values())
        parts = [f"{held} face crop{'s' if held != 1 else ''} ({self.usable} usable) from {self.examined} frames"]
        if self.bins:
            parts.append("poses: " + ", ".join(f"{name} {count}" for name, count in self.bins.items()))
        if self.missing:
            parts.append("missing: " + ", ".join(self.missing))
        if self.rejected:
            parts.append("rejected: " + ", ".join(f"{reason} ({n})" for reason, n in self.rejected.items()))
        return "; ".join(parts)


class FaceBank:
    """The best `per_bin` crops of each pose bin of one participant, looked for at most `max_fps`.

    Give it a tracker of its own: it feeds it only the frames it examines and
    without timestamps, because a crop needs landmarks that match its own
    pixels, not landmarks smoothed towards earlier frames.

    With a tracker that reports every face in the frame (`faces()`, as
    `MediapipeFaceTracker` does), an `IdentityGate` picks the participant's own
    face among them and refuses frames where that is unclear; a tracker that
    reports only one face (`track()` alone) is taken at its word.

    Thread-safe between one harvesting thread (`offer`) and any number of others
    granting, withdrawing or clearing: every wipe starts a new generation, and a
    crop tracked before it is wiped instead of kept.
    """

    def __init__(
        self,
        participant: str,
        tracker: FaceTracker,
        consent: bool = False,
        max_fps: float = 5.0,
        per_bin: int = 3,
        on_crop: Callable[[FaceCrop], None] | None = None,
        identity: IdentityGate | None = None,
    ) -> None:
        if max_fps <= 0 or per_bin < 1:
            raise ValueError("max_fps must be > 0 and per_bin at least 1")
        self.participant = participant
        self.tracker = tracker
        self.max_fps = max_fps
        self.per_bin = per_bin
        self._on_crop = on_crop  # sees every usable crop before the bank keeps or wipes it (in-call fitting)
        self._find_all: Callable[[np.ndarray], list[Face]] | None = getattr(tracker, "faces", None)
        self.identity = identity if identity is not None else IdentityGate() if self._find_all else None
        self._consent = consent
        self._lock = threading.RLock()
        self._generation = next(_GENERATIONS)
        self._bins: dict[str, list[FaceCrop]] = {}
        self._rejected: Counter[str] = Counter()
        self._examined = 0
        self._last_t: float | None = None
        self._tracking = False  # offer() is in the tracker: another thread must not reset it now
        self._stale = False  # a clear() came while tracking: reset the tracker before its next frame

    def __repr__(self) -> str:
        return f"FaceBank(participant={self.participant!r}, consent={self._consent}, crops={len(self)})"

    @property
    def consent(self) -> bool:
        return self._consent

    @property
    def generation(self) -> int:
        """Changes at every wipe (withdrawal, clear): crops of an older generation are no longer the bank's."""
        return self._generation

    def grant_consent(self) -> None:
        self._consent = True

    def withdraw_consent(self) -> None:
        """Stop collecting and wipe everything collected so far (a crop being tracked now is never kept)."""
        with self._lock:
            self._consent = False
            self.clear()

    def take_identity(self, other: FaceBank) -> None:
        """Carry over who the participant is from `other` (a bank being replaced after a tracker
        failure), so that a fresh bank does not start by taking whoever is alone in the frame."""
        with other._lock, self._lock:
            if self.identity is not None and other.identity is not None and other._consent and self._consent:
                self.identity, other.identity = other.identity, None

    def offer(self, frame: np.ndarray, timestamp_s: float) -> FaceCrop | None:
        """Look at one frame; the crop when it was kept, else None.

        Raises ConsentError, before any look at the frame, without consent.
        Frames closer than 1 / max_fps after the last examined one (within
        10 %, for timestamp jitter) are dropped before tracking.
        """
        with self._lock:
            if not self._consent:
                raise ConsentError(f"{self.participant} has not consented to face collection")
            if self._last_t is not None and 0.0 <= timestamp_s - self._last_t < 0.9 / self.max_fps:
                return None
            self._last_t = timestamp_s
            self._examined += 1
            generation = self._generation
            if self._stale:
                self._stale = False
                self.tracker.reset()
            self._tracking = True
        try:
            face, choice = self._find(frame, timestamp_s)
        finally:
            with self._lock:
                self._tracking = False
        if face is None:
            self._reject(generation, (choice.reason if choice is not None else None) or "no face found")
            return None
        quality = assess_quality(frame, face)
        blocking = [kind for kind in quality.kinds() if kind not in _POSE_KINDS]
        if blocking:
            if choice is not None:
                choice.discard()
            self._reject(generation, *blocking)
            return None
        crop = replace(crop_face(frame, face, quality, timestamp_s), generation=generation)
        with self._lock:
            if not self._current(generation):  # withdrawn or cleared while this frame was tracked
                wipe(crop)
                if choice is not None:
                    choice.discard()
                return None
            if choice is not None and self.identity is not None:
                self.identity.accept(choice, timestamp_s)
        if self._on_crop is not None:
            self._on_crop(crop)  # outside the lock: a withdrawal never waits for it; it checks the generation
        with self._lock:
            if not self._current(generation):
                wipe(crop)
                return None
            return self._keep(crop)

    def _find(self, frame: np.ndarray, timestamp_s: float) -> tuple[Face | None, Choice | None]:
        """The participant's face in `frame` (None if none is, or if it is unclear which is theirs)."""
        if self._find_all is None or self.identity is None:
            return self.tracker.track(frame, None), None
        choice = self.identity.choose(frame, self._find_all(frame), timestamp_s)
        return choice.face, choice

    def _current(self, generation: int) -> bool:
        return self._consent and generation == self._generation

    def _reject(self, generation: int, *reasons: str) -> None:
        with self._lock:
            if self._current(generation):
                self._rejected.update(reasons)

    def _keep(self, crop: FaceCrop) -> FaceCrop | None:
        """Put `crop` in its bin if it ranks among the best `per_bin` there (under the lock)."""
        held = self._bins.setdefault(crop.pose_bin, [])
        if len(held) >= self.per_bin:
            worst = min(held, key=lambda c: c.quality.score)
            if crop.quality.score <= worst.quality.score:
                wipe(crop)  # never stored, but it is a copy of a face all the same
                return None
            held.remove(worst)
            wipe(worst)
        held.append(crop)
        return crop

    def best(self) -> FaceCrop | None:
        """The usable crop to render from: frontal if any is usable, then the best score."""
        with self._lock:
            usable = [c for held in self._bins.values() for c in held if c.quality.usable]
        if not usable:
            return None
        return max(usable, key=lambda c: (c.pose_bin.startswith("frontal "), c.quality.score))

    def coverage(self) -> Coverage:
        with self._lock:
            held_bins = {name: list(crops) for name, crops in self._bins.items()}
            rejected, examined = Counter(self._rejected), self._examined
        bins = {
            f"{yaw} {pitch}": len(held_bins[f"{yaw} {pitch}"])
            for yaw in YAW_BINS
            for pitch in PITCH_BINS
            if held_bins.get(f"{yaw} {pitch}")
        }
        missing = [f"no {yaw}" for yaw in YAW_BINS if not any(name.startswith(yaw + " ") for name in bins)]
        missing += [
            f"no looking {pitch}" for pitch in ("up", "down") if not any(name.endswith(" " + pitch) for name in bins)
        ]
        usable = sum(c.quality.usable for held in held_bins.values() for c in held)
        floor = 1 if usable == 0 else max(1, _REASON_SHARE * examined)
        missing += [reason for reason, n in rejected.most_common() if n >= floor]
        return Coverage(
            bins=bins,
            missing=missing,
            examined=examined,
            rejected=dict(rejected.most_common()),
            usable=usable,
        )

    def clear(self) -> None:
        """Wipe every crop (zeros over its arrays), the person's identity, the counts and the tracker's state."""
        with self._lock:
            self._generation = next(_GENERATIONS)
            for held in self._bins.values():
                for crop in held:
                    wipe(crop)
            self._bins.clear()
            if self.identity is not None:
                self.identity.clear()
            self._rejected.clear()
            self._examined = 0
            self._last_t = None
            if self._tracking:  # trackers are not thread-safe: the harvesting thread resets it
                self._stale = True
            else:
                self.tracker.reset()

    def __len__(self) -> int:
        with self._lock:
            return sum(len(held) for held in self._bins.values())


def assess_image(image: np.ndarray, tracker: FaceTracker | None = None) -> FaceCrop:
    """The face in one still image as a crop, or FaceError with the plain reason it is unusable.

    Without a tracker a static mediapipe one is made and closed here.
    """
    from adengine.tracker import MediapipeFaceTracker, check_frame  # mediapipe only when needed

    image = check_frame(image)
    own = tracker is None
    active: FaceTracker = MediapipeFaceTracker(static=True) if tracker is None else tracker
    try:
        face = active.track(image)
    finally:
        if own:
            active.close()
    if face is None:
        raise FaceError("no face found")
    quality = assess_quality(image, face)
    if not quality.usable:
        raise FaceError("; ".join(quality.problems()))
    return crop_face(image, face, quality, 0.0)
