"""Reading clips, images and sound with PyAV (its bundled ffmpeg), never a subprocess; writing is in encode.py.

Frames are RGB uint8 (height, width, 3); audio is float32 (channels, samples) in [-1, 1].
Every way a file can be unusable ends in `ClipError` with a one-line message that
names the file, so a CLI can print it as is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import av
import av.logging
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 1920 * 1080
MAX_DURATION_S = 60.0
# A clip that decodes to less than this share of the frames its container declares
# was cut short or damaged; a little slack covers containers that round their counts.
_MIN_FRAME_SHARE = 0.9


class ClipError(ValueError):
    """A file that cannot be used as a clip or image; the message says why in one line."""


@dataclass(frozen=True)
class ClipInfo:
    """What a container says about its first video stream (and first audio stream).

    Width and height are as stored; frames from `read_clip` come upright, so a
    phone video tagged as rotated reads back with the two swapped.
    """

    width: int
    height: int
    fps: float
    n_frames: int  # declared by the container, or estimated from duration x fps; 0 if unknown
    duration_s: float  # 0.0 if unknown
    has_audio: bool
    sample_rate: int | None
    audio_channels: int | None


@dataclass(frozen=True)
class Clip:
    """A decoded clip, all in memory."""

    frames: list[np.ndarray]
    fps: float
    audio: np.ndarray | None  # float32 (channels, samples)
    sample_rate: int | None

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        h, w = self.frames[0].shape[:2]
        return w, h

    def truncated(self, n_frames: int) -> Clip:
        """The first `n_frames` frames, with the audio cut to the same length."""
        if n_frames < 1:
            raise ValueError("a clip keeps at least one frame")
        audio = self.audio
        if audio is not None and self.sample_rate:
            audio = audio[:, : int(round(n_frames / self.fps * self.sample_rate))]
        return replace(self, frames=self.frames[:n_frames], audio=audio)


def _open(path: Path) -> av.container.InputContainer:
    """Open `path` for reading, turning every failure into a plain ClipError."""
    if not path.exists():
        raise ClipError(f"{path}: no such file")
    if path.is_dir():
        raise ClipError(f"{path} is a folder, not a video file")
    if path.stat().st_size == 0:
        raise ClipError(f"{path.name} is empty (0 bytes)")
    try:
        # local files only: a playlist or a crafted file must not make FFmpeg open URLs
        return av.open(str(path), "r", options={"protocol_whitelist": "file"})
    except av.error.InvalidDataError:
        raise ClipError(f"{path.name} is not a video file, or it is truncated or corrupt") from None
    except (av.FFmpegError, OSError) as exc:
        raise ClipError(f"{path.name} could not be opened: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    # FFmpeg errors carry the file name again and a numeric code; keep the words only.
    return getattr(exc, "strerror", None) or str(exc).splitlines()[0]


def _video_stream(path: Path, container: av.container.InputContainer) -> av.VideoStream:
    """The first real video stream; still images and cover art do not count."""
    kind = container.format.name
    if kind == "tty":  # ffmpeg's ANSI-art demuxer accepts any text file as "video"
        raise ClipError(f"{path.name} is not a video file (it looks like text)")
    if kind == "image2" or kind.endswith("_pipe"):
        raise ClipError(f"{path.name} is a still image and has no video stream")
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:  # album art in audio files
            return stream
    raise ClipError(f"{path.name} has no video stream")


def _info(path: Path, container: av.container.InputContainer) -> ClipInfo:
    video = _video_stream(path, container)
    audio = container.streams.audio[0] if container.streams.audio else None
    rate = video.average_rate or video.guessed_rate or video.base_rate
    fps = float(rate) if rate else 0.0
    if not fps > 0:
        raise ClipError(f"{path.name} has no usable frame rate")
    if video.duration is not None and video.time_base is not None:
        duration = float(video.duration * video.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    n_frames = video.frames or int(round(duration * fps))
    width, height = video.codec_context.width, video.codec_context.height
    if width <= 0 or height <= 0:
        raise ClipError(f"{path.name} has a video stream without a picture size")
    return ClipInfo(
        width=width,
        height=height,
        fps=fps,
        n_frames=n_frames,
        duration_s=duration,
        has_audio=audio is not None,
        sample_rate=audio.codec_context.sample_rate if audio is not None else None,
        audio_channels=audio.codec_context.channels if audio is not None else None,
    )


def probe(path: str | os.PathLike) -> ClipInfo:
    """Size, rate, length and audio of a video file, without decoding it."""
    path = Path(path)
    with _open(path) as container:
        return _info(path, container)


def _check_limits(path: Path, info: ClipInfo, max_duration_s: float, max_pixels: int) -> None:
    if info.width * info.height > max_pixels:
        raise ClipError(
            f"{path.name} is {info.width}x{info.height} ({info.width * info.height} pixels a frame); "
            f"the limit is {max_pixels}"
        )
    if info.duration_s > max_duration_s + 0.5 / info.fps:
        raise ClipError(f"{path.name} is {info.duration_s:.1f} s long; the limit is {max_duration_s:g} s")


def _fitted(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) scaled down, keeping the aspect, so the longer side is at most `max_side`; even."""
    scale = 1.0 if not max_side else min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _rgb(frame: av.VideoFrame, max_side: int | None = None) -> np.ndarray:
    width, height = _fitted(frame.width, frame.height, max_side)
    if (width, height) == (frame.width, frame.height):
        image = frame.to_ndarray(format="rgb24")
    else:  # scaled while converting: the full-size picture is never held
        image = frame.to_ndarray(format="rgb24", width=width, height=height, interpolation="AREA")
    # Phone videos store upright pictures sideways plus a rotation tag.
    turns = int(round((getattr(frame, "rotation", 0) or 0) / 90)) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


