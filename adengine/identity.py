"""Which face in a frame is the consenting participant's: the one consistent with their own earlier faces.

A webcam sees whoever is in the room, and the largest face is not always the
person who consented (someone leaning in behind them is nearer the camera for a
moment). `IdentityGate` picks, among the faces the mesh found, the one whose
appearance matches the faces already harvested from this participant, helped by
where their face was a moment ago, and refuses the frame when that is not clear:

- No earlier face yet: a lone face is taken; among several, only a face clearly
  larger than every other one (twice the area), as the person at their own
  camera is; otherwise the frame is refused ("several faces in view").
- Otherwise each face's gradient descriptor (`criterion.descriptor`: aligned,
  equalised HOG, no learned model) is compared with the descriptors of the
  participant's recent faces (nearest one). A face near enough (`SAME`) is theirs;
  one a little further (up to `OTHER`) only where their face just was (position
  continuity). The chosen face must also be nearer than every other face in the
  frame by `MARGIN`, or the frame is refused ("two faces alike").

On the two test portraits the distance between frames of one face (head motion,
light, noise, 20 degrees of turn) is 0.005-0.03, up to 0.08 at 40 degrees; between
the two people it is about 0.16. A cheap descriptor cannot tell every pair of
strangers apart: what it guarantees is that a frame is refused, not harvested,
when it cannot tell. The descriptors are face data: `clear()` zeroes them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from adengine.face import Face

SAME = 0.10  # a face this near the person's earlier faces is theirs
OTHER = 0.14  # beyond this it is someone else, wherever it is
MARGIN = 0.03  # the chosen face must be this much nearer than any other face in the frame
DOMINANT_AREA = 2.0  # with no earlier face: the face taken among several is this much larger than the next
CONTINUITY_S = 1.5  # a face where the person's face was this recently continues their track ...
CONTINUITY_SHIFT = 0.5  # ... when its centre moved at most this share of the face's width
CONTINUITY_SCALE = 1.5  # ... and its size changed by at most this factor
KEEP = 32  # recent descriptors kept as the person's reference
# Refusal reasons, in plain words (counted with the bank's other rejections).
SEVERAL_FACES = "several faces in view"
SOMEONE_ELSE = "not the same person"
ALIKE = "two faces alike"

Describe = Callable[[np.ndarray, np.ndarray], "np.ndarray | None"]  # (frame, landmarks) -> unit descriptor


def _describe(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    from adengine.criterion import descriptor  # OpenCV's HOG, made on first use

    return descriptor(image, landmarks)


@dataclass
class Choice:
    """The face taken (or None, with the reason), and its descriptor for `IdentityGate.accept`."""

    face: Face | None
    reason: str | None = None
    descriptor: np.ndarray | None = None
    distance: float = float("nan")

    def discard(self) -> None:
        if self.descriptor is not None:
            self.descriptor.fill(0)


class IdentityGate:
    """Chooses the participant's own face among the faces in a frame (see the module's docstring)."""

    def __init__(self, describe: Describe = _describe, keep: int = KEEP) -> None:
        self._describe = describe
        self._refs: deque[np.ndarray] = deque(maxlen=keep)
        self._last: tuple[float, float, float, float] | None = None  # box of the last face taken
        self._last_t: float | None = None

    @property
    def known(self) -> bool:
        """True once the gate holds a reference of the person's face."""
        return bool(self._refs)

    def choose(self, frame: np.ndarray, faces: Sequence[Face], timestamp_s: float) -> Choice:
        if not faces:
            return Choice(None, "no face found")
        described = [self._describe(frame, face.landmarks) for face in faces]
        refs = list(self._refs)
        if not refs:
            return self._first(faces, described)
        distances = [_nearest(d, refs) for d in described]
        near = [self._continues(face.box, timestamp_s) for face in faces]
        eligible = [i for i, d in enumerate(distances) if d <= SAME or (near[i] and d <= OTHER)]
        if not eligible:
            _zero(described)
            return Choice(None, SOMEONE_ELSE)
        best = min(eligible, key=lambda i: distances[i])
        if any(distances[j] < distances[best] + MARGIN for j in range(len(faces)) if j != best):
            _zero(described)
            return Choice(None, ALIKE)
        _zero(d for j, d in enumerate(described) if j != best)
        return Choice(faces[best], descriptor=described[best], distance=distances[best])

    def accept(self, choice: Choice, timestamp_s: float) -> None:
        """The chosen face was harvested: it continues the track, and extends the reference if clearly theirs."""
        if choice.face is None:
            return
        self._last, self._last_t = choice.face.box, timestamp_s
        if choice.descriptor is None:
            return
        if not self._refs or choice.distance <= SAME:
            if len(self._refs) == self._refs.maxlen:
                self._refs[0].fill(0)
            self._refs.append(choice.descriptor)
        else:
            choice.discard()

    def clear(self) -> None:
        """Forget the person: zero the descriptors, drop the track."""
        refs, self._refs = list(self._refs), deque(maxlen=self._refs.maxlen)
        _zero(refs)
        self._last = self._last_t = None

    def _first(self, faces: Sequence[Face], described: list[np.ndarray | None]) -> Choice:
        order = sorted(range(len(faces)), key=lambda i: -_area(faces[i].box))
        top = order[0]
        if len(order) > 1 and _area(faces[top].box) < DOMINANT_AREA * _area(faces[order[1]].box):
            _zero(described)
            return Choice(None, SEVERAL_FACES)
        _zero(d for j, d in enumerate(described) if j != top)
        return Choice(faces[top], descriptor=described[top], distance=0.0)

    def _continues(self, box: tuple[float, float, float, float], timestamp_s: float) -> bool:
        if self._last is None or self._last_t is None or not 0.0 <= timestamp_s - self._last_t <= CONTINUITY_S:
            return False
        x, y, w, h = box
        lx, ly, lw, lh = self._last
        shift = float(np.hypot(x + w / 2 - lx - lw / 2, y + h / 2 - ly - lh / 2))
        scale = max(w, 1.0) / max(lw, 1.0)
        return shift <= CONTINUITY_SHIFT * lw and 1 / CONTINUITY_SCALE <= scale <= CONTINUITY_SCALE


def _nearest(descriptor: np.ndarray | None, refs: list[np.ndarray]) -> float:
    if descriptor is None:
        return float("inf")
    return min(1.0 - float(descriptor @ ref) for ref in refs)


def _area(box: tuple[float, float, float, float]) -> float:
    return max(0.0, box[2]) * max(0.0, box[3])


def _zero(arrays: Iterable[np.ndarray | None]) -> None:
    for array in arrays:
        if array is not None:
            array.fill(0)
