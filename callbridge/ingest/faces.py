"""Is the actor's face there? A quick look at a few frames (probe), and the tally of a full track (ingest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from adengine.face import Face, FaceTracker
from adengine.track import MIN_FACE_PX
from callbridge.ingest.errors import BREAKS_RULE, UploadError
from callbridge.ingest.header import ClipHeader, open_clip, video_stream

SAMPLES = 6
MIN_FOUND = 2 / 3  # share of the sampled frames the face must be found in


def sample_frames(
    path: Path, container: str, header: ClipHeader, count: int = SAMPLES
) -> list[tuple[float, np.ndarray]]:
    """About `count` RGB frames spread evenly over the clip, with their times in seconds.

    Frames are decoded in order but only the chosen ones are converted to pictures;
    decoding stops after the last one (and never runs past the header's length).
    """
    span = header.duration_s if header.duration_s > 0 else count * 0.5  # unknown length: every half second
    targets = [(k + 0.5) * span / count for k in range(count)]
    limit = max(header.frames, int(span * header.fps)) + int(header.fps) + 1  # a little past the declared length
    picked: list[tuple[float, np.ndarray]] = []
    with open_clip(path, container) as opened:
        stream = video_stream(opened)
        stream.thread_type = "AUTO"
        try:
            start: float | None = None
            for n, frame in enumerate(opened.decode(stream)):
                at = float(frame.time) if frame.time is not None else n / header.fps
                start = at if start is None else start
                t = at - start  # some files start their clock late
                if t >= targets[len(picked)]:
                    picked.append((t, _upright(frame)))
                    if len(picked) == len(targets):
                        break
                if n >= limit:
                    break
        except av.FFmpegError:
            pass  # a damaged stretch: judge on what was read; a full ingest refuses damage with details
    if not picked:
        raise UploadError(BREAKS_RULE, "no frame of the clip could be decoded")
    return picked


def _upright(frame: av.VideoFrame) -> np.ndarray:
    image = frame.to_ndarray(format="rgb24")
    turns = int(round((getattr(frame, "rotation", 0) or 0) / 90)) % 4  # phone videos: sideways plus a tag
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def face_width(face: Face | None) -> float:
    """Width of the face's landmarks in pixels (0 for none)."""
    return 0.0 if face is None else float(np.ptp(face.landmarks[:, 0]))


def look_for_face(samples: list[tuple[float, np.ndarray]], tracker: FaceTracker) -> str:
    """A verdict when the face is found (big enough) in most samples, else UploadError(422) saying where not."""
    widths: list[float] = []
    misses: dict[str, list[str]] = {}
    for t, frame in samples:
        width = face_width(tracker.track(frame))
        if width >= MIN_FACE_PX:
            widths.append(width)
        else:
            reason = "no face" if width == 0 else f"face too small (under {MIN_FACE_PX:.0f} px wide)"
            misses.setdefault(reason, []).append(f"{t:.1f} s")
    n = len(samples)
    if not widths:
        if set(misses) == {"no face"}:
            raise UploadError(BREAKS_RULE, f"no face found in the clip (looked at {n} frames spread over it)")
        raise UploadError(BREAKS_RULE, f"no usable face in the clip: {_where(misses)}")
    if len(widths) < MIN_FOUND * n:
        raise UploadError(
            BREAKS_RULE, f"the actor's face was found in only {len(widths)} of {n} frames looked at: {_where(misses)}"
        )
    return f"face found in {len(widths)} of {n} frames looked at, about {np.median(widths):.0f} px wide"


def _where(misses: dict[str, list[str]]) -> str:
    return "; ".join(f"{reason} at {', '.join(times)}" for reason, times in misses.items())


class CountingTracker:
    """A FaceTracker that counts the frames in which it found a face big enough to track."""

    def __init__(self, inner: FaceTracker) -> None:
        self.inner = inner
        self.seen = 0
        self.tracked = 0

    def track(self, frame: np.ndarray, timestamp_s: float | None = None) -> Face | None:
        face = self.inner.track(frame, timestamp_s)
        self.seen += 1
        self.tracked += face_width(face) >= MIN_FACE_PX
        return face

    def reset(self) -> None:
        self.inner.reset()
        self.seen = self.tracked = 0

    def close(self) -> None:
        self.inner.close()


def counting(factory: Callable[[], FaceTracker]) -> tuple[Callable[[], FaceTracker], list[CountingTracker]]:
    """A tracker factory whose trackers count, and the list they are kept in."""
    made: list[CountingTracker] = []

    def make() -> FaceTracker:
        made.append(CountingTracker(factory()))
        return made[-1]

    return make, made


def track_verdict(landmarks: np.ndarray, counted: list[CountingTracker]) -> str:
    """'actor tracked in N of M frames, face W px wide' from an ingest's track."""
    n = len(landmarks)
    width = float(np.median(np.ptp(landmarks[:, :, 0], axis=1))) if n else 0.0
    if not counted or counted[-1].seen == 0:
        return f"actor track reused from an earlier ingest of this clip: {n} frames, face {width:.0f} px wide"
    return f"actor tracked in {counted[-1].tracked} of {counted[-1].seen} frames, face {width:.0f} px wide"