@contextmanager
def _ffmpeg_errors() -> Iterator[list]:
    """Collect the error messages FFmpeg logs on this thread (it conceals broken frames and only logs)."""
    level = av.logging.get_level()
    if level is None or level < av.logging.ERROR:
        av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture(local=True) as logs:
            yield logs
    finally:
        av.logging.set_level(level)


def _decode(
    path: Path,
    container: av.container.InputContainer,
    info: ClipInfo,
    max_duration_s: float,
    audio_chunks: list | None,
    keep_frames: int | None = None,
    max_side: int | None = None,
) -> Iterator[np.ndarray]:
    """RGB frames of the video stream; audio (if `audio_chunks` is a list) is appended to it as planar float32.

    With `keep_frames`, decoding stops after that many frames; with `max_side`, frames are scaled down to it.
    """
    video = _video_stream(path, container)
    # Decoder threads log where the capture cannot see: decode on this thread.
    video.codec_context.thread_count = 1
    audio = container.streams.audio[0] if container.streams.audio and audio_chunks is not None else None
    # Planar float at the stream's own rate and layout, whatever the codec decodes to.
    resampler = av.AudioResampler(format="fltp", layout=audio.layout, rate=audio.sample_rate) if audio else None
    limit = int(max_duration_s * info.fps) + 1
    count = 0
    with _ffmpeg_errors() as logs:
        try:
            for packet in container.demux([video] + ([audio] if audio else [])):
                for frame in packet.decode():
                    if isinstance(frame, av.VideoFrame):
                        count += 1
                        if count > limit:  # the container under-declared its length
                            raise ClipError(f"{path.name} is longer than the limit of {max_duration_s:g} s")
                        if keep_frames is not None and count > keep_frames:
                            return
                        yield _rgb(frame, max_side)
                    elif isinstance(frame, av.AudioFrame) and resampler is not None and audio_chunks is not None:
                        audio_chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
                errors = [message for level, _, message in logs if level <= av.logging.ERROR]
                if errors:
                    raise ClipError(f"{path.name} is corrupt (after {count} frames: {errors[0].strip()})")
            if resampler is not None and audio_chunks is not None:
                audio_chunks.extend(f.to_ndarray() for f in resampler.resample(None))
        except av.FFmpegError as exc:
            raise ClipError(
                f"{path.name} is truncated or corrupt (decoding stopped after {count} frames: {_reason(exc)})"
            ) from None
    if count == 0:
        raise ClipError(f"{path.name} has no frames")
    if info.n_frames and count < _MIN_FRAME_SHARE * info.n_frames:
        raise ClipError(f"{path.name} is truncated or corrupt (decoded {count} of {info.n_frames} frames)")


