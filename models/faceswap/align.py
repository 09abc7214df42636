"""Aligned face crops: a face's landmarks moved onto one fixed template, so every crop is framed alike.

The anchors are face-mesh landmarks (both corners of each eye, the nose tip, the mouth
corners); a similarity transform (turn, scale, shift) puts them as near the template as it can.
"""

from __future__ import annotations

import cv2
import numpy as np

ANCHORS = (33, 133, 362, 263, 1, 61, 291)  # left-to-right in the image: eye, eye, nose tip, mouth
# Where the anchors go in a unit crop (x to the right, y down): the face fills it, with a margin.
TEMPLATE = np.array(
    [[0.27, 0.38], [0.41, 0.39], [0.59, 0.39], [0.73, 0.38], [0.50, 0.57], [0.37, 0.72], [0.63, 0.72]], np.float32
)


def alignment(landmarks: np.ndarray, size: int, template: np.ndarray = TEMPLATE) -> np.ndarray:
    """The 2x3 similarity taking the face's anchors onto `template` (unit crop) in a size-pixel crop."""
    matrix, _ = cv2.estimateAffinePartial2D(landmarks[list(ANCHORS)].astype(np.float32), template * size)
    if matrix is None:
        raise ValueError("the face's landmarks cannot be aligned")
    return matrix


def warp_aligned(
    image: np.ndarray, landmarks: np.ndarray, matrix: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The crop `matrix` makes of `image` (size, size, 3) and its mask (size, size) float32: the landmarks' hull."""
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    points = cv2.transform(landmarks[None].astype(np.float32), matrix)[0]
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), (1,))
    return crop, mask.astype(np.float32)


def aligned(
    image: np.ndarray, landmarks: np.ndarray, size: int, template: np.ndarray = TEMPLATE
) -> tuple[np.ndarray, np.ndarray]:
    """The face as an RGB (size, size, 3) crop and its mask (size, size) float32: the landmarks' hull."""
    return warp_aligned(image, landmarks, alignment(landmarks, size, template), size)


def as_tensors(crops: list[np.ndarray], masks: list[np.ndarray]) -> tuple:
    """Crops and masks as the trainer takes them: (N, 3, S, S) and (N, 1, S, S) float32 in [0, 1]."""
    import torch

    faces = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255.0
    return faces.contiguous(), torch.from_numpy(np.stack(masks))[:, None].float()
