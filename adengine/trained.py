"""The `autoencoder` swap backend: the actor's face through a network trained for one person.

`callbridge train` writes the network as MODEL_DIR/swap.onnx. Per template frame the
actor's face is aligned onto the training template, run through the encoder and the
person's decoder, and the result is warped back and blended by the decoder's own mask.
The face crop passed to `bind` is not used: the person is in the network's weights.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from adengine.aligned_blend import paste_back
from adengine.swapper import FrameSwap
from adengine.track import ActorTrack

if TYPE_CHECKING:
    from adengine.facebank import FaceCrop


class TrainedSwapper:
    """Swaps with a trained model directory (swap.onnx and model.json from `callbridge train`)."""

    name = "autoencoder"

    def __init__(self, model_dir: Path, device: str = "auto") -> None:
        from models.faceswap import onnx_swap

        onnx, meta = model_dir / "swap.onnx", model_dir / "model.json"
        if not onnx.is_file() or not meta.is_file():
            raise ValueError(f"--model {model_dir}: no swap.onnx and model.json here (make them with callbridge train)")
        try:
            self.size = int(json.loads(meta.read_text())["size"])
            self._run = onnx_swap(onnx, device)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"--model {model_dir}: unusable ({exc})") from None
        except Exception as exc:  # onnxruntime's own errors for a file that is not a model
            raise ValueError(f"--model {model_dir}: swap.onnx cannot be loaded ({type(exc).__name__})") from None

    @classmethod
    def from_run(cls, run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], size: int) -> TrainedSwapper:
        """A swapper over a model already loaded (one fitted in a call, held in memory only)."""
        swapper = cls.__new__(cls)
        swapper.size, swapper._run = size, run
        return swapper

    def bind(self, face: FaceCrop, track: ActorTrack) -> FrameSwap:
        from models.faceswap.align import alignment

        def swap(index: int, frame: np.ndarray) -> np.ndarray:
            try:
                matrix = alignment(track.landmarks[index], self.size)
            except ValueError:
                return frame.copy()
            crop = cv2.warpAffine(frame, matrix, (self.size, self.size), flags=cv2.INTER_AREA)
            colour, mask = self._run((crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None])
            return paste_back(frame, matrix, colour[0].transpose(1, 2, 0) * 255.0, mask[0, 0])

        return swap
