"""The `callbridge` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from callbridge.cli import campaign, listen, render, replay, serve, template, train, verify
from callbridge.cli.exits import EXIT_BAD_INPUT


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit 2, as for any bad input
        self.print_usage(sys.stderr)
        print(f"callbridge: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="callbridge",
        description="A WebRTC relay that hears trigger phrases in a call and shows a "
        "personalised, clearly labelled synthetic ad.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    listen.add_parser(sub)
    render.add_parser(sub)
    replay.add_parser(sub)
    verify.add_parser(sub)
    template.add_parser(sub)
    serve.add_parser(sub)
    campaign.add_parser(sub)
    train.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
