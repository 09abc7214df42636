"""AdRenderer: turns (a participant's best face, a template) into labelled ad frames.

It renders in a background thread as soon as it is given a usable face, and
again when a clearly better face arrives, so that the ad is ready before the
trigger phrase is finished. Frames can be streamed while rendering once the
render is far enough ahead of playback. Every frame carries the disclosure label.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from adengine.label import DisclosureLabel
from adengine.swapper import Swapper, WarpSwapper
from adengine.template import AdTemplate

if TYPE_CHECKING:
    from adengine.facebank import FaceCrop

BETTER_BY = 0.1  # a new face must beat the rendered one's quality score by this much
_SAFETY = 1.25  # rendering speed may dip this much while streaming


@dataclass
class RenderedAd:
    """A finished (or still growing) render. Frames are RGB, labelled."""

    frames: list[np.ndarray]
    fps: float
    audio: np.ndarray | None
    sample_rate: int | None
    face_quality: float
    render_ms: float


class _Job:
    def __init__(self, face: FaceCrop, total: int) -> None:
        self.face = face
        self.frames: list[np.ndarray] = []
        self.total = total
        self.cancelled = False
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.started = time.perf_counter()
        self.render_ms = 0.0
        self.grew = threading.Condition()


class AdRenderer:
    """Background renderer of one template for one participant."""

    def __init__(
        self, template: AdTemplate, swapper: Swapper | None = None, label: DisclosureLabel | None = None
    ) -> None:
        self.template = template
        self.swapper = swapper or WarpSwapper()
        self.label = label or DisclosureLabel()
        self._job: _Job | None = None
        self._lock = threading.Lock()

    def offer(self, face: FaceCrop) -> bool:
        """Start a render with `face` if there is none yet or it is clearly better. True if started."""
        with self._lock:
            current = self._job
            if current is not None and face.quality.score < current.face.quality.score + BETTER_BY:
                return False
            if current is not None:
                current.cancelled = True
            job = self._job = _Job(face, len(self.template.frames))
        threading.Thread(target=self._run, args=(job,), name="ad-render", daemon=True).start()
        return True

    def upgrade(self, swapper: Swapper) -> bool:
        """Render the current face again with a better backend (a trained swap); True if started."""
        with self._lock:
            current = self._job
            if current is None:
                return False
            self.swapper = swapper
            current.cancelled = True
            job = self._job = _Job(current.face, len(self.template.frames))
        threading.Thread(target=self._run, args=(job,), name="ad-render", daemon=True).start()
        return True

    def render(self, face: FaceCrop) -> RenderedAd:
        """Render `face` now, in the calling thread (the CLI's path)."""
        job = _Job(face, len(self.template.frames))
        self._run(job)
        return self._result(job)

    @property
    def ready(self) -> bool:
        job = self._job
        return job is not None and job.done.is_set() and job.error is None

    def wait(self, timeout: float | None = None) -> RenderedAd | None:
        """The current render once finished (None without a face, or on timeout)."""
        job = self._job
        if job is None or not job.done.wait(timeout):
            return None
        return self._result(job)

    def can_stream(self) -> bool:
        """True when playing from now on will not catch up with the render."""
        job = self._job
        if job is None or job.error is not None:
            return False
        if job.done.is_set():
            return True
        n = len(job.frames)
        if n == 0:
            return False
        render_fps = n / max(1e-3, time.perf_counter() - job.started)
        # frame k plays k/fps from now and is rendered (k-n)/render_fps from now;
        # the last frame is the tightest when rendering is slower than playback
        finish_s = (job.total - n) / render_fps * _SAFETY
        return finish_s <= (job.total - 1) / self.template.fps

    def stream(self) -> Iterator[np.ndarray]:
        """The current render's frames in order, waiting for each one if it is not ready yet."""
        job = self._job
        if job is None:
            return
        for i in range(job.total):
            with job.grew:
                # the predicate is used within this iteration only, so binding `i` late is right
                job.grew.wait_for(lambda: len(job.frames) > i or job.done.is_set())  # noqa: B023
            if i >= len(job.frames):
                return
            yield job.frames[i]

    def clear(self) -> None:
        """Drop the render (it shows a participant's face): on leave or withdrawn consent."""
        with self._lock:
            job, self._job = self._job, None
        if job is not None:
            job.cancelled = True
            for frame in job.frames:
                frame.fill(0)
            job.frames.clear()

    def _run(self, job: _Job) -> None:
        try:
            swap = self.swapper.bind(job.face, self.template.track)
            start = time.perf_counter()
            for i, frame in enumerate(self.template.frames):
                if job.cancelled:
                    return
                out = self.label.apply(swap(i, frame))
                with job.grew:
                    job.frames.append(out)
                    job.grew.notify_all()
            job.render_ms = (time.perf_counter() - start) * 1000.0
        except BaseException as exc:  # reported through wait()/ready, never lost
            job.error = exc
        finally:
            job.done.set()
            with job.grew:
                job.grew.notify_all()

    def _result(self, job: _Job) -> RenderedAd:
        if job.error is not None:
            raise job.error
        clip = self.template.clip
        return RenderedAd(job.frames, clip.fps, clip.audio, clip.sample_rate, job.face.quality.score, job.render_ms)
