"""The steadier bitrate: the encoder follows big moves of the receiver's estimate, not its wobble."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest
from aiortc.codecs import vpx

from callbridge.media.adapt import aiortc_vp8_bitrate as bitrate
from callbridge.media.adapt.aiortc_vp8_bitrate import SteadyBitrate


def test_a_wobbling_estimate_is_not_followed():
    steady = SteadyBitrate(500_000)
    for k, estimate in enumerate([550_000, 450_000, 560_000, 440_000, 600_000, 400_000] * 5):
        assert not steady.follow(estimate, now=float(k))
    assert steady.current == 500_000


def test_a_big_rise_is_followed_once_the_last_change_is_old_enough():
    steady = SteadyBitrate(500_000, changed_at=0.0)
    assert not steady.follow(900_000, now=4.9)  # too soon after the last change
    assert steady.follow(900_000, now=5.0) and steady.current == 900_000
    assert not steady.follow(1_400_000, now=6.0)  # x1.56, but 1 s after the last change
    assert steady.follow(1_400_000, now=10.0)


def test_the_ceiling_and_the_floor_count_as_big_moves():
    # 1.2 -> 1.5 Mbit/s is only x1.25, but 1.5 is as high as the encoder goes: it must be reachable
    steady = SteadyBitrate(1_200_000, changed_at=0.0)
    assert not steady.follow(1_400_000, now=10.0)
    assert steady.follow(1_500_000, now=10.0) and steady.current == 1_500_000
    assert not steady.follow(1_500_000, now=20.0)  # no move, no restart
    low = SteadyBitrate(300_000, changed_at=0.0)
    assert low.follow(250_000, now=2.0) and low.current == 250_000


def test_a_big_fall_is_followed_within_a_second():
    steady = SteadyBitrate(1_000_000, changed_at=0.0)
    assert not steady.follow(650_000, now=30.0)  # x0.65: a wobble
    assert not steady.follow(500_000, now=0.5)  # congestion, but the last change was 0.5 s ago
    assert steady.follow(500_000, now=1.0) and steady.current == 500_000


def _frame(k: int) -> av.VideoFrame:
    rng = np.random.default_rng(k)
    frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (120, 160, 3), np.uint8), format="rgb24")
    frame.pts, frame.time_base = k * 6000, fractions.Fraction(1, 90_000)
    return frame


def _restarts(estimates: list[int], clock_step_s: float = 0.2) -> tuple[int, int]:
    """Encode one frame per estimate, as REMB packets arrive between frames; (restarts, final target)."""
    encoder, codecs, now = vpx.Vp8Encoder(), [], [0.0]
    bitrate.install(clock=lambda: now[0])
    try:
        for k, estimate in enumerate(estimates):
            encoder.target_bitrate = estimate
            encoder.encode(_frame(k))
            codecs.append(encoder.codec)
            now[0] += clock_step_s
    finally:
        bitrate.uninstall()
    return sum(1 for a, b in zip(codecs, codecs[1:]) if a is not b), encoder.target_bitrate


@pytest.fixture(autouse=True)
def _aiortc_as_shipped():
    yield
    bitrate.uninstall()


def test_installed_the_encoder_keeps_its_context_through_a_wobbling_estimate():
    wobble = [560_000, 440_000] * 15  # +-12%: aiortc alone starts the encoder over each time
    vpx.Vp8Encoder.target_bitrate = bitrate.AIORTC_TARGET
    plain = vpx.Vp8Encoder()
    contexts = []
    for k, estimate in enumerate(wobble):
        plain.target_bitrate = estimate
        plain.encode(_frame(k))
        contexts.append(plain.codec)
    assert sum(1 for a, b in zip(contexts, contexts[1:]) if a is not b) >= 25
    assert _restarts(wobble) == (0, 500_000)


def test_installed_the_encoder_still_follows_congestion_and_recovery():
    estimates = [500_000] * 5 + [200_000] * 10 + [1_200_000] * 40  # a collapse after 1 s, then 8 s of a good link
    restarts, target = _restarts(estimates)
    assert restarts == 2 and target == 1_200_000  # down to the floor at once, up once the hold is over
