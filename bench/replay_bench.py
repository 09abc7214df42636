"""Replay benchmark: `callbridge replay` on a one-person 640x480 15 fps monologue made here.

Grace Hopper's face says a sentence with "dinner tonight" (espeak-ng) in slots of
about 13 s: 2 s of quiet, the sentence, 8 s of quiet, so every phrase can play its ad.
A two-person input is a recording folder made from that monologue and a silent
astronaut (tests/support/clips.py `recording`: the files as `serve --record` writes
them, without a live call). Measured per run: the replay's speed (seconds of video
per second of wall time, from the command's own `wall_s`, which includes loading
the models), and the output's resolution and bitrate. Writes
bench/results/replay.json and its table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import av

from bench.report import machine_info, publish, run_line
from tests.support.clips import face_clip, monologue, recording

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "replay.json"
SENTENCE = "Shall we have dinner tonight? I know a nice place."
TARGETS = {"speed_x": 2.0}


def one_run(source: Path, out: Path, data: Path) -> dict:
    argv = [sys.executable, "-m", "callbridge", "replay", str(source), "--out", str(out), "--data", str(data), "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout.splitlines()[-1])
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        size = (video.width, video.height)
    return {
        "duration_s": summary["duration_s"],
        "wall_s": summary["wall_s"],
        "speed_x": round(summary["duration_s"] / summary["wall_s"], 2),
        "ads": summary["ads"],
        "size": size,
        "bitrate_kbps": round(out.stat().st_size * 8 / summary["duration_s"] / 1000),
    }


def summary(runs: list[dict]) -> dict:
    return {
        "runs": len(runs),
        "duration_s": runs[0]["duration_s"],
        "speed_x": statistics.median(r["speed_x"] for r in runs),
        "size": runs[0]["size"],
        "bitrate_kbps": int(statistics.median(r["bitrate_kbps"] for r in runs)),
        "ads": runs[0]["ads"],
    }


def markdown(result: dict) -> str:
    lines = [
        run_line(result, "bench.replay_bench"),
        "",
        "| input | speed (median of runs) | output | ads | target |",
        "|---|---|---|---|---|",
    ]
    for label, key, target in (("one person", "one", ""), ("two people", "two", f"{TARGETS['speed_x']:.0f}x")):
        s = result[key]
        w, h = s["size"]
        lines.append(
            f"| {label}, {s['duration_s']:.0f} s 640x480 | {s['speed_x']:.2f}x real time ({s['runs']} runs) "
            f"| {w}x{h} H.264/AAC, {s['bitrate_kbps']} kb/s | {s['ads']} | {target} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--slots", type=int, default=3, help="13 s slots, each with the phrase once (default 3)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        source = monologue(tmp / "monologue.mp4", SENTENCE, lead_s=2.0, tail_s=8.0, slots=args.slots)
        silent = face_clip(tmp / "bob.mp4", seconds=13.0 * args.slots, size=(640, 480), fps=15, seed=3)
        folder = recording(tmp / "recordings", "bench", [("alice", source), ("bob", silent)])
        one = [one_run(source, tmp / f"one-{i}.mp4", tmp / "data") for i in range(args.runs)]
        two = [one_run(folder, tmp / f"two-{i}.mp4", tmp / "data") for i in range(args.runs)]
    for run in one + two:
        print(json.dumps(run), file=sys.stderr)
    result = {
        "date": datetime.now(UTC).isoformat(),
        "machine": machine_info(),
        "one": summary(one),
        "two": summary(two),
        "runs": {"one": one, "two": two},
    }
    publish(RESULTS, result, markdown(result), "replay")


if __name__ == "__main__":
    main()
