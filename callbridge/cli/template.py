"""`callbridge template`: add ad templates and list them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from callbridge.cli.campaign import fraction_bars
from callbridge.cli.exits import EXIT_BAD_INPUT
from callbridge.config.campaign import (
    CampaignError,
    PhraseRule,
    check_phrase,
    new_template,
)
from callbridge.config.store import Store
from callbridge.ingest import UploadError

HELP = """Ad templates are a clip (video and audio) in which an actor faces the camera,
plus what the exhibit says about it. `add` checks the clip (container, size,
resolution, frame rate, a face), stores it in the data directory, tracks the
actor's face through it once (with a progress bar), and adds it to the campaign
with its trigger phrases: a running server picks it up within a second. A clip
whose actor cannot be tracked in at least 90% of its frames is refused, naming
the frames. The built-in template 'default' needs no adding. `callbridge
campaign` manages phrases and templates in more detail."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("template", help="add or list ad templates", description=HELP)
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    add = actions.add_parser("add", help="ingest a clip as a template", description=HELP)
    add.add_argument("clip", type=Path, metavar="CLIP")
    add.add_argument("--name", required=True, help="1-40 lowercase letters, digits or -")
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
    from callbridge.config import intake  # imported here: it brings the ingest machinery

    try:
        record = new_template(args.name, args.title, args.tagline, args.licence, args.max_duration, args.fallback)
        rules = [PhraseRule(check_phrase(p), record.name) for p in args.phrase]
        if not args.clip.is_file():
            raise CampaignError(f"no clip file at {args.clip}")
        store = Store(args.data)
        with fraction_bars(enabled=sys.stderr.isatty()) as progress:
            ready = intake.admit(store, args.clip, record, lambda f: progress(record.name, f))
        for rule in rules:
            if store.rule(rule.phrase) is None:
                store.add_phrase(rule)
            else:
                store.update_phrase(rule.phrase, template=record.name)
    except (CampaignError, UploadError, OSError) as exc:
        print(f"callbridge template: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    phrases = ", ".join(repr(r.phrase) for r in rules)
    print(f"added template {ready.name!r} ({ready.verdict}); it plays for {phrases}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for record in Store(args.data).campaign().templates:
        print(f"{record.name}\t{record.status}\t{record.title}")
    return 0
