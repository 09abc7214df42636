"""Clips in and out through PyAV: a round trip keeps pictures and sound; bad files are refused plainly."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from adengine.encode import write_mp4
from adengine.label import DisclosureLabel
from adengine.media import ClipError, iter_frames, probe, read_clip, read_image

pytestmark = pytest.mark.integration

FPS = 25
RATE = 48_000
H, W = 120, 160
N = 50  # 2 s


def moving_frames(n: int = N, h: int = H, w: int = W) -> list[np.ndarray]:
    """A bright square crossing a gradient: easy to compare after compression."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 90)], axis=2).astype(np.uint8)
    frames = []
    for i in range(n):
        frame = base.copy()
        left = 5 + i * (w - 40) // n
        frame[40:80, left : left + 30] = (250, 240, 40)
        frames.append(frame)
    return frames


def tones(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.4 * np.sin(2 * np.pi * 660 * t)]).astype(np.float32)


def peak_hz(signal: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.fft.rfftfreq(len(signal), 1 / rate)[spectrum.argmax()])


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    assert write_mp4(path, moving_frames(), FPS, tones(N / FPS), RATE) == N
    return path


def test_round_trip_keeps_frames_rate_and_audio(clip_path: Path) -> None:
    clip = read_clip(clip_path)
    assert clip.fps == FPS
    assert len(clip.frames) == N
    assert clip.size == (W, H)
    for got, want in zip(clip.frames, moving_frames()):
        assert got.dtype == np.uint8 and got.shape == (H, W, 3)
        assert np.abs(got.astype(int) - want).mean() < 4
    assert clip.sample_rate == RATE
    assert clip.audio is not None and clip.audio.dtype == np.float32
    assert clip.audio.shape[0] == 2
    assert abs(clip.audio.shape[1] - N / FPS * RATE) <= 1024
    middle = clip.audio[:, RATE // 2 : RATE + RATE // 2]
    assert abs(peak_hz(middle[0]) - 440) < 3 and abs(peak_hz(middle[1]) - 660) < 3
    rms = np.sqrt((middle**2).mean(axis=1))  # AAC keeps the level, not the exact waveform
    assert np.allclose(rms, 0.4 / np.sqrt(2), rtol=0.05)


def test_probe_reads_the_header(clip_path: Path) -> None:
    info = probe(clip_path)
    assert (info.width, info.height, info.fps, info.n_frames) == (W, H, FPS, N)
    assert abs(info.duration_s - 2.0) < 0.05
    assert info.has_audio and info.sample_rate == RATE and info.audio_channels == 2


def test_iter_frames_streams_the_same_frames(clip_path: Path) -> None:
    streamed = list(iter_frames(clip_path))
    assert len(streamed) == N
    assert np.array_equal(streamed[10], read_clip(clip_path).frames[10])


def test_clip_without_audio_and_odd_size(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    write_mp4(path, moving_frames(10, 61, 81), 30)
    clip = read_clip(path)
    assert clip.audio is None and clip.sample_rate is None
    assert clip.size == (82, 62)  # padded to even for yuv420p, never cropped
    assert len(clip.frames) == 10 and clip.fps == 30


def test_rotated_phone_video_reads_upright_as_ffmpeg_shows_it(tmp_path: Path, clip_path: Path) -> None:
    rotated = tmp_path / "phone.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-i",
            str(clip_path),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(rotated),
        ],
        check=True,
    )
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(rotated), "-frames:v", "1", str(tmp_path / "first.png")], check=True
    )
    first = read_clip(rotated).frames[0]
    assert first.shape == (W, H, 3)
    assert np.abs(first.astype(int) - read_image(tmp_path / "first.png")).mean() < 1


def test_truncated_clip_keeps_audio_in_step(clip_path: Path) -> None:
    clip = read_clip(clip_path).truncated(25)
    assert len(clip.frames) == 25
    assert clip.audio is not None and clip.audio.shape[1] == RATE


