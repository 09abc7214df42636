"""An ad break: the ad's frames and soundtrack played into a participant's programs.

Video frames are letterboxed to the receiving stream's size (changing size
mid-stream would make every encoder start over) and converted to YUV once, on a
worker thread, then handed to the program on the event loop at the ad's frame
rate (the template's, no faster than the live video it stands in for). The
soundtrack goes out as 20 ms, 48 kHz stereo frames in the live audio's place.

A personalised ad shows a participant's face only while they consent: `AdMedia.allowed`
is asked before the first frame is made, right before the ad goes on air, and before
every frame is converted and again as it is handed over. Once it says no, the break
stops at once (picture and sound) and the program goes back to live.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import av
import cv2
import numpy as np

from adengine import DisclosureLabel
from callbridge.media.clock import SYSTEM_CLOCK, AdClock
from callbridge.media.tracks import AUDIO_RATE, Program

log = logging.getLogger(__name__)
T = TypeVar("T")
MIN_AD_S = 1.5  # docs/interfaces.md: an ad stays on screen at least this long ...
MAX_AD_S = 20.0  # ... and at most this long
AUDIO_FRAME = AUDIO_RATE // 50  # 20 ms
MIN_AD_FPS = 10.0  # however slowly the sender's own video comes in, the ad is not a slide show


@dataclass
class AdMedia:
    """What one ad break plays. `frames` may still be rendering (a blocking iterator)."""

    template: str
    frames: Iterable[np.ndarray]  # RGB
    fps: float
    frame_count: int
    audio: np.ndarray | None  # float32 (channels, samples) as in adengine.media.Clip, or (samples,) for mono
    sample_rate: int | None
    personalised: bool
    title: str = ""
    tagline: str = ""
    # drawn again after letterboxing to another size, so the label is never scaled
    # below its minimum size (Chrome lowers its send resolution under load)
    label: DisclosureLabel | None = None
    # whether the frames may still air (consent not withdrawn since they were chosen); None: always
    allowed: Callable[[], bool] | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return min(MAX_AD_S, max(MIN_AD_S, self.frame_count / self.fps))


def letterbox(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Fit an RGB frame inside (width, height) with black bars, keeping its aspect."""
    width, height = size
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    scale = min(width / w, height / h)
    nw, nh = max(2, int(round(w * scale))), max(2, int(round(h * scale)))
    resized = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.zeros((height, width, 3), np.uint8)
    x, y = (width - nw) // 2, (height - nh) // 2
    out[y : y + nh, x : x + nw] = resized
    return out


def ad_rate(template_fps: float, live_fps: float | None) -> float:
    """The ad's frame rate: the template's, but no faster than the live video it stands in for.

    A faster ad gives every receiver's encoder and decoder more work for the
    ad's length, and on a busy relay frames are then dropped and pages freeze
    (docs/experiments.md, "Ad frame rate").
    """
    if not live_fps:
        return template_fps
    return min(template_fps, max(MIN_AD_FPS, live_fps))


def paced(frames: Iterator[T], source_fps: float, fps: float, count: int) -> Iterator[T]:
    """`count` frames at `fps` from frames at `source_fps`: each the source frame due at its time.

    Frames in between are skipped as they come, before anything converts them.
    """
    step = source_fps / fps
    source = enumerate(frames)
    for k in range(count):
        due = int(k * step + 1e-9)
        for i, frame in source:
            if i >= due:
                yield frame
                break
        else:
            return


def audio_frames(audio: np.ndarray | None, rate: int | None, duration_s: float) -> list[av.AudioFrame]:
    """The soundtrack as 20 ms 48 kHz stereo s16 frames, silence-padded to `duration_s`."""
    total = int(round(duration_s * AUDIO_RATE))
    pcm = np.zeros((total, 2), np.int16)
    if audio is not None and rate:
        resampled = _resample(audio, rate)[:total]
        pcm[: len(resampled)] = resampled
    frames = []
    for start in range(0, total - AUDIO_FRAME + 1, AUDIO_FRAME):
        frame = av.AudioFrame.from_ndarray(
            pcm[start : start + AUDIO_FRAME].reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = AUDIO_RATE
        frames.append(frame)
    return frames


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    planar = audio.reshape(1, -1) if audio.ndim == 1 else audio
    layout = "mono" if planar.shape[0] == 1 else "stereo"
    src = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:2], np.float32), format="fltp", layout=layout)
    src.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
    chunks = [f.to_ndarray().reshape(-1, 2) for f in [*resampler.resample(src), *resampler.resample(None)]]
    return np.concatenate(chunks) if chunks else np.zeros((0, 2), np.int16)


