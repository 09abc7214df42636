"""What a clip's header says (size, rate, length), checked against the caps before anything is decoded."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av

from callbridge.ingest.caps import DEFAULT_CAPS, Caps
from callbridge.ingest.errors import BREAKS_RULE, NOT_A_VIDEO, UploadError
from callbridge.ingest.sniff import EXTENSIONS

# Only files: no network, no pipes, no other protocol a crafted file could point at.
_OPTIONS = {"protocol_whitelist": "file"}
_AUDIO_TAIL_S = 0.5  # an audio track may outlast the pictures by this much


@dataclass(frozen=True)
class ClipHeader:
    """What the container says about the clip's first video stream."""

    width: int
    height: int
    fps: float
    duration_s: float  # 0.0 when the container does not say (a live WebM recording, say)
    frames: int  # declared, or estimated as duration x fps; 0 when unknown
    has_audio: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def open_clip(path: Path, container: str) -> av.container.InputContainer:
    """`path` opened with the sniffed demuxer forced and only the file protocol allowed."""
    if container not in EXTENSIONS:
        raise UploadError(NOT_A_VIDEO, f"unknown container {container!r}")
    try:
        return av.open(str(path), "r", format=container, options=_OPTIONS)
    except (av.FFmpegError, OSError):
        raise UploadError(BREAKS_RULE, "the clip's header cannot be read: the file is damaged or truncated") from None


def video_stream(container: av.container.InputContainer) -> av.VideoStream:
    """The first real video stream (cover art does not count), or UploadError(422)."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise UploadError(BREAKS_RULE, "the clip has no video stream")


def read_header(path: Path, container: str) -> ClipHeader:
    """The clip's header, from stream information only (nothing is decoded into pictures)."""
    with open_clip(path, container) as opened:
        video = video_stream(opened)
        rate = video.average_rate or video.guessed_rate or video.base_rate
        fps = float(rate) if rate else 0.0
        if video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        else:
            duration = 0.0
        # The container's length covers every stream: past the video's (an audio tail aside)
        # it is what the file claims, and a claim of ages is refused on it.
        overall = opened.duration / av.time_base if opened.duration is not None else 0.0
        if not duration or overall > duration + _AUDIO_TAIL_S:
            duration = overall
        frames = video.frames or (int(round(duration * fps)) if fps > 0 else 0)
        return ClipHeader(
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=fps,
            duration_s=duration,
            frames=frames,
            has_audio=bool(opened.streams.audio),
        )


def check_caps(header: ClipHeader, caps: Caps) -> None:
    """UploadError(422) naming the value and the cap when the header breaks one."""
    w, h = header.width, header.height
    if w <= 0 or h <= 0:
        raise UploadError(BREAKS_RULE, "the clip's video stream has no picture size")
    if not header.fps > 0:
        raise UploadError(BREAKS_RULE, "the clip has no usable frame rate")
    landscape = w <= caps.max_width and h <= caps.max_height
    portrait = w <= caps.max_height and h <= caps.max_width
    if not (landscape or portrait):
        raise UploadError(BREAKS_RULE, f"the clip is {w}x{h}; at most {caps.max_width}x{caps.max_height}")
    if header.fps > caps.max_fps + 0.01:  # 60000/1001 and rounding
        raise UploadError(BREAKS_RULE, f"the clip is {header.fps:.4g} fps; at most {caps.max_fps:g} fps")
    if header.fps < caps.min_fps:
        raise UploadError(BREAKS_RULE, f"the clip is {header.fps:.2g} fps; at least {caps.min_fps:g} fps")
    if header.duration_s > caps.max_duration_s + 0.5 / header.fps:  # half a frame, as adengine.media allows
        raise UploadError(BREAKS_RULE, f"the clip is {header.duration_s:.1f} s long; at most {caps.max_duration_s:g} s")
    if header.frames > caps.max_frames:
        raise UploadError(BREAKS_RULE, f"the clip has {header.frames} frames; at most {caps.max_frames}")


def check_header(path: Path, container: str, caps: Caps = DEFAULT_CAPS) -> ClipHeader:
    """Open `path` with demuxer `container` ('mp4' or 'matroska', from sniff_container), read its
    header and refuse it (UploadError 422) when it has no video or breaks a cap."""
    header = read_header(Path(path), container)
    check_caps(header, caps)
    return header
