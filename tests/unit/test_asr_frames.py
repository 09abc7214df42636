"""The encoder's input length: the window, the silent tail pad, rounded up to a few lengths."""

from triggers.asr import _BUCKET_FRAMES, _HOP, _MAX_FRAMES, _TAIL_PAD_S, encoder_frames
from triggers.audio import SAMPLE_RATE


def test_frames_cover_the_audio_and_the_tail_pad() -> None:
    for seconds in (0.0, 0.3, 1.0, 2.71, 8.0, 9.99):
        samples = int(seconds * SAMPLE_RATE)
        frames = encoder_frames(samples)
        assert frames * _HOP >= samples + _TAIL_PAD_S * SAMPLE_RATE - _HOP
        assert frames - (samples + _TAIL_PAD_S * SAMPLE_RATE) / _HOP < _BUCKET_FRAMES


def test_frames_are_even_and_capped_at_thirty_seconds() -> None:
    assert all(encoder_frames(n) % 2 == 0 for n in range(0, 12 * SAMPLE_RATE, 37))
    assert encoder_frames(40 * SAMPLE_RATE) == _MAX_FRAMES


def test_windows_up_to_the_engines_limit_take_few_lengths() -> None:
    # every 10 ms from 0.1 to 8.5 s: unrounded, that is 840 lengths (and 840 kept convolutions)
    lengths = {encoder_frames(n) for n in range(SAMPLE_RATE // 10, int(8.5 * SAMPLE_RATE), _HOP)}
    assert len(lengths) <= 18
