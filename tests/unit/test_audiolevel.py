"""The numpy audio level gives what aiortc's own loop gives, and the senders use it."""

from __future__ import annotations

import av
import numpy as np
import pytest
from aiortc import rtcrtpsender, rtp

from callbridge.media.adapt.aiortc_audio_level import AIORTC_LEVEL, audio_level_dbov, install


def _frame(values: np.ndarray, layout: str) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(values.astype(np.int16).reshape(1, -1), format="s16", layout=layout)
    frame.sample_rate = 48_000
    return frame


def _cases() -> list[tuple[str, np.ndarray, str]]:
    rng = np.random.default_rng(7)
    t = np.arange(960) / 48_000
    tone = 12_000 * np.sin(2 * np.pi * 440 * t)
    return [
        ("silence", np.zeros(1920), "stereo"),
        ("full scale", np.full(1920, 32767), "stereo"),
        ("most negative", np.full(960, -32768), "mono"),
        ("one quiet sample", np.eye(1, 1920, 5).ravel(), "stereo"),
        ("tone, stereo", np.repeat(tone, 2), "stereo"),
        ("tone, mono", tone, "mono"),
        *[(f"noise {k}", rng.integers(-32768, 32768, 1920) >> rng.integers(0, 15), "stereo") for k in range(20)],
    ]


@pytest.mark.parametrize("name,values,layout", _cases(), ids=[c[0] for c in _cases()])
def test_same_level_as_aiortc(name: str, values: np.ndarray, layout: str) -> None:
    assert AIORTC_LEVEL is not audio_level_dbov
    frame = _frame(values, layout)
    assert audio_level_dbov(frame) == AIORTC_LEVEL(frame)


def test_levels_span_the_rfc_range() -> None:
    assert audio_level_dbov(_frame(np.zeros(1920), "stereo")) == -127
    assert audio_level_dbov(_frame(np.full(960, 32767), "mono")) == 0


def test_install_reaches_the_senders() -> None:
    saved = rtp.compute_audio_level_dbov
    try:
        install()
        assert rtcrtpsender.rtp.compute_audio_level_dbov is audio_level_dbov
    finally:
        rtp.compute_audio_level_dbov = saved
