"""Swap backends: put a harvested face on the actor in each template frame.

A `Swapper` binds one source face to one template track and returns a
per-frame function. `warp` (here) is the default; the trained autoencoder and
user-supplied ONNX models implement the same interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import cv2
import numpy as np

from adengine.colour import LabStats, lab_stats, transfer
from adengine.track import ActorTrack
from adengine.warp import N_MESH, warp

if TYPE_CHECKING:
    from adengine.facebank import FaceCrop

FrameSwap = Callable[[int, np.ndarray], np.ndarray]  # (frame index, template frame) -> swapped frame


@runtime_checkable  # so tests can check that every backend has `name` and `bind`
class Swapper(Protocol):
    name: str

    def bind(self, face: FaceCrop, track: ActorTrack) -> FrameSwap:
        """A function that swaps `face` into template frame i of `track`."""
        ...


class WarpSwapper:
    """Piecewise-affine warp of one still face, colour-matched and feather-blended."""

    name = "warp"

    def bind(self, face: FaceCrop, track: ActorTrack) -> FrameSwap:
        source = np.ascontiguousarray(face.image)
        points = face.landmarks.astype(np.float32)
        stats = _face_stats(source, points)

        def swap(index: int, frame: np.ndarray) -> np.ndarray:
            m, alpha = track.maps[index], track.alphas[index][..., None]
            h, w = m.shape
            out = frame.copy()
            box = out[m.y0 : m.y0 + h, m.x0 : m.x0 + w]
            face_px = transfer(warp(source, points, m, track.triangles), stats, track.colours[index])
            box[:] = (box * (1.0 - alpha) + face_px * alpha + 0.5).astype(np.uint8)
            return out

        return swap


def _face_stats(image: np.ndarray, points: np.ndarray) -> LabStats:
    """Colour statistics of the source face, inside its landmarks' hull."""
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[:N_MESH]).astype(np.int32)), (1,))
    return lab_stats(image, mask)


BACKENDS: dict[str, Callable[[], Swapper]] = {"warp": WarpSwapper}


def make_swapper(name: str) -> Swapper:
    """The swap backend called `name`; ValueError naming the ones there are."""
    if name not in BACKENDS:
        raise ValueError(f"no swap backend {name!r} (available: {', '.join(sorted(BACKENDS))})")
    return BACKENDS[name]()
