"""AdRenderer: turns (a participant's best face, a template) into labelled ad frames.

It renders in a background thread as soon as it is given a usable face, and
again when a clearly better face arrives, so that the ad is ready before the
trigger phrase is finished. Frames can be streamed while rendering once the
render is far enough ahead of playback. Every frame carries the disclosure label.

A render that fails is restarted once at once, with the `fallback` swap when one is
given (the relay falls back from a trained swap to warp), and any later offer restarts a
failed render whatever the face's quality.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)
BETTER_BY = 0.1  # a new face must beat the rendered one's quality score by this much
_SAFETY = 1.25  # rendering speed may dip this much while streaming
MAX_RESTARTS = 1  # a failed render is tried again this many times at once


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
    def __init__(self, face: FaceCrop, total: int, attempt: int = 0) -> None:
        self.face = face
        self.attempt = attempt
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
        self,
        template: AdTemplate,
        swapper: Swapper | None = None,
        label: DisclosureLabel | None = None,
        fallback: Swapper | None = None,
    ) -> None:
        self.template = template
        self.swapper = swapper or WarpSwapper()
        self.label = label or DisclosureLabel()
        self.fallback = fallback  # the swap a failed render restarts with (None: the same one)
        self.restarts = 0
        self._job: _Job | None = None
        self._lock = threading.Lock()

    def offer(self, face: FaceCrop) -> bool:
        """Start a render with `face` if there is none yet or it is clearly better. True if started."""
        with self._lock:
            current = self._job
            failed = current is not None and current.error is not None
            if current is not None and not failed and face.quality.score < current.face.quality.score + BETTER_BY:
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
        self._attempt(job)
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
            with job.grew:  # a frame being made now is zeroed by the render thread itself
                job.cancelled = True
                for frame in job.frames:
                    frame.fill(0)
                job.frames.clear()
                job.grew.notify_all()

    def _run(self, job: _Job | None) -> None:
        while job is not None:
            job = self._attempt(job)

    def _attempt(self, job: _Job) -> _Job | None:
        """Render `job`; the job that restarts it when it failed and may be tried again."""
        try:
            swap = self.swapper.bind(job.face, self.template.track)
            start = time.perf_counter()
            for i, frame in enumerate(self.template.frames):
                if job.cancelled:
                    return None
                out = self.label.apply(swap(i, frame))
                with job.grew:
                    if job.cancelled:  # cleared while this frame was made
                        out.fill(0)
                        return None
                    job.frames.append(out)
                    job.grew.notify_all()
            job.render_ms = (time.perf_counter() - start) * 1000.0
            return None
        except Exception as exc:  # reported through wait()/ready, never lost
            job.error = exc
            return self._restart(job, exc)
        except BaseException as exc:
            job.error = exc
            return None
        finally:
            job.done.set()
            with job.grew:
                job.grew.notify_all()

    def _restart(self, failed: _Job, exc: Exception) -> _Job | None:
        with self._lock:
            if self._job is not failed or failed.cancelled or failed.attempt >= MAX_RESTARTS:
                return None
            fallback = self.fallback is not None and self.swapper is not self.fallback
            if fallback and self.fallback is not None:
                self.swapper = self.fallback
            job = self._job = _Job(failed.face, failed.total, failed.attempt + 1)
            self.restarts += 1
        with failed.grew:
            for frame in failed.frames:
                frame.fill(0)
            failed.frames.clear()
        log.warning(
            "a render of template %r failed (%s: %.200s); restarting it%s",
            self.template.meta.name,
            type(exc).__name__,
            exc,
            f" with {self.swapper.name}" if fallback else "",
        )
        return job

    def _result(self, job: _Job) -> RenderedAd:
        if job.error is not None:
            raise job.error
        clip = self.template.clip
        return RenderedAd(job.frames, clip.fps, clip.audio, clip.sample_rate, job.face.quality.score, job.render_ms)