def iter_frames(
    path: str | os.PathLike, max_duration_s: float = MAX_DURATION_S, max_pixels: int = MAX_PIXELS
) -> Iterator[np.ndarray]:
    """RGB frames of `path` one at a time, for inputs too large to hold in memory.

    The same refusals as `read_clip`; a file that breaks off partway raises ClipError
    after the frames before the break have been yielded.
    """
    path = Path(path)
    with _open(path) as container:
        info = _info(path, container)
        _check_limits(path, info, max_duration_s, max_pixels)
        yield from _decode(path, container, info, max_duration_s, None)


def read_clip(
    path: str | os.PathLike,
    max_duration_s: float = MAX_DURATION_S,
    max_pixels: int = MAX_PIXELS,
    keep_s: float | None = None,
    max_side: int | None = None,
) -> Clip:
    """Decode a video (and its first audio stream, if any) into memory: its first `keep_s` seconds
    when given, scaled down so that its longer side is at most `max_side` when given."""
    path = Path(path)
    chunks: list[np.ndarray] = []
    with _open(path) as container:
        info = _info(path, container)
        _check_limits(path, info, max_duration_s, max_pixels)
        keep = None if keep_s is None else max(1, int(round(keep_s * info.fps)))
        frames = list(_decode(path, container, info, max_duration_s, chunks, keep, max_side))
    if not chunks or not info.sample_rate:
        return Clip(frames, info.fps, None, None)
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    # Keep the audio no longer than the pictures: callers play them side by side.
    samples = samples[:, : int(round(len(frames) / info.fps * info.sample_rate))]
    return Clip(frames, info.fps, samples, info.sample_rate)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as RGB uint8, upright (EXIF orientation applied)."""
    path = Path(path)
    if not path.exists():
        raise ClipError(f"{path}: no such file")
    if path.is_dir():
        raise ClipError(f"{path} is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ClipError(f"{path.name} is empty (0 bytes)")
    return decode_image(path, path.name)


def decode_image(source: str | os.PathLike | BinaryIO, name: str = "the image") -> np.ndarray:
    """An image (a path or an open binary file) as RGB uint8, upright; ClipError naming `name` if unusable."""
    try:
        with Image.open(source) as image:
            image.load()  # decode now: Pillow opens lazily and would fail later otherwise
            upright = ImageOps.exif_transpose(image)
            return np.asarray(upright.convert("RGB"), dtype=np.uint8).copy()
    except UnidentifiedImageError:
        raise ClipError(f"{name} is not an image file") from None
    except Image.DecompressionBombError:
        raise ClipError(f"{name} is too large an image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ClipError(f"{name} is truncated or corrupt ({_reason(exc)})") from None


def read_audio(path: str | os.PathLike, rate: int = 48000, channels: int = 2) -> np.ndarray | None:
    """The first audio stream of a file as float32 (channels, samples) at `rate`; None if it has none."""
    path = Path(path)
    with _open(path) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout="mono" if channels == 1 else "stereo", rate=rate)
        pieces: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                pieces.extend(f.to_ndarray() for f in resampler.resample(frame))
        except av.FFmpegError as exc:  # a truncated file: keep what decoded
            if not pieces:
                raise ClipError(f"{path.name}: its audio cannot be decoded ({_reason(exc)})") from None
        pieces.extend(f.to_ndarray() for f in resampler.resample(None))
    if not pieces:
        return None
    return np.concatenate(pieces, axis=1).astype(np.float32, copy=False)
