"""An ad break's media: letterboxing, the soundtrack's frames, the ad's duration and frame rate."""

from __future__ import annotations

import av
import numpy as np
import pytest

from adengine.media import Clip
from callbridge.media.adbreak import MAX_AD_S, MIN_AD_FPS, MIN_AD_S, AdMedia, ad_rate, audio_frames, letterbox, paced
from tests.support.audio import pcm, sine


def test_letterbox_puts_bars_left_and_right_of_a_narrower_frame():
    frame = np.full((480, 640, 3), 255, np.uint8)
    out = letterbox(frame, (1280, 720))
    assert out.shape == (720, 1280, 3) and out.dtype == np.uint8
    # 640x480 scaled by 1.5 is 960x720: 160 px of black either side.
    assert not out[:, :160].any() and not out[:, 1120:].any()
    assert (out[:, 160:1120] == 255).all()


def test_letterbox_puts_bars_above_and_below_a_wider_frame():
    frame = np.full((100, 400, 3), 128, np.uint8)
    out = letterbox(frame, (320, 240))
    # scale 0.8 -> 320x80, centred: 80 rows of black above and below
    assert out.shape == (240, 320, 3)
    assert not out[:80].any() and not out[160:].any()
    assert np.abs(out[80:160].astype(int) - 128).max() <= 1


def test_letterbox_centres_the_content():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[200:280, 280:360] = 255  # a white square in the middle
    out = letterbox(frame, (1280, 720))
    ys, xs = np.nonzero(out[..., 0] > 128)
    assert abs((xs.min() + xs.max()) / 2 - 639.5) <= 1.5
    assert abs((ys.min() + ys.max()) / 2 - 359.5) <= 1.5


def test_letterbox_is_the_identity_at_the_same_size():
    frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    assert letterbox(frame, (320, 240)) is frame


def assert_stereo_20ms(frames: list[av.AudioFrame]) -> None:
    for frame in frames:
        assert frame.samples == 960 and frame.sample_rate == 48_000
        assert frame.format.name == "s16" and frame.layout.name == "stereo"


@pytest.mark.parametrize("duration", [1.5, 2.0, 3.14])
def test_audio_frames_are_20ms_48k_stereo_s16_and_cover_the_duration(duration):
    frames = audio_frames(None, None, duration)
    assert len(frames) == int(duration * 50)
    assert_stereo_20ms(frames)
    assert not pcm(frames).any()  # no soundtrack: silence


@pytest.mark.parametrize("shape", ["1d", "(1, samples)"])
def test_audio_frames_from_mono_44k_float_are_resampled_and_silence_padded(shape):
    tone = sine(0.5, 440, 0.5)
    frames = audio_frames(tone if shape == "1d" else tone[None, :], 44_100, 1.5)
    assert len(frames) == 75
    assert_stereo_20ms(frames)
    out = pcm(frames)
    assert np.array_equal(out[:, 0], out[:, 1])  # mono on both channels
    # swresample upmixes mono at -3 dB per channel: 0.5 full scale -> about 0.35
    peak = np.abs(out[:23_500, 0]).max()
    assert 0.3 * 32767 < peak < 0.55 * 32767
    # about 0.5 s of tone at 48 kHz, then silence to the end
    assert np.abs(out[1000:23_000, 0]).mean() > 1000
    assert not out[24_500:].any()


def test_audio_frames_from_stereo_44k_float_keep_the_channels_apart():
    left = sine(2.0, 300, 0.6).astype(np.float64)
    stereo = np.stack([left, np.zeros_like(left)])  # (channels, samples), float64, right silent
    frames = audio_frames(stereo, 44_100, 1.5)  # longer than the duration: cut
    assert len(frames) == 75
    assert_stereo_20ms(frames)
    out = pcm(frames)
    assert np.abs(out[:, 0]).max() > 0.55 * 32767
    assert np.abs(out[:, 1]).max() < 50
    assert np.abs(out[-960:, 0]).max() > 0.55 * 32767  # still sounding at the cut


def test_a_clips_soundtrack_is_heard_in_the_ad():
    # pipeline.ad_media passes adengine's Clip.audio, which is float32 (channels, samples)
    left, right = sine(1.0, 440, 0.5), sine(1.0, 660, 0.25)
    clip = Clip([np.zeros((24, 32, 3), np.uint8)], 25.0, np.stack([left, right]), 44_100)
    out = pcm(audio_frames(clip.audio, clip.sample_rate, 1.5))
    assert 0.45 * 32767 < np.abs(out[:47_000, 0]).max() < 0.55 * 32767
    assert 0.2 * 32767 < np.abs(out[:47_000, 1]).max() < 0.3 * 32767
    assert not out[48_500:].any()


@pytest.mark.parametrize(
    "frame_count, fps, expected",
    [(10, 10.0, MIN_AD_S), (15, 10.0, 1.5), (80, 10.0, 8.0), (25 * 60, 25.0, MAX_AD_S), (0, 30.0, MIN_AD_S)],
)
def test_ad_duration_is_clamped(frame_count, fps, expected):
    media = AdMedia("t", [], fps, frame_count, None, None, False)
    assert media.duration_s == pytest.approx(expected)


@pytest.mark.parametrize(
    "template_fps, live_fps, expected",
    [(25.0, None, 25.0), (25.0, 15.0, 15.0), (25.0, 30.0, 25.0), (25.0, 4.0, MIN_AD_FPS), (8.0, 4.0, 8.0)],
)
def test_an_ad_plays_no_faster_than_the_live_video_it_stands_in_for(template_fps, live_fps, expected):
    assert ad_rate(template_fps, live_fps) == expected


def test_paced_takes_the_source_frame_due_at_each_time():
    assert list(paced(iter(range(100)), 25.0, 15.0, 10)) == [0, 1, 3, 5, 6, 8, 10, 11, 13, 15]
    assert list(paced(iter(range(100)), 25.0, 25.0, 5)) == [0, 1, 2, 3, 4]
    assert list(paced(iter(range(4)), 20.0, 10.0, 10)) == [0, 2]  # a short source ends it
