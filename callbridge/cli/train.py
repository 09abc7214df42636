"""`callbridge train`: fit the trained swap backend on a template's actor and a person's faces."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from callbridge.cli.exits import EXIT_BAD_INPUT
from callbridge.cli.progress import stage_bars

HELP = """Fits the `autoencoder` swap backend: a shared encoder with one decoder for the
template's actor and one for the person in --faces (a video, or a folder of photos, of
one person who agreed to this). Faces are aligned to one template at the network's crop
size and trained with random warps and a masked L1 + DSSIM loss. A checkpoint is saved
in --out every 200 steps; run again with a larger --steps to go on from it. At the end
the swap is exported to OUT/swap.onnx. --device auto uses CUDA when present.

With --pretrain (and no --faces or --out), fits only the shared encoder and the actor's
decoder on the template's own frames, into DATA/pretrained/: `serve --fit` starts each
participant's in-call fitting from there, so that only their decoder is left to learn."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train the autoencoder swap backend for one person", description=HELP)
    p.add_argument("--faces", type=Path, metavar="VIDEO|DIR", help="the person's faces")
    p.add_argument("--template", required=True, metavar="NAME", help="the ad template whose actor is swapped")
    p.add_argument("--out", type=Path, metavar="MODEL_DIR")
    p.add_argument("--pretrain", action="store_true", help="pretrain the template's actor side for in-call fitting")
    p.add_argument("--steps", type=int, default=2000, help="total training steps (default 2000)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--tiny", action="store_true", help="a 32 px network that trains in seconds (smoke tests)")
    p.add_argument("--data", type=Path, default=Path("data"), metavar="DIR", help="data directory (the templates)")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from callbridge.train import TrainError, train  # torch loads only when training

    if args.steps < 1:
        return _error("--steps must be at least 1")
    if args.pretrain:
        return _pretrain(args)
    if args.faces is None or args.out is None:
        return _error("--faces and --out are needed (or --pretrain, which takes neither)")
    try:
        with stage_bars(enabled=sys.stderr.isatty()) as progress:
            result = train(
                args.faces,
                args.template,
                args.out,
                args.steps,
                args.device,
                args.tiny,
                args.data,
                progress,
                report=(lambda record: print(json.dumps(record), flush=True)) if args.json else None,
            )
    except TrainError as exc:
        return _error(str(exc))
    if args.json:
        print(json.dumps({"event": "trained", **result}))
    else:
        print(f"trained {args.out}: {result['steps']} steps, loss {result['final_loss']:.4f} on {result['device']}")
    return 0


def _pretrain(args: argparse.Namespace) -> int:
    from callbridge.train import TrainError, pretrain

    if args.faces is not None or args.out is not None or args.tiny:
        return _error("--pretrain takes no --faces, --out or --tiny: it fits the template's actor alone")
    try:
        with stage_bars(enabled=sys.stderr.isatty()) as progress:
            report = (lambda record: print(json.dumps(record), flush=True)) if args.json else None
            result = pretrain(args.template, args.steps, args.device, args.data, progress, report)
    except TrainError as exc:
        return _error(str(exc))
    if args.json:
        print(json.dumps({"event": "pretrained", **result}))
    else:
        print(
            f"pretrained {args.template} into {result['out']}: {result['steps']} steps, loss {result['final_loss']:.4f}"
        )
    return 0


def _error(message: str) -> int:
    print(f"callbridge train: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
