"""The `callbridge` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from callbridge.cli import listen, render, serve, template

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, as for any bad input
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
    template.add_parser(sub)
    serve.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
