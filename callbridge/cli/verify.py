"""`callbridge verify`: read a file's C2PA manifest offline and say whether it holds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from callbridge.cli.exits import EXIT_BAD_INPUT

HELP = """Reads the C2PA manifest of a video that callbridge exported (or any file) offline,
and prints its state: Valid (signed and intact), Trusted (also signed by the exhibit root
given with --trust; the relay serves it at /provenance/root.pem), Invalid (changed after
signing, or a broken signature), or none (no manifest). Exit 0 for Valid or Trusted,
1 for Invalid or none, 2 for a file it cannot read."""
EXIT_INVALID = 1


def add_parser(sub: Any) -> None:
    p = sub.add_parser("verify", help="check a video's C2PA provenance offline", description=HELP)
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--trust", type=Path, metavar="ROOT.pem", help="the exhibit root certificate to trust")
    p.add_argument("--json", action="store_true", help="one JSON line on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from callbridge.provenance import verify_file  # the C2PA library loads only here

    try:
        trust = args.trust.read_bytes() if args.trust else None
        verdict = verify_file(args.file, trust)
    except OSError as exc:
        where = exc.filename or args.file
        print(f"callbridge verify: error: cannot read {where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    record = {
        "event": "verified",
        "file": str(args.file),
        "state": verdict.state,
        "digital_source_type": verdict.digital_source_type,
        "templates": verdict.templates,
    }
    if args.json:
        print(json.dumps(record))
    else:
        source = (verdict.digital_source_type or "none").rsplit("/", 1)[-1]
        problems = f"; {', '.join(verdict.problems)}" if verdict.problems else ""
        templates = ", ".join(verdict.templates) or "-"
        print(f"{args.file}: {verdict.state} (source type: {source}; templates: {templates}{problems})")
    return 0 if verdict.state in ("Valid", "Trusted") else EXIT_INVALID
