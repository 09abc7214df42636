"""Benchmark of the visual half: face tracking, render throughput, face-to-ad time.

Writes bench/results/adengine.json and its table in docs/benchmarks.md. Real faces only: the
scikit-image astronaut is the actor (the default template), Grace Hopper the
participant, animated like a webcam (tests/support/faces.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from adengine.facebank import FaceBank
from adengine.renderer import AdRenderer
from adengine.template import AdTemplate, TemplateLibrary
from adengine.track import derive
from adengine.tracker import MediapipeFaceTracker
from bench.report import machine_info, publish
from tests.support.faces import animate, astronaut, hopper

RESULTS = Path(__file__).parent / "results" / "adengine.json"
SIZES = [(640, 360), (640, 480), (1280, 720)]


def resized(template: AdTemplate, size: tuple[int, int], n_frames: int | None = None) -> AdTemplate:
    """The template scaled to cover `size` and centre-cropped; looped to n_frames if given."""
    w, h = size
    src_w, src_h = template.size
    scale = max(w / src_w, h / src_h)
    dx, dy = (src_w * scale - w) / 2, (src_h * scale - h) / 2
    idx = list(range(len(template.frames)))
    if n_frames:
        idx = [
            (list(range(len(idx))) + list(range(len(idx) - 2, 0, -1)))[i % (2 * len(idx) - 2)] for i in range(n_frames)
        ]
    frames = [cv2.resize(template.frames[i], None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR) for i in idx]
    frames = [np.ascontiguousarray(f[int(dy) : int(dy) + h, int(dx) : int(dx) + w]) for f in frames]
    landmarks = template.track.landmarks[idx] * scale - (int(dx), int(dy))
    clip = dataclasses.replace(template.clip, frames=frames)
    return AdTemplate(template.meta, clip, derive(frames, landmarks.astype(np.float32)), template.clip_sha256)


def tracking_cost(n: int) -> dict:
    tracker = MediapipeFaceTracker()
    frames = animate(astronaut(), n, size=(640, 480), seed=1)
    times = []
    for i, frame in enumerate(frames):
        t = time.perf_counter()
        tracker.track(frame, i / 25)
        times.append((time.perf_counter() - t) * 1000)
    tracker.close()
    return {
        "frames": n,
        "size": "640x480",
        "median_ms": round(statistics.median(times[5:]), 2),
        "p95_ms": round(float(np.percentile(times[5:], 95)), 2),
    }


def hopper_face():
    tracker = MediapipeFaceTracker()
    bank = FaceBank("bench", tracker, consent=True)
    for i, frame in enumerate(animate(hopper(), 50, size=(640, 480), seed=2)):
        bank.offer(frame, i / 25)
    tracker.close()
    return bank.best()


def throughput(template: AdTemplate, face, runs: int) -> dict:
    out = {}
    for size in SIZES:
        t = resized(template, size)
        fps = [len(t.frames) / (AdRenderer(t).render(face).render_ms / 1000) for _ in range(runs)]
        out[f"{size[0]}x{size[1]}"] = {
            "frames": len(t.frames),
            "fps_median": round(statistics.median(fps), 1),
            "fps_runs": [round(x, 1) for x in fps],
        }
        print(f"  render {size[0]}x{size[1]}: {statistics.median(fps):.1f} frames/s", file=sys.stderr)
    return out


def face_to_ad(template: AdTemplate, runs: int) -> dict:
    """From the first usable face in a 25 fps webcam stream to a finished 8 s ad."""
    t8 = resized(template, template.size, n_frames=int(8 * template.fps))
    frames = animate(hopper(), 100, size=(640, 480), seed=3)
    totals = []
    for _ in range(runs):
        tracker = MediapipeFaceTracker()
        bank = FaceBank("bench", tracker, consent=True)
        renderer = AdRenderer(t8)
        start = None
        for i, frame in enumerate(frames):
            bank.offer(frame, i / 25)
            best = bank.best()
            if best is not None and best.quality.usable:
                start = time.perf_counter()
                renderer.offer(best)
                break
        assert start is not None, "no usable face in the stream"
        renderer.wait()
        totals.append(time.perf_counter() - start)
        tracker.close()
    return {
        "ad_s": 8.0,
        "frames": len(t8.frames),
        "median_s": round(statistics.median(totals), 2),
        "runs_s": [round(x, 2) for x in totals],
    }


def markdown(r: dict) -> str:
    rows = [
        "| metric | measured |",
        "|---|---|",
        f"| face tracking, 640x480 (median / p95 per frame) | "
        f"{r['tracking']['median_ms']} / {r['tracking']['p95_ms']} ms |",
    ]
    rows += [
        f"| render throughput {k} (swap, blend, label) | {v['fps_median']} frames/s |"
        for k, v in r["throughput"].items()
    ]
    rows.append(
        f"| first usable face → fully rendered 8 s ad ({r['face_to_ad']['frames']} frames) | "
        f"{r['face_to_ad']['median_s']} s |"
    )
    m = r["machine"]
    return (
        "\n".join(rows)
        + f"\n\n_{m['cpu']}, {m['usable_cores']} cores, no GPU; medians of {r['runs']} runs, {r['date']}. "
        "`make bench` to reproduce._"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="data directory (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        library = TemplateLibrary(args.data or Path(tmp), MediapipeFaceTracker)
        template = library.get("default")
        print("tracking cost...", file=sys.stderr)
        tracking = tracking_cost(100)
        face = hopper_face()
        print("render throughput...", file=sys.stderr)
        result = {
            "date": date.today().isoformat(),
            "runs": args.runs,
            "machine": machine_info(),
            "tracking": tracking,
            "throughput": throughput(template, face, args.runs),
        }
        print("face to ad...", file=sys.stderr)
        result["face_to_ad"] = face_to_ad(template, args.runs)
    publish(RESULTS, result, markdown(result), "adengine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
