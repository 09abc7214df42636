"""The bench's encoder trace: one line per VP8 frame, ad frames told from live ones, off unless asked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.codecs import vpx

from callbridge.media.adapt import encoder_trace
from callbridge.media.tracks import Program


@pytest.fixture
def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "encodes.jsonl"
    monkeypatch.setenv(encoder_trace.ENV, str(path))
    assert encoder_trace.install()
    yield path
    encoder_trace.uninstall()


def _frame(level: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((240, 320, 3), level, np.uint8), format="rgb24")


def test_each_encode_is_a_line_and_the_ads_frames_are_marked(traced: Path) -> None:
    program, encoder = Program("video"), vpx.Vp8Encoder()
    track = program.subscribe()
    program.live(_frame(40))
    program.on_air = True
    program.inject(_frame(200))
    for _ in range(2):
        encoder.encode(track._queue.popleft())
    first, second = [json.loads(line) for line in traced.read_text().splitlines()]
    assert first["key"] and not first["ad"] and first["packets"] >= 1
    assert second["ad"] and not second["key"] and second["encoder"] == first["encoder"]
    assert second["bytes"] > 0 and second["target"] == vpx.DEFAULT_BITRATE


def test_without_the_variable_nothing_is_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(encoder_trace.ENV, raising=False)
    assert not encoder_trace.install()
    assert vpx.Vp8Encoder.encode is encoder_trace._ORIGINAL
