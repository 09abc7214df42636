"""One participant's received audio and video into a Matroska file, written on a thread of its own.

Frames are timed by when the relay received them, from the recording's start, so
every participant's file shares one clock. The event loop only queues frames; a
write error stops the writer and is reported once through `on_error`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av

log = logging.getLogger(__name__)
VIDEO_RATE = 90_000  # timestamps in 1/90000 s, as RTP video has them
AUDIO_RATE = 48_000
QUEUE_FRAMES = 600  # about 10 s of audio and video; more means the disk cannot keep up
EARLY_FRAMES = 250  # frames held while waiting for the first video frame (5 s of audio)
ErrorSink = Callable[[str], None]
Item = tuple[av.AudioFrame | av.VideoFrame, float]  # a frame and when the relay received it


class MediaWriter:
    """Writes one participant's frames; `push` from the event loop, `close` when they leave."""

    def __init__(self, path: Path, started_t: float, on_error: ErrorSink) -> None:
        self.path = path
        self._started = started_t
        self._on_error = on_error
        self._queue: queue.Queue[Item | None] = queue.Queue(QUEUE_FRAMES)
        self._failed = False
        self._thread = threading.Thread(target=self._run, name=f"record-{path.stem}", daemon=True)
        self._thread.start()

    def push(self, frame: av.AudioFrame | av.VideoFrame, received_t: float) -> None:
        if self._failed:
            return
        try:
            self._queue.put_nowait((frame, received_t))
        except queue.Full:
            self._fail("the disk is not keeping up with the recording")

    @property
    def backlog(self) -> int:
        """Frames waiting to be written."""
        return self._queue.qsize()

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)

    def _fail(self, message: str) -> None:
        if not self._failed:
            self._failed = True
            self._on_error(message)

    def _run(self) -> None:
        first = self._queue.get()
        if first is None:
            return  # nothing ever arrived (media that never connected): no file at all
        try:
            with av.open(str(self.path), "w", format="matroska") as container:
                self._write_all(container, first)
        except (OSError, ValueError, av.FFmpegError) as exc:  # PyAV raises ValueError for some muxing faults
            log.warning("recording %s stopped: %s", self.path.name, exc)
            self._fail(f"writing {self.path.name} failed: {getattr(exc, 'strerror', None) or exc}")
            self._drain()

    def _write_all(self, container: av.container.OutputContainer, first: Item) -> None:
        # Matroska wants every stream before the first packet, and the video's size comes
        # with its first frame: what arrives before that waits (audio usually comes first).
        early: list[Item] = [first]
        item: Item | None = first
        while item is not None and not isinstance(item[0], av.VideoFrame) and len(early) < EARLY_FRAMES:
            item = self._queue.get()
            if item is not None:
                early.append(item)
        first_video = next((f for f, _ in early if isinstance(f, av.VideoFrame)), None)
        streams = _Streams(container, first_video, self._started)
        for frame, received_t in early:
            streams.write(frame, received_t)
        while item is not None and (item := self._queue.get()) is not None:
            streams.write(*item)
        streams.flush()

    def _drain(self) -> None:
        while self._queue.get() is not None:
            pass


class _Streams:
    """The file's video (if any) and audio streams, and each frame's timestamp on the recording's clock."""

    def __init__(self, container: av.container.OutputContainer, first: av.VideoFrame | None, started: float) -> None:
        self._container, self._started = container, started
        self._video = None if first is None else _video_stream(container, first)
        self._audio = container.add_stream("libopus", rate=AUDIO_RATE, layout="stereo")
        self._resampler = av.AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
        self._last_pts = -1
        self._next_sample: int | None = None

    def write(self, frame: av.AudioFrame | av.VideoFrame, received_t: float) -> None:
        offset = max(0.0, received_t - self._started)
        if isinstance(frame, av.VideoFrame):
            if self._video is None:
                return  # an audio-only file: its video came too late
            out = frame.reformat(width=self._video.width, height=self._video.height, format="yuv420p")
            if out is frame:  # PyAV hands back the same frame when nothing changes: it is shared with the call
                out = av.VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")
            self._last_pts = max(int(offset * VIDEO_RATE), self._last_pts + 1)  # strictly rising, as muxers need
            out.pts, out.time_base = self._last_pts, Fraction(1, VIDEO_RATE)
            self._container.mux(self._video.encode(out))
            return
        if self._next_sample is None:
            self._next_sample = int(offset * AUDIO_RATE)  # the first sound starts where it came in
        for piece in self._resampler.resample(frame):
            if piece is frame:  # a passthrough resampler: the frame is shared with the call, so copy it
                piece = _copy_audio(frame)
            piece.pts, piece.time_base = self._next_sample, Fraction(1, AUDIO_RATE)
            self._next_sample += piece.samples
            self._container.mux(self._audio.encode(piece))

    def flush(self) -> None:
        for stream in (self._video, self._audio):
            if stream is not None:
                self._container.mux(stream.encode(None))


def _copy_audio(frame: av.AudioFrame) -> av.AudioFrame:
    copy = av.AudioFrame.from_ndarray(frame.to_ndarray(), format=frame.format.name, layout=frame.layout.name)
    copy.sample_rate = frame.sample_rate
    return copy


def _video_stream(container: av.container.OutputContainer, first: av.VideoFrame) -> av.VideoStream:
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height = first.width // 2 * 2, first.height // 2 * 2
    stream.pix_fmt = "yuv420p"
    stream.codec_context.time_base = Fraction(1, VIDEO_RATE)
    stream.options = {"preset": "ultrafast", "crf": "23", "tune": "zerolatency"}
    stream.codec_context.thread_count = 1
    return stream
