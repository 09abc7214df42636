"""What a participant sends to the others: live media, or an ad in its place.

Each participant S has one `Program` per kind. Everything S's browser sends
goes through `Program.live`; an ad break goes through `Program.inject` while
`on_air` holds the live media back. Every frame is stamped once, from the
program's own clock, and handed to one `RelayTrack` per receiver. Every
receiver therefore sees the same frames with the same clean, increasing
timestamps across the switch to the ad and back, and no renegotiation happens.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000
VIDEO_QUEUE = 2  # frames; a slow encoder gets the newest frame, never a backlog
AUDIO_QUEUE = 10  # 20 ms frames = 200 ms; older audio is dropped rather than delayed
RATE_WINDOW = 16  # live video frames over which the sender's frame rate is measured


class RelayTrack(MediaStreamTrack):
    """One receiver's copy of one participant's program: a small queue that drops the oldest."""

    def __init__(self, kind: str, capacity: int) -> None:
        super().__init__()
        self.kind = kind
        self._queue: deque[av.VideoFrame | av.AudioFrame] = deque(maxlen=capacity)
        self._ready = asyncio.Event()
        self.dropped = 0
        self.sender: Any = None  # the RTCRtpSender that sends this track, once there is one

    def request_keyframe(self) -> None:
        """Make the next frame this receiver gets a keyframe (a clean picture at a cut)."""
        if self.sender is not None:
            self.sender._send_keyframe()  # aiortc's own hook, as used when a receiver sends PLI

    def put(self, frame: av.VideoFrame | av.AudioFrame) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(frame)
        self._ready.set()

    async def recv(self) -> av.VideoFrame | av.AudioFrame:
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._ready.set()  # wake a waiting recv so that it raises


class Program:
    """One participant's outgoing stream of one kind, fanned out to every receiver."""

    def __init__(self, kind: str, clock: Callable[[], float] = time.monotonic) -> None:
        if kind not in ("audio", "video"):
            raise ValueError(f"unknown kind {kind!r}")
        self.kind = kind
        self._clock = clock
        self._t0: float | None = None
        self._next_pts = 0
        self._outputs: list[RelayTrack] = []
        self.on_air = False  # an ad is playing: live media is held back
        self.size: tuple[int, int] | None = None  # width, height of the live video
        self._arrivals: deque[float] = deque(maxlen=RATE_WINDOW)  # when the last live video frames came in

    def subscribe(self) -> RelayTrack:
        track = RelayTrack(self.kind, VIDEO_QUEUE if self.kind == "video" else AUDIO_QUEUE)
        self._outputs.append(track)
        return track

    def unsubscribe(self, track: RelayTrack) -> None:
        if track in self._outputs:
            self._outputs.remove(track)
        track.stop()

    @property
    def receivers(self) -> int:
        return len(self._outputs)

    def live(self, frame: av.VideoFrame | av.AudioFrame) -> bool:
        """Pass a live frame on unless an ad is on air. True if it was sent."""
        if isinstance(frame, av.VideoFrame):
            self.size = (frame.width, frame.height)
            self._arrivals.append(self._clock())
        if self.on_air:
            return False
        self._publish(frame)
        return True

    @property
    def live_fps(self) -> float | None:
        """The rate the sender's video comes in at, over its last frames (held-back ones too); None until known."""
        if len(self._arrivals) < RATE_WINDOW // 2:
            return None
        span = self._arrivals[-1] - self._arrivals[0]
        return (len(self._arrivals) - 1) / span if span > 0 else None

    def inject(self, frame: av.VideoFrame | av.AudioFrame) -> None:
        """Send an ad frame (only while on air)."""
        if self.on_air:
            self._publish(frame)

    def cut(self) -> None:
        """The picture changes completely: start each receiver on a keyframe.

        Used when the ad hands back to live, so that the live picture comes back
        clean instead of being built up from differences to the ad's last frame.
        """
        for track in self._outputs:
            track.request_keyframe()

    def close(self) -> None:
        for track in self._outputs:
            track.stop()
        self._outputs.clear()

    def _publish(self, frame: av.VideoFrame | av.AudioFrame) -> None:
        self._stamp(frame)
        for track in self._outputs:
            track.put(frame)

    def _stamp(self, frame: av.VideoFrame | av.AudioFrame) -> None:
        # Stamped here, once, before any receiver sees the frame: the encoders
        # read pts on their own threads, so it must never change afterwards.
        if isinstance(frame, av.AudioFrame):
            frame.pts = self._next_pts
            frame.time_base = fractions.Fraction(1, frame.sample_rate)
            self._next_pts += frame.samples
            return
        now = self._clock()
        if self._t0 is None:
            self._t0 = now
        pts = max(self._next_pts, int(round((now - self._t0) * VIDEO_CLOCK)))
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self._next_pts = pts + 1
