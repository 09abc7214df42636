"""Plays one media file in real time: decoded on a thread, each frame handed over at its time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import av

log = logging.getLogger(__name__)
AUDIO_RATE = 48000
AUDIO_FRAME = 960  # 20 ms, as a browser sends it
Deliver = Callable[[av.AudioFrame | av.VideoFrame], None]


class FilePlayer:
    """Decodes `path` and calls `deliver` with each frame at `start_t + its time` (time.monotonic clock).

    Audio comes out as a call's does (s16 stereo 48 kHz, 20 ms frames), so the speech
    worker and the outgoing tracks take it as they take a browser's.
    """

    def __init__(self, path: str, start_t: float, deliver: Deliver, name: str = "player") -> None:
        self.path, self.start_t, self._deliver = path, start_t, deliver
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> FilePlayer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)

    def _run(self) -> None:
        try:
            self._play()
        except (av.FFmpegError, OSError) as exc:  # a file that breaks off: the act goes on without the rest
            log.warning("exhibition: %s stopped playing: %s", self.path, exc)

    def _play(self) -> None:
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE, frame_size=AUDIO_FRAME)
        audio_start: float | None = None
        audio_out = 0  # samples handed over: audio frames are timed by count, as a resampler's output has no gaps
        with av.open(self.path, options={"protocol_whitelist": "file"}) as container:
            streams = [s for s in (*container.streams.video[:1], *container.streams.audio[:1])]
            for frame in container.decode(*streams):
                if isinstance(frame, av.VideoFrame):
                    if not self._wait_until(float(frame.time or 0.0)):
                        return
                    self._deliver(frame)
                elif isinstance(frame, av.AudioFrame):
                    audio_start = float(frame.time or 0.0) if audio_start is None else audio_start
                    for out in resampler.resample(frame):
                        if not self._wait_until(audio_start + audio_out / AUDIO_RATE):
                            return
                        audio_out += out.samples
                        self._deliver(out)

    def _wait_until(self, t: float) -> bool:
        """Sleep until `t` into the file; False if stopped meanwhile."""
        delay = self.start_t + t - time.monotonic()
        return not self._stop.wait(delay) if delay > 0 else not self._stop.is_set()
