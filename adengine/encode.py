"""Writing pictures and sound with PyAV: the MP4s the CLI and replay write, WebM previews, resampled audio.

Frames are RGB uint8 (height, width, 3); audio is float32 (channels, samples) in [-1, 1].
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# x264's output depends on its thread count; a fixed count keeps the pictures the
# same on every machine (the bytes can still differ run to run: see test_media).
_X264_THREADS = 2


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad odd sizes by one repeated row/column: yuv420p needs even sizes, and nothing is cropped away."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _check_frame(frame: np.ndarray, shape: tuple[int, ...] | None) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError("frames must be RGB uint8 arrays of shape (height, width, 3)")
    if shape is not None and frame.shape != shape:
        raise ValueError(f"all frames must have one size: got {frame.shape[:2]} after {shape[:2]}")


def _audio_array(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2 or audio.shape[0] not in (1, 2):
        raise ValueError("audio must be float32 (channels, samples) with 1 or 2 channels")
    return np.ascontiguousarray(np.clip(audio, -1.0, 1.0))


def write_mp4(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> int:
    """Encode RGB frames (H.264, yuv420p) and optional audio (AAC) into an MP4; returns the frame count.

    The file appears only when complete: it is written beside `path` under a temporary
    name and renamed over it, so an error leaves neither an empty nor a partial file.
    """
    path = Path(path)
    if not fps > 0:
        raise ValueError("fps must be positive")
    if audio is not None:
        if not sample_rate or sample_rate <= 0:
            raise ValueError("audio needs a sample rate")
        audio = _audio_array(audio)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A hidden name beside the target: same file system, so the rename is atomic.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        count = _encode(tmp, frames, fps, audio, sample_rate)
        if count == 0:
            raise ValueError("no frames to write")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _encode(
    tmp: Path, frames: Iterable[np.ndarray], fps: float, audio: np.ndarray | None, sample_rate: int | None
) -> int:
    rate = Fraction(fps).limit_denominator(1001)
    # faststart puts the index first, so players and browsers can start before the end arrives.
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        video: av.VideoStream | None = None
        sound = None
        layout = None
        if audio is not None:
            layout = "mono" if audio.shape[0] == 1 else "stereo"
            sound = container.add_stream("aac", rate=sample_rate, layout=layout)
            sound.bit_rate = 160_000
        audio_pos = 0
        count = 0
        shape: tuple[int, ...] | None = None

        def feed_audio(until_s: float | None) -> None:
            # Encode audio up to the pictures' time, so the muxer interleaves without
            # holding the whole track in memory.
            nonlocal audio_pos
            if sound is None or audio is None or layout is None or sample_rate is None:
                return  # no audio track (write_mp4 refuses audio without a sample rate)
            end = audio.shape[1] if until_s is None else min(audio.shape[1], int(until_s * sample_rate))
            step = 1024  # AAC's frame size
            while audio_pos < end and (until_s is None or audio_pos + step <= end):
                chunk = audio[:, audio_pos : audio_pos + step]
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=layout)
                frame.sample_rate = sample_rate
                frame.pts = audio_pos
                frame.time_base = Fraction(1, sample_rate)
                container.mux(sound.encode(frame))
                audio_pos += chunk.shape[1]

        for image in frames:
            _check_frame(image, shape)
            if video is None:
                shape = image.shape
                h, w = _even(image).shape[:2]
                video = container.add_stream("libx264", rate=rate)
                video.width, video.height, video.pix_fmt = w, h, "yuv420p"
                video.codec_context.thread_count = _X264_THREADS
                video.options = {"crf": "20", "preset": "veryfast"}
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(_even(image)), format="rgb24")
            frame.pts = count
            frame.time_base = 1 / rate
            container.mux(video.encode(frame))
            count += 1
            feed_audio(count / float(rate))
        if video is not None:
            container.mux(video.encode(None))
        feed_audio(None)
        if sound is not None:
            container.mux(sound.encode(None))
    return count


def encode_webm(frames: Iterable[np.ndarray], fps: float, bit_rate: int = 2_000_000) -> bytes:
    """RGB frames as a silent VP8 WebM in memory: a preview any browser plays."""
    rate = Fraction(fps).limit_denominator(1001)
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        video: av.VideoStream | None = None
        count, shape = 0, None
        for image in frames:
            _check_frame(image, shape)
            if video is None:
                shape = image.shape
                h, w = _even(image).shape[:2]
                video = container.add_stream("libvpx", rate=rate)
                video.width, video.height, video.pix_fmt, video.bit_rate = w, h, "yuv420p", bit_rate
                video.options = {"deadline": "realtime", "cpu-used": "8"}
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(_even(image)), format="rgb24")
            frame.pts, frame.time_base = count, 1 / rate
            container.mux(video.encode(frame))
            count += 1
        if video is None:
            raise ValueError("no frames to write")
        container.mux(video.encode(None))
    return out.getvalue()


def resample_audio(audio: np.ndarray, rate: int, to_rate: int, to_channels: int = 2) -> np.ndarray:
    """float32 (channels, samples) at `rate` as (to_channels, samples) at `to_rate`, with FFmpeg's resampler."""
    audio = _audio_array(audio)
    layout = "mono" if audio.shape[0] == 1 else "stereo"
    resampler = av.AudioResampler(format="fltp", layout="mono" if to_channels == 1 else "stereo", rate=to_rate)
    frame = av.AudioFrame.from_ndarray(audio, format="fltp", layout=layout)
    frame.sample_rate = rate
    pieces = [f.to_ndarray() for f in resampler.resample(frame)] + [f.to_ndarray() for f in resampler.resample(None)]
    if not pieces:
        return np.zeros((to_channels, 0), np.float32)
    return np.concatenate(pieces, axis=1).astype(np.float32, copy=False)
