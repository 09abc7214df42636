"""The audio level that every outgoing audio packet carries, computed with numpy.

aiortc computes the RFC 6465 level (the ssrc-audio-level header extension) of
each outgoing 20 ms frame in a Python loop over every sample, on the event
loop, where it holds the GIL against the packets of every stream and the
speech threads (docs/experiments.md, 'Audio level in numpy'). `install` swaps
in the same arithmetic done in one numpy pass.
"""

from __future__ import annotations

import math

import numpy as np
from aiortc import rtp
from av import AudioFrame

_MAX_SAMPLE = 32767
_MIN_LEVEL = -127
AIORTC_LEVEL = rtp.compute_audio_level_dbov  # aiortc's own, as shipped (this module loads before `install`)


def audio_level_dbov(frame: AudioFrame) -> int:
    """The level aiortc's `compute_audio_level_dbov` gives, to the same integer.

    Like aiortc, it sums the squares of every s16 value in the frame's first
    plane (all channels, interleaved) and divides by the samples per channel.
    """
    values = np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16).astype(np.int64)
    rms = math.sqrt(float(np.dot(values, values)) / (frame.samples * _MAX_SAMPLE * _MAX_SAMPLE))
    if rms <= 0:
        return _MIN_LEVEL
    return round(min(0.0, max(float(_MIN_LEVEL), 20 * math.log10(rms))))


def install() -> None:
    """Make aiortc's senders use `audio_level_dbov` (they look it up on `aiortc.rtp` per frame)."""
    rtp.compute_audio_level_dbov = audio_level_dbov
