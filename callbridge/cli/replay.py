"""`callbridge replay`: a recorded call (or a video file) replayed offline, with the ads the audience saw."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from callbridge.cli.exits import EXIT_BAD_INPUT
from callbridge.cli.progress import stage_bars

HELP = """Replays a recording folder (from `serve --record`: everyone's tiles in a grid, or the
talker large with --layout speaker), or a video with a face and speech (a monologue counts
as a one-person call), through the trigger and ad engines, offline and not paced to real time, and writes what
the audience would have seen as an H.264/AAC MP4: after each trigger phrase the speaker's
video becomes the ad, made with the face the relay would have held by then, with the
"sponsored · AI-generated" banner and the in-frame label, and the ad's soundtrack in
place of the voice, signed with a C2PA manifest by the installation's exhibit CA
(`callbridge verify` reads it). Captions are burned in, written as an SRT file beside the video, or
left out. The same input always gives the same triggers and frames. Without --phrase the
campaign's phrases (in --data) are used; --template forces one template for every phrase."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("replay", help="replay a recorded call or a video offline, with its ads", description=HELP)
    p.add_argument("input", type=Path, metavar="INPUT", help="a recording folder, or a video with a face and speech")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.mp4")
    p.add_argument("--phrase", action="append", default=[], metavar="TEXT", help="a trigger phrase (repeatable)")
    p.add_argument("--template", metavar="NAME", help="play this template for every phrase")
    p.add_argument("--layout", choices=["grid", "speaker"], default="grid", help="several participants (default grid)")
    p.add_argument("--captions", choices=["burn", "srt", "none"], default="burn", help="default burn")
    p.add_argument("--data", type=Path, default=Path("data"), metavar="DIR", help="data directory (the campaign)")
    p.add_argument("--model", default="tiny.en", metavar="NAME|PATH", help="speech model (default tiny.en)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--json", action="store_true", help="JSON lines on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from callbridge.replay import ReplayError, ReplayOptions, replay  # models load only when replaying

    options = ReplayOptions(
        out=args.out,
        phrases=tuple(args.phrase),
        template=args.template,
        captions=args.captions,
        layout=args.layout,
        data_dir=args.data,
        model=args.model,
        device=args.device,
    )
    # The encoder's thread gives up the GIL around every x264 call and waits for it back while the
    # compositor's thread holds it: a shorter switch interval cuts that wait (docs/experiments.md).
    sys.setswitchinterval(0.001)
    try:
        with stage_bars(enabled=sys.stderr.isatty()) as progress:
            result = replay(args.input, options, progress)
    except ReplayError as exc:
        print(f"callbridge replay: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for note in result.notes:
        print(f"callbridge replay: note: {note}", file=sys.stderr)
    records = [t.to_dict(file=str(args.input)) for t in result.triggers] + [a.to_dict() for a in result.ads]
    records.append(
        {
            "event": "replayed",
            "out": str(result.out),
            "duration_s": round(result.duration_s, 3),
            "wall_s": round(result.wall_s, 3),
            "triggers": len(result.triggers),
            "ads": len(result.ads),
            "signed": result.signed,
        }
    )
    for record in records:
        print(json.dumps(record) if args.json else _readable(record))
    return 0


def _readable(r: dict[str, Any]) -> str:
    if r["event"] == "trigger":
        return f"trigger {r['phrase']!r} at {r['phrase_end_s']:.2f} s"
    if r["event"] == "ad":
        kind = "personalised" if r["personalised"] else "plain"
        return f"ad {r['template']!r} ({kind}) {r['start_s']:.2f}-{r['end_s']:.2f} s"
    speed = r["duration_s"] / max(r["wall_s"], 1e-6)
    return (
        f"wrote {r['out']}: {r['duration_s']:.1f} s in {r['wall_s']:.1f} s ({speed:.1f}x real time), {r['ads']} ad(s)"
    )
