"""The actor's face track through a template clip, and everything derived from it.

Computed once per clip at ingest and cached on disk keyed by the clip's hash:
per-frame landmarks, one triangulation, per-frame barycentric maps, blend masks
and the colour statistics the source face is matched to. Rendering then only
gathers and blends.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adengine.colour import LabStats, lab_stats
from adengine.face import FaceTracker
from adengine.mask import face_alpha
from adengine.warp import FrameMap, build_frame_map, triangulate

MIN_TRACKED = 0.9  # fraction of frames the actor's face must be found in
MIN_FACE_PX = 60.0
_STATS_WINDOW = 9  # frames over which the actor's colour statistics are averaged
_CACHE_VERSION = 1

Progress = Callable[[int, int], None]


class TrackError(ValueError):
    """The actor's face cannot be followed through the clip; the message says where and why."""


@dataclass
class ActorTrack:
    landmarks: np.ndarray  # (n, 478, 2) float32
    triangles: np.ndarray  # (t, 3) int32
    maps: list[FrameMap]
    alphas: list[np.ndarray]  # per frame, float32 over the map's box
    colours: list[LabStats]  # per frame, smoothed over time

    def __len__(self) -> int:
        return len(self.maps)


def track_actor(
    frames: Sequence[np.ndarray], tracker: FaceTracker, fps: float, progress: Progress | None = None
) -> ActorTrack:
    """Follow the actor's face through `frames`; TrackError when it is lost too often."""
    tracker.reset()
    points: list[np.ndarray | None] = []
    failures: list[tuple[int, str]] = []
    for i, frame in enumerate(frames):
        face = tracker.track(frame, i / fps)
        width = 0.0 if face is None else float(np.ptp(face.landmarks[:, 0]))
        if face is None or width < MIN_FACE_PX:
            failures.append((i, "no face found" if face is None else f"face too small ({width:.0f} px wide)"))
            points.append(None)
        else:
            points.append(face.landmarks.astype(np.float32))
        if progress:
            progress(i + 1, len(frames))
    if len(frames) - len(failures) < MIN_TRACKED * len(frames):
        raise TrackError(_describe_failures(failures, len(frames)))
    return derive(frames, _fill_gaps(points))


def derive(frames: Sequence[np.ndarray], landmarks: np.ndarray) -> ActorTrack:
    """Triangulation, maps, masks and colour statistics for tracked landmarks."""
    triangles = triangulate(landmarks.mean(axis=0))
    height, width = frames[0].shape[:2]
    maps = [build_frame_map(p, triangles, (height, width)) for p in landmarks]
    alphas = [face_alpha(m, p) for m, p in zip(maps, landmarks)]
    stats = [lab_stats(_box(f, m), a > 0.5) for f, m, a in zip(frames, maps, alphas)]
    return ActorTrack(landmarks, triangles, maps, alphas, _smooth_stats(stats))


def _box(frame: np.ndarray, m: FrameMap) -> np.ndarray:
    h, w = m.shape
    return frame[m.y0 : m.y0 + h, m.x0 : m.x0 + w]


def _fill_gaps(points: list[np.ndarray | None]) -> np.ndarray:
    """Landmarks for untracked frames, interpolated between the tracked ones."""
    known = [i for i, p in enumerate(points) if p is not None]
    stacked = np.stack([p for p in points if p is not None])
    flat = stacked.reshape(len(known), -1)
    idx = np.arange(len(points))
    filled = np.stack([np.interp(idx, known, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return filled.reshape(len(points), *stacked.shape[1:]).astype(np.float32)


def _smooth_stats(stats: list[LabStats]) -> list[LabStats]:
    means = np.stack([s.mean for s in stats])
    stds = np.stack([s.std for s in stats])
    kernel = np.ones(_STATS_WINDOW) / _STATS_WINDOW

    def smooth(x: np.ndarray) -> np.ndarray:
        padded = np.pad(x, ((_STATS_WINDOW // 2, _STATS_WINDOW // 2), (0, 0)), mode="edge")
        return np.stack([np.convolve(padded[:, c], kernel, mode="valid") for c in range(x.shape[1])], axis=1)

    return [LabStats(m.astype(np.float32), s.astype(np.float32)) for m, s in zip(smooth(means), smooth(stds))]


def _describe_failures(failures: list[tuple[int, str]], total: int) -> str:
    by_reason: dict[str, list[int]] = {}
    for i, reason in failures:
        by_reason.setdefault(reason.split(" (")[0], []).append(i)
    parts = [f"{reason} in frames {_ranges(ix)}" for reason, ix in by_reason.items()]
    return (
        f"the actor's face could be tracked in only {total - len(failures)} of {total} frames "
        f"(needs {MIN_TRACKED:.0%}): " + "; ".join(parts)
    )


def _ranges(ix: list[int]) -> str:
    spans: list[str] = []
    start: int | None = ix[0]
    for a, b in zip(ix, ix[1:] + [None]):
        if b != a + 1:
            spans.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ", ".join(spans[:8]) + (", ..." if len(spans) > 8 else "")


def save(track: ActorTrack, path: Path) -> None:
    """Write the track as one compressed npz (atomically: a temp file, then a rename)."""
    boxes = np.array([(m.x0, m.y0, *m.shape) for m in track.maps], np.int32)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp.npz")  # writers never collide
    try:
        np.savez_compressed(
            tmp,
            version=np.int32(_CACHE_VERSION),
            landmarks=track.landmarks,
            triangles=track.triangles,
            boxes=boxes,
            tri=np.concatenate([m.tri.ravel() for m in track.maps]),
            bary=np.concatenate([m.bary.reshape(-1, 2) for m in track.maps]),
            alpha=np.concatenate([(a * 255).round().astype(np.uint8).ravel() for a in track.alphas]),
            means=np.stack([c.mean for c in track.colours]),
            stds=np.stack([c.std for c in track.colours]),
        )
        tmp.replace(path)
    except BaseException:  # a killed ingest leaves no half-written cache behind
        tmp.unlink(missing_ok=True)
        raise


def load(path: Path) -> ActorTrack | None:
    """The cached track, or None when there is none (or it is from another version)."""
    if not path.exists():
        return None
    with np.load(path) as z:
        if int(z["version"]) != _CACHE_VERSION:
            return None
        tri, bary, alpha = z["tri"], z["bary"], z["alpha"]  # each read from the archive once
        maps, alphas, at = [], [], 0
        for x0, y0, h, w in z["boxes"]:
            n = int(h * w)
            maps.append(FrameMap(int(x0), int(y0), tri[at : at + n].reshape(h, w), bary[at : at + n].reshape(h, w, 2)))
            alphas.append(alpha[at : at + n].reshape(h, w).astype(np.float32) / 255.0)
            at += n
        colours = [LabStats(m, s) for m, s in zip(z["means"], z["stds"])]
        return ActorTrack(z["landmarks"], z["triangles"], maps, alphas, colours)