class AdBreak:
    """Plays one AdMedia into a participant's video and audio programs, once."""

    def __init__(self, media: AdMedia, video: Program, audio: Program, clock: AdClock = SYSTEM_CLOCK) -> None:
        self.media = media
        self.video = video
        self.audio = audio
        self.clock = clock
        self._size = video.size or (640, 480)  # the receivers' stream size, fixed for the break
        self.fps = ad_rate(media.fps, video.live_fps)
        self._frames = paced(iter(media.frames), media.fps, self.fps, int(round(media.duration_s * self.fps)))
        self._first: av.VideoFrame | None = None
        self._cancelled = threading.Event()
        self.first_frame_t: float | None = None
        self._first_frame_mono = 0.0
        self.last_frame_t: float | None = None
        self.frames_sent = 0

    def cancel(self) -> None:
        self._cancelled.set()

    def permitted(self) -> bool:
        """True while the ad may air; once its media is no longer allowed, the break is cancelled."""
        if self._cancelled.is_set():
            return False
        allowed = self.media.allowed
        if allowed is not None and not allowed():
            self._cancelled.set()
            log.info("an ad of %r stops: its face is no longer allowed on air", self.media.template)
            return False
        return True

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def prepare(self) -> bool:
        """Blocking: fit and convert the first frame ahead of `play`, which then goes on air at once.

        Done after the trigger, on a busy media thread, this work lengthened the
        trigger-to-ad path (docs/experiments.md, "Ad start"). False if the ad has no frames.
        """
        if self._first is None and self.permitted():
            rgb = next(self._frames, None)
            self._first = None if rgb is None or not self.permitted() else self._fit(rgb)
        return self._first is not None

    async def play(self, on_start: Callable[[float], None]) -> None:
        """Go on air, play, come back to live. `on_start(t)` runs when the first frame is handed over."""
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def hand_over(frame: av.VideoFrame) -> None:
            if not self.permitted():  # withdrawn while this frame was on its way to the event loop
                return
            first = self.first_frame_t is None
            # No keyframe at the cut to the ad: a keyframe arrives later, and the
            # label is readable from the first inter frame (docs/experiments.md, "Ad start").
            self.video.inject(frame)
            self.frames_sent += 1
            self.last_frame_t = self.clock.now()
            if first:
                self.first_frame_t = self.last_frame_t
                self._first_frame_mono = self.clock.monotonic()
                on_start(self.first_frame_t)
                started.set()

        if self._first is None and not await asyncio.to_thread(self.prepare):
            return
        if not self.permitted():  # withdrawn between the trigger and now: this break never airs
            self._first = None
            return
        self.video.on_air = self.audio.on_air = True
        try:
            assert self._first is not None
            hand_over(self._first)
            if not started.is_set():  # refused at the very first frame: nothing aired
                return
            # The soundtrack is converted while the first picture goes out, not before it; it catches up.
            video = asyncio.to_thread(self._video_thread, loop, hand_over)
            await asyncio.gather(video, self._play_audio(started))
        finally:
            self.video.on_air = self.audio.on_air = False
            self.video.cut()  # back to live: the next live frame is a keyframe

    def _fit(self, rgb: np.ndarray) -> av.VideoFrame:
        """One ad frame at the stream's size, labelled at that size, in the encoders' format."""
        fitted = letterbox(rgb, self._size)
        if fitted is not rgb and self.media.label is not None:
            fitted = self.media.label.apply(fitted, copy=False)
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(fitted), format="rgb24").reformat(format="yuv420p")

    def _video_thread(self, loop: asyncio.AbstractEventLoop, hand_over: Callable) -> None:
        """Frames after the first, each at its time from the first frame's."""
        start, last = self._first_frame_mono, 0
        for i, rgb in enumerate(self._frames, start=1):
            if not self.permitted():
                return
            frame = self._fit(rgb)
            if self.clock.wait_until(self._cancelled, start + i / self.fps):
                return
            loop.call_soon_threadsafe(hand_over, frame)
            last = i
        # hold the last frame for its own duration before going back to live
        self.clock.wait_until(self._cancelled, start + (last + 1) / self.fps)

    async def _play_audio(self, started: asyncio.Event) -> None:
        sound = await asyncio.to_thread(audio_frames, self.media.audio, self.media.sample_rate, self.media.duration_s)
        try:
            await asyncio.wait_for(started.wait(), timeout=5.0)
        except TimeoutError:
            return
        start = self._first_frame_mono  # in step with the picture: frames already due go at once
        for k, frame in enumerate(sound):
            if self._cancelled.is_set():
                return
            # frames already due go at once, each after a yield so the receivers' tracks drain
            await self.clock.sleep_until(start + k * AUDIO_FRAME / AUDIO_RATE)
            self.audio.inject(frame)
