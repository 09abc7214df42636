"""Putting a face made in an aligned crop back into the frame it was cut from.

Shared by the swap backends that run a network on aligned crops (`autoencoder`, `onnx`).
"""

from __future__ import annotations

import cv2
import numpy as np


def paste_back(frame: np.ndarray, matrix: np.ndarray, face: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """A copy of `frame` (uint8 RGB) with `face` ((S, S, 3) float, 0-255) blended in by `alpha` ((S, S), 0-1).

    `matrix` is the 2x3 transform that cut the crop out of the frame. Only the box the
    crop lands in is warped and touched, so the rest of the frame is left exactly as it was.
    """
    size = face.shape[0]
    back = cv2.invertAffineTransform(matrix).astype(np.float64)
    corners = cv2.transform(np.array([[[0, 0], [size, 0], [0, size], [size, size]]], np.float32), back)[0]
    h, w = frame.shape[:2]
    x0, y0 = (max(0, int(np.floor(v))) for v in corners.min(axis=0))
    x1, y1 = min(w, int(np.ceil(corners[:, 0].max())) + 1), min(h, int(np.ceil(corners[:, 1].max())) + 1)
    out = frame.copy()
    if x1 <= x0 or y1 <= y0:  # the crop lies wholly outside the frame
        return out
    back[:, 2] -= np.array((x0, y0), np.float64)  # into the box's coordinates
    box = out[y0:y1, x0:x1]
    face_px = cv2.warpAffine(face.astype(np.float32), back, (x1 - x0, y1 - y0))
    weight = np.clip(cv2.warpAffine(alpha.astype(np.float32), back, (x1 - x0, y1 - y0)), 0.0, 1.0)[..., None]
    box[:] = (box * (1.0 - weight) + face_px * weight + 0.5).clip(0, 255).astype(np.uint8)
    return out


def feathered(mask: np.ndarray, edge: int) -> np.ndarray:
    """A 0/1 mask shrunk by `edge` pixels and blurred across them, so the seam falls inside the face."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1, 2 * edge + 1))
    core = cv2.erode(mask.astype(np.uint8), kernel).astype(np.float32)
    return cv2.GaussianBlur(core, (0, 0), sigmaX=edge / 2.0)