def test_label_survives_h264_on_every_frame(tmp_path: Path) -> None:
    label = DisclosureLabel()
    rng = np.random.default_rng(3)
    frames = [label.apply(f) for f in moving_frames(20, 480, 640)]
    frames[5] = label.apply(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))  # worst case for the encoder
    write_mp4(tmp_path / "labelled.mp4", frames, FPS)
    decoded = read_clip(tmp_path / "labelled.mp4").frames
    assert len(decoded) == 20
    assert all(label.is_on(f) for f in decoded)
    bare = read_clip_frames_without_label(tmp_path)
    assert not any(label.is_on(f) for f in bare)


def read_clip_frames_without_label(folder: Path) -> list[np.ndarray]:
    write_mp4(folder / "bare.mp4", moving_frames(10, 480, 640), FPS)
    return read_clip(folder / "bare.mp4").frames


# ---------------------------------------------------------------- refusals


def write_audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=RATE, layout="stereo")
        audio = tones(1.0)
        for start in range(0, audio.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(audio[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_index_last(path: Path) -> Path:
    """An MP4 as most cameras write it: the index (moov) after the media data."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i, image in enumerate(moving_frames()):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def half(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def garbled(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    start = len(data) // 3
    data[start : start + 3000] = bytes([0x55]) * 3000
    dst.write_bytes(bytes(data))
    return dst


BAD = {
    "missing": (lambda d, c: d / "nope.mp4", "no such file"),
    "folder": (lambda d, c: d, "folder"),
    "text": (lambda d, c: _write(d / "notes.txt", b"dinner tonight\n" * 200), "not a video file"),
    "text named mp4": (lambda d, c: _write(d / "notes.mp4", b"dinner tonight\n" * 200), "not a video file"),
    "empty": (lambda d, c: _write(d / "empty.mp4", b""), "empty"),
    "random bytes": (lambda d, c: _write(d / "noise.mp4", np.random.default_rng(1).bytes(20000)), "not a video file"),
    "truncated (index first)": (lambda d, c: half(c, d / "half.mp4"), "truncated"),
    "truncated (index last)": (
        lambda d, c: half(write_index_last(d / "camera.mp4"), d / "half_camera.mp4"),
        "truncated",
    ),
    "corrupt": (lambda d, c: garbled(c, d / "garbled.mp4"), "corrupt"),
    "audio only": (lambda d, c: write_audio_only(d / "voice.m4a"), "has no video stream"),
    "still image": (lambda d, c: _png(d / "photo.png"), "no video stream"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _png(path: Path) -> Path:
    Image.fromarray(moving_frames(1)[0]).save(path)
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_bad_inputs_are_refused_with_a_plain_message(case: str, tmp_path: Path, clip_path: Path) -> None:
    make, words = BAD[case]
    path = make(tmp_path, clip_path)
    for read in (read_clip, lambda p: list(iter_frames(p))):
        with pytest.raises(ClipError) as err:
            read(path)
        message = str(err.value)
        assert words in message, message
        assert "\n" not in message and len(message) < 200


def test_probe_refuses_non_videos(tmp_path: Path) -> None:
    with pytest.raises(ClipError, match="has no video stream"):
        probe(write_audio_only(tmp_path / "voice.m4a"))
    with pytest.raises(ClipError, match="no such file"):
        probe(tmp_path / "nope.mp4")


def test_huge_clips_are_refused(clip_path: Path) -> None:
    with pytest.raises(ClipError, match=r"160x120 .* the limit is 10000"):
        read_clip(clip_path, max_pixels=100 * 100)
    with pytest.raises(ClipError, match=r"2\.0 s long; the limit is 1 s"):
        read_clip(clip_path, max_duration_s=1)
    with pytest.raises(ClipError, match="limit"):
        list(iter_frames(clip_path, max_pixels=100 * 100))


def test_clip_error_is_a_value_error() -> None:
    assert issubclass(ClipError, ValueError)


# ---------------------------------------------------------------- writing


def frames_then_failure():
    yield from moving_frames(10)
    raise RuntimeError("renderer crashed")


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_mp4(target, frames_then_failure(), FPS)
    assert list(tmp_path.iterdir()) == []


def test_bad_frames_leave_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    mixed = moving_frames(5) + [np.zeros((H + 2, W, 3), np.uint8)]
    with pytest.raises(ValueError, match="one size"):
        write_mp4(target, mixed, FPS)
    with pytest.raises(ValueError, match="RGB uint8"):
        write_mp4(target, [np.zeros((H, W), np.uint8)], FPS)
    with pytest.raises(ValueError, match="no frames"):
        write_mp4(target, [], FPS)
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    write_mp4(target, moving_frames(10), FPS)
    before = target.read_bytes()
    with pytest.raises(RuntimeError):
        write_mp4(target, frames_then_failure(), FPS)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def _decoded(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0, audio=0))
    video = np.stack([f.to_ndarray(format="rgb24") for f in frames if isinstance(f, av.VideoFrame)]).astype(np.int16)
    audio = np.concatenate([f.to_ndarray() for f in frames if isinstance(f, av.AudioFrame)], axis=1)
    return video, audio


def test_write_gives_the_same_pictures_and_sound(tmp_path: Path) -> None:
    # Not the same bytes: on the 2026-12-02 host, x264 in PyAV 18's FFmpeg wrote
    # slightly different pictures run to run (even single-threaded, cause not
    # found): a mean difference of 0.01-0.03 levels, at most 12 on a few pixels.
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_mp4(a, moving_frames(), FPS, tones(2.0), RATE)
    write_mp4(b, moving_frames(), FPS, tones(2.0), RATE)
    (va, aa), (vb, ab) = _decoded(a), _decoded(b)
    assert va.shape == vb.shape and aa.shape == ab.shape
    assert np.abs(va - vb).mean() < 0.2 and np.abs(va - vb).max() <= 32
    assert np.array_equal(aa, ab)


def test_mono_audio_is_written(tmp_path: Path) -> None:
    path = tmp_path / "mono.mp4"
    write_mp4(path, moving_frames(25), FPS, tones(1.0)[0], RATE)
    clip = read_clip(path)
    assert clip.audio is not None and clip.audio.shape[0] == 1


# ---------------------------------------------------------------- images


def test_read_image_gives_rgb(tmp_path: Path) -> None:
    image = moving_frames(1)[0]
    Image.fromarray(image).save(tmp_path / "a.png")
    Image.fromarray(image).convert("L").save(tmp_path / "grey.png")
    assert np.array_equal(read_image(tmp_path / "a.png"), image)
    grey = read_image(tmp_path / "grey.png")
    assert grey.shape == (H, W, 3) and grey.dtype == np.uint8


def test_read_image_refuses_bad_files(tmp_path: Path) -> None:
    Image.fromarray(moving_frames(1)[0]).save(tmp_path / "a.jpg", quality=90)
    data = (tmp_path / "a.jpg").read_bytes()
    cases = {
        tmp_path / "nope.png": "no such file",
        _write(tmp_path / "notes.txt", b"hello\n"): "not an image",
        _write(tmp_path / "empty.png", b""): "empty",
        _write(tmp_path / "cut.jpg", data[: len(data) // 3]): "truncated",
    }
    for path, words in cases.items():
        with pytest.raises(ClipError, match=words):
            read_image(path)


def test_mux_audio_copies_the_pictures_and_adds_the_sound(tmp_path):
    from adengine.encode import mux_audio

    pictures = tmp_path / "pictures.mp4"
    write_mp4(pictures, moving_frames(30), FPS)
    out = tmp_path / "with-sound.mp4"
    mux_audio(pictures, tones(30 / FPS), RATE, out)
    with av.open(str(pictures)) as a, av.open(str(out)) as b:
        before = [bytes(p) for p in a.demux(video=0) if p.size]
        after = [bytes(p) for p in b.demux(video=0) if p.size]
        assert b.streams.audio[0].codec_context.name == "aac"
    assert before == after  # copied, not encoded again
    with av.open(str(out)) as b:
        sound = np.concatenate([f.to_ndarray() for f in b.decode(audio=0)], axis=1)
    assert sound.shape[1] >= RATE * 30 / FPS * 0.95 and np.abs(sound).max() > 0.1


def test_mux_audio_refuses_a_file_without_pictures_and_leaves_nothing(tmp_path):
    from adengine.encode import mux_audio

    sound_only = tmp_path / "sound.m4a"
    with av.open(str(sound_only), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = RATE
        c.mux(s.encode(frame))
        c.mux(s.encode(None))
    with pytest.raises(ValueError, match="no video"):
        mux_audio(sound_only, tones(1.0), RATE, tmp_path / "out.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sound.m4a"]
