"""`callbridge render`: the personalised ad for one face, as an MP4 file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from adengine import (
    AdRenderer,
    ClipError,
    FaceBank,
    FaceCrop,
    FaceError,
    MediapipeFaceTracker,
    TemplateError,
    TrackError,
    assess_image,
    iter_frames,
    make_swapper,
    probe,
    read_image,
    write_mp4,
)
from adengine.swapper import Swapper
from callbridge.cli.exits import EXIT_BAD_INPUT
from callbridge.cli.progress import StageProgress, stage_bars
from callbridge.config.services import Services
from models import ModelError

HELP = """Renders an ad template with the actor's face replaced by the face in --face
(a photo, or a video from which the best frame is harvested), and writes an H.264
MP4 with the template's soundtrack. Every frame carries the disclosure label.
Whoever runs this vouches that the person in --face agreed to it. The built-in
template 'default' is generated on first use; add your own with `callbridge template add`."""

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("render", help="render the personalised ad for a face", description=HELP)
    p.add_argument("--face", required=True, type=Path, metavar="IMAGE|VIDEO")
    p.add_argument("--template", default="default", metavar="NAME")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.mp4")
    p.add_argument("--backend", default="warp", choices=["warp", "autoencoder", "onnx"])
    p.add_argument(
        "--model",
        type=Path,
        metavar="PATH",
        help="--backend autoencoder: a model folder from `callbridge train`; --backend onnx: a swap.onnx "
        "(or its folder) with its swap.yaml (docs/swap-models.md)",
    )
    p.add_argument(
        "--data", default=Path("data"), type=Path, metavar="DIR", help="data directory (templates live here)"
    )
    p.add_argument("--json", action="store_true", help="one JSON line on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        swapper = _swapper(args.backend, args.model)
        if args.out.suffix.lower() != ".mp4":
            raise ValueError(f"--out must end in .mp4, not {args.out.name!r}")
        with stage_bars(enabled=sys.stderr.isatty()) as progress:
            face = harvest(args.face)
            services = Services(args.data)
            services.templates.progress = progress
            template = services.template(args.template)
            ad = AdRenderer(template, swapper).render(face)
            total = len(ad.frames)
            write_mp4(args.out, _counted(ad.frames, progress, total), ad.fps, ad.audio, ad.sample_rate)
    except (FaceError, ClipError, TemplateError, TrackError, ModelError, ValueError) as exc:
        print(f"callbridge render: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    h, w = ad.frames[0].shape[:2]
    record = {
        "event": "rendered",
        "out": str(args.out),
        "frames": total,
        "width": w,
        "height": h,
        "fps": ad.fps,
        "render_ms": round(ad.render_ms, 1),
        "face_quality": round(ad.face_quality, 3),
    }
    print(
        json.dumps(record)
        if args.json
        else f"wrote {args.out}: {total} frames {w}x{h} at {ad.fps:g} fps, "
        f"rendered in {ad.render_ms:.0f} ms, face quality {ad.face_quality:.2f}"
    )
    return 0


def _swapper(backend: str, model: Path | None) -> Swapper:
    if backend == "autoencoder":
        if model is None:
            raise ValueError("--backend autoencoder needs --model DIR (made by callbridge train)")
        from adengine.trained import TrainedSwapper

        return TrainedSwapper(model)
    if backend == "onnx":
        if model is None:
            raise ValueError("--backend onnx needs --model PATH (a swap.onnx with its swap.yaml, docs/swap-models.md)")
        from adengine.onnxswap import OnnxSwapper

        return OnnxSwapper(model)
    return make_swapper(backend)


def harvest(path: Path) -> FaceCrop:
    """The face to use from a photo or a video; FaceError saying why there is none."""
    if not path.exists():
        raise FaceError(f"{path}: no such file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return assess_image(read_image(path))
    fps = probe(path).fps or 25.0  # a file that is not a video fails here, before any model loads
    tracker = MediapipeFaceTracker()
    try:
        bank = FaceBank("render", tracker, consent=True)
        for i, frame in enumerate(iter_frames(path)):
            bank.offer(frame, i / fps)
        best = bank.best()
        if best is None:
            raise FaceError(f"{path}: no usable face ({bank.coverage().summary()})")
        return best
    finally:
        tracker.close()


def _counted(frames: list[np.ndarray], progress: StageProgress, total: int) -> Iterator[np.ndarray]:
    for i, frame in enumerate(frames):
        progress("encoding", i + 1, total)
        yield frame
