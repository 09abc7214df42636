"""Reinhard colour transfer (RCT) in LAB, as DeepFaceLab's `rct` mode.

Statistics are computed once per face (source) and per template frame
(target, smoothed over time at ingest), never per warped frame: a face that
shifts inside the mask would otherwise shift its colour too, and flicker.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class LabStats:
    mean: np.ndarray  # (3,) float32, OpenCV 8-bit LAB scale
    std: np.ndarray  # (3,) float32


def lab_stats(image: np.ndarray, mask: np.ndarray) -> LabStats:
    """Mean and spread of `image` (RGB) in LAB over the pixels where `mask` is set."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    pixels = lab[mask > 0]
    if len(pixels) < 16:
        raise ValueError("colour statistics need a face region of at least 16 pixels")
    return LabStats(pixels.mean(axis=0), np.maximum(pixels.std(axis=0), 1.0))


def transfer(image: np.ndarray, source: LabStats, target: LabStats) -> np.ndarray:
    """`image` (RGB, described by `source`) recoloured to have `target`'s LAB statistics."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab = (lab - source.mean) * (target.std / source.std) + target.mean
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
