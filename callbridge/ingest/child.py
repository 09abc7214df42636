"""The ingest child process: the only place an uploaded clip is decoded.

    python -m callbridge.ingest.child probe CLIP [--container C] [--caps JSON]
    python -m callbridge.ingest.child ingest CLIP --data DIR --meta JSON [--caps JSON]

It sets its own memory limit (--memory-mb) and a low priority first, then writes
JSON lines to stdout: {"progress": 0..1} while working, then one final
{"ok": true, ...} or {"ok": false, "status": 422, "error": "..."}. A refusal is a
verdict like any other (exit code 0); only a crash exits non-zero, with its
traceback on stderr. Nothing but those lines ever reaches stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from adengine.face import FaceError
from adengine.media import ClipError
from adengine.template import TemplateError, TemplateMeta, ingest_clip
from adengine.track import TrackError
from adengine.tracker import MediapipeFaceTracker
from callbridge.ingest.caps import Caps
from callbridge.ingest.errors import BREAKS_RULE, NEEDS_MEMORY, NOT_A_VIDEO, UploadError
from callbridge.ingest.faces import counting, look_for_face, sample_frames, track_verdict
from callbridge.ingest.header import check_header
from callbridge.ingest.memory import cap_address_space, limit_mb, peaks_mb, ran_out
from callbridge.ingest.progress import IngestProgress
from callbridge.ingest.sniff import sniff_file

NICENESS = 10

Send = Callable[[dict[str, Any]], None]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _restrain(args.memory_mb)
    send = _channel()
    try:
        result = {"ok": True, **(_probe(args) if args.mode == "probe" else _ingest(args, send))}
    except Exception as exc:
        result = {"ok": False, **_refusal(exc)}
    result.update(peaks_mb())
    send(result)
    return 0


def _refusal(exc: Exception) -> dict[str, Any]:
    """Status and message for a refused clip; anything that is no refusal is raised again (a crash)."""
    if ran_out(exc):
        return {"status": BREAKS_RULE, "error": NEEDS_MEMORY}
    if isinstance(exc, UploadError):
        return {"status": exc.status, "error": str(exc)}
    if isinstance(exc, (ClipError, TemplateError, TrackError, FaceError)):
        return {"status": BREAKS_RULE, "error": str(exc)}
    raise exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m callbridge.ingest.child")
    parser.add_argument(
        "--memory-mb", type=int, default=0, help="address-space limit (0: none); ingest lowers it to the clip's need"
    )
    parser.add_argument("--caps", type=json.loads, default={}, metavar="JSON", help="Caps fields to change")
    modes = parser.add_subparsers(dest="mode", required=True)
    probe = modes.add_parser("probe", help="check the header against the caps and look for a face")
    probe.add_argument("clip", type=Path)
    probe.add_argument("--container", choices=["mp4", "matroska"])
    ingest = modes.add_parser("ingest", help="track the actor through the clip and cache the track")
    ingest.add_argument("clip", type=Path)
    ingest.add_argument("--data", type=Path, required=True)
    ingest.add_argument("--meta", type=json.loads, required=True, metavar="JSON", help="the TemplateMeta fields")
    return parser


def _restrain(memory_mb: int) -> None:
    """Low priority, so calls are never starved, and a cap on memory (address space)."""
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    if memory_mb > 0:
        cap_address_space(memory_mb)


def _channel() -> Send:
    """A writer for the protocol lines on the real stdout; fd 1 is pointed at stderr from now on."""
    out: TextIO = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)

    def send(record: dict[str, Any]) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()

    return send


def _probe(args: argparse.Namespace) -> dict[str, Any]:
    container = sniff_file(args.clip)
    if args.container and args.container != container:
        raise UploadError(NOT_A_VIDEO, f"the file is {container}, not {args.container}")
    header = check_header(args.clip, container, Caps(**args.caps))
    tracker = MediapipeFaceTracker(static=True)
    try:
        verdict = look_for_face(sample_frames(args.clip, container, header), tracker)
    finally:
        tracker.close()
    return {"header": header.to_dict(), "verdict": verdict}


def _ingest(args: argparse.Namespace, send: Send) -> dict[str, Any]:
    header = check_header(args.clip, sniff_file(args.clip), Caps(**args.caps))
    if args.memory_mb > 0:  # no more than this clip should need: a decoder bomb stops early
        cap_address_space(limit_mb(header, args.memory_mb))
    meta = TemplateMeta.from_dict(args.meta)
    factory, made = counting(MediapipeFaceTracker)
    with IngestProgress(send) as progress:
        template, sha = ingest_clip(args.clip, meta, args.data, factory, progress)
    verdict = track_verdict(template.track.landmarks, made)
    return {"sha256": sha, "frames": len(template.frames), "verdict": verdict}


if __name__ == "__main__":
    sys.exit(main())
