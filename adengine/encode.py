"""Writing pictures and sound with PyAV: the MP4s the CLI and replay write, WebM previews, resampled audio.

Frames are RGB uint8 (height, width, 3); audio is float32 (channels, samples) in [-1, 1].
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Callable, Iterable
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


class _AudioFeed:
    """Encodes a track's audio into a container up to a given time, so the muxer interleaves
    it with the pictures without holding the whole track in memory."""

    def __init__(self, container: av.container.OutputContainer, audio: np.ndarray, sample_rate: int) -> None:
        self._container, self._audio, self._rate = container, audio, sample_rate
        self._layout = "mono" if audio.shape[0] == 1 else "stereo"
        self._stream = container.add_stream("aac", rate=sample_rate, layout=self._layout)
        self._stream.bit_rate = 160_000
        self._pos = 0

    def until(self, t: float | None) -> None:
        """Everything before `t` seconds (None: the rest, then the encoder's tail)."""
        end = self._audio.shape[1] if t is None else min(self._audio.shape[1], int(t * self._rate))
        step = 1024  # AAC's frame size
        while self._pos < end and (t is None or self._pos + step <= end):
            chunk = self._audio[:, self._pos : self._pos + step]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=self._layout)
            frame.sample_rate, frame.pts, frame.time_base = self._rate, self._pos, Fraction(1, self._rate)
            self._container.mux(self._stream.encode(frame))
            self._pos += chunk.shape[1]
        if t is None:
            self._container.mux(self._stream.encode(None))


def _encode(
    tmp: Path, frames: Iterable[np.ndarray], fps: float, audio: np.ndarray | None, sample_rate: int | None
) -> int:
    rate = Fraction(fps).limit_denominator(1001)
    # faststart puts the index first, so players and browsers can start before the end arrives.
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        sound = None if audio is None or sample_rate is None else _AudioFeed(container, audio, sample_rate)

        def x264(video: av.VideoStream) -> None:
            video.codec_context.thread_count = _X264_THREADS
            video.options = {"crf": "20", "preset": "veryfast"}

        def sound_until(count: int) -> None:
            if sound is not None:
                sound.until(count / float(rate))

        count = _encode_video(container, frames, rate, "libx264", x264, sound_until)
        if sound is not None:
            sound.until(None)
    return count


def _encode_video(
    container: av.container.OutputContainer,
    frames: Iterable[np.ndarray],
    rate: Fraction,
    codec: str,
    configure: Callable[[av.VideoStream], None],
    after_each: Callable[[int], None] = lambda count: None,
) -> int:
    """Encode RGB frames as yuv420p into a stream made at the first frame (its size); the frame count."""
    video: av.VideoStream | None = None
    count, shape = 0, None
    for image in frames:
        _check_frame(image, shape)
        if video is None:
            shape = image.shape
            h, w = _even(image).shape[:2]
            stream = container.add_stream(codec, rate=rate)
            assert isinstance(stream, av.VideoStream)  # a video codec's stream
            video = stream
            video.width, video.height, video.pix_fmt = w, h, "yuv420p"
            configure(video)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(_even(image)), format="rgb24")
        frame.pts, frame.time_base = count, 1 / rate
        container.mux(video.encode(frame))
        count += 1
        after_each(count)
    if video is not None:
        container.mux(video.encode(None))
    return count


def mux_audio(video: str | os.PathLike, audio: np.ndarray, sample_rate: int, path: str | os.PathLike) -> None:
    """`video`'s pictures, copied as they are (no re-encode), with `audio` as AAC, into the MP4 `path`.

    For pictures written before their sound is known (replay writes the video while the
    ads are still being placed). Like `write_mp4`, `path` appears only when complete.
    """
    audio, path = _audio_array(audio), Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with (
            av.open(str(video), options={"protocol_whitelist": "file"}) as source,
            av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as container,
        ):
            if not source.streams.video:
                raise ValueError(f"{Path(video).name} has no video to put the sound beside")
            pictures = source.streams.video[0]
            copied = container.add_stream_from_template(pictures)
            sound = _AudioFeed(container, audio, sample_rate)
            for packet in source.demux(pictures):
                if packet.dts is None:
                    continue  # the demuxer's end-of-stream marker
                packet.stream = copied
                container.mux(packet)
                if packet.pts is not None and packet.time_base is not None:
                    sound.until(float(packet.pts * packet.time_base))
            sound.until(None)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def encode_webm(frames: Iterable[np.ndarray], fps: float, bit_rate: int = 2_000_000) -> bytes:
    """RGB frames as a silent VP8 WebM in memory: a preview any browser plays."""
    out = io.BytesIO()

    def vp8(video: av.VideoStream) -> None:
        video.bit_rate = bit_rate
        video.options = {"deadline": "realtime", "cpu-used": "8"}

    with av.open(out, "w", format="webm") as container:
        if _encode_video(container, frames, Fraction(fps).limit_denominator(1001), "libvpx", vp8) == 0:
            raise ValueError("no frames to write")
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
