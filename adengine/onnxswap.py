"""The `onnx` swap backend: a user-supplied one-shot swap model, with its contract declared in swap.yaml.

At `bind` the participant's face is aligned once (the model's source). Per template
frame the actor's face is aligned the same way (the target), both go through the model,
and its face is warped back and blended by the model's mask, or by the aligned face's
hull, feathered, when the model gives none. See docs/swap-models.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adengine.aligned_blend import feathered, paste_back
from adengine.swapper import FrameSwap
from adengine.track import ActorTrack

if TYPE_CHECKING:
    from adengine.facebank import FaceCrop

FEATHER = 1 / 16  # soft edge of the hull mask, as a share of the crop side


class OnnxSwapper:
    """Swaps with a one-shot ONNX model: PATH is the .onnx file or a folder with swap.onnx and swap.yaml."""

    name = "onnx"

    def __init__(self, path: Path, device: str = "auto") -> None:
        from models.onnxswap import load_swap_model

        self.spec, self._run = load_swap_model(path, device)  # ModelError, one line, when they do not fit

    def bind(self, face: FaceCrop, track: ActorTrack) -> FrameSwap:
        from models.faceswap.align import aligned, alignment, warp_aligned

        size, points = self.spec.size, self.spec.points
        source = aligned(face.image, face.landmarks, size, points)[0].astype(np.float32) / 255.0
        edge = max(1, round(size * FEATHER))

        def swap(index: int, frame: np.ndarray) -> np.ndarray:
            landmarks = track.landmarks[index]
            try:
                matrix = alignment(landmarks, size, points)
            except ValueError:  # a degenerate track frame: show the actor rather than a broken face
                return frame.copy()
            crop, hull = warp_aligned(frame, landmarks, matrix, size)
            image, mask = self._run(crop.astype(np.float32) / 255.0, source)
            return paste_back(frame, matrix, image * 255.0, feathered(hull, edge) if mask is None else mask)

        return swap
