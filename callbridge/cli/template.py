"""`callbridge template`: add ad templates and list them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from adengine import ClipError, MediapipeFaceTracker, TemplateError, TemplateLibrary, TemplateMeta, TrackError
from callbridge.cli.exits import EXIT_BAD_INPUT
from callbridge.cli.progress import stage_bars

HELP = """Ad templates are a clip (video and audio) in which an actor faces the camera,
plus what the exhibit says about it. `add` checks the clip, tracks the actor's face
through it once (with a progress bar) and caches everything the renderer needs;
a clip whose actor cannot be tracked in at least 90% of its frames is refused,
naming the frames. The built-in template 'default' needs no adding."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("template", help="add or list ad templates", description=HELP)
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    add = actions.add_parser("add", help="ingest a clip as a template", description=HELP)
    add.add_argument("clip", type=Path, metavar="CLIP")
    add.add_argument("--name", required=True, help="1-40 lowercase letters, digits, - or _")
    add.add_argument("--title", required=True)
    add.add_argument("--tagline", default="")
    add.add_argument("--phrase", action="append", required=True, metavar="TEXT", help="a trigger phrase (repeatable)")
    add.add_argument(
        "--max-duration", type=float, default=8.0, metavar="S", help="seconds of the clip the ad plays (default 8)"
    )
    add.add_argument("--licence", required=True, metavar="TEXT", help="licence of the clip and the actor's release")
    add.add_argument(
        "--fallback",
        default="plain",
        choices=["plain", "none"],
        help="without a usable face: play the clip as is, or no ad",
    )
    add.add_argument("--data", default=Path("data"), type=Path, metavar="DIR")
    add.set_defaults(run=run_add)
    ls = actions.add_parser("list", help="list templates")
    ls.add_argument("--data", default=Path("data"), type=Path, metavar="DIR")
    ls.set_defaults(run=run_list)


def run_add(args: argparse.Namespace) -> int:
    try:
        meta = TemplateMeta(
            args.name, args.title, args.tagline, tuple(args.phrase), args.max_duration, args.licence, args.fallback
        )
        with stage_bars(enabled=sys.stderr.isatty()) as progress:
            template = TemplateLibrary(args.data, MediapipeFaceTracker, progress).add(args.clip, meta)
    except (ClipError, TemplateError, TrackError) as exc:
        print(f"callbridge template: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    w, h = template.size
    print(f"added template {meta.name!r}: {len(template.frames)} frames {w}x{h} at {template.fps:g} fps")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for name in TemplateLibrary(args.data, MediapipeFaceTracker).names():
        print(name)
    return 0
