"""Test audio: tones, and the samples of s16 frames."""

from __future__ import annotations

import av
import numpy as np

AD_COLOUR = (200, 40, 90)  # the flat colour of the test ads' frames


def pcm(frames: list[av.AudioFrame]) -> np.ndarray:
    """(samples, 2) int16 from interleaved s16 frames."""
    return np.concatenate([f.to_ndarray().reshape(-1, 2) for f in frames])


def sine(seconds: float, hz: float, level: float, rate: int = 44_100) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)
