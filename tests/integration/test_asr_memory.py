"""Decoding windows of ever new lengths with the real tiny.en does not grow the C heap."""

import numpy as np
import pytest

from callbridge.workers.heap import heap_mb
from triggers import WhisperRecognizer
from triggers.audio import SAMPLE_RATE

pytestmark = pytest.mark.integration


def _heap_used_mb() -> float:
    heap = heap_mb()
    assert heap is not None, "reads glibc's mallinfo2"
    return heap["in_use_mb"] + heap["mapped_mb"]


def test_new_window_lengths_cost_no_memory_once_warm(recognizer: WhisperRecognizer) -> None:
    noise = (np.random.default_rng(1).standard_normal(9 * SAMPLE_RATE) * 0.01).astype(np.float32)
    for half_s in range(1, 18):  # warm: up to the engine's 8-s window
        recognizer.decode(noise[: half_s * SAMPLE_RATE // 2], 0.0)
    before = _heap_used_mb()
    for k in range(40):  # 40 lengths never decoded before (with oneDNN's default cache, ~0.8 MB each for good)
        recognizer.decode(noise[: int((1.013 + k * 0.171) * SAMPLE_RATE)], 0.0)
    assert _heap_used_mb() - before < 10
