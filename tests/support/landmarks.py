"""Synthetic landmark sets and textures for warp and track tests."""

from __future__ import annotations

import cv2
import numpy as np


def random_landmarks(
    seed: int = 0, centre: tuple[float, float] = (320.0, 240.0), size: tuple[float, float] = (110.0, 140.0)
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    angle, radius = rng.uniform(0, 2 * np.pi, 478), np.sqrt(rng.uniform(0, 1, 478))
    pts = np.stack([centre[0] + size[0] * radius * np.cos(angle), centre[1] + size[1] * radius * np.sin(angle)], 1)
    return pts.astype(np.float32)


def texture(seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).integers(0, 255, (480, 640, 3)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 3)
