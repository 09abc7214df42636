"""`callbridge campaign`: list and change the campaign in a data directory, export and import it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from callbridge.cli.exits import EXIT_BAD_INPUT
from callbridge.config.campaign import (
    CampaignError,
    PhraseRule,
    TemplateRecord,
    campaign_json,
    check_cooldown,
    check_phrase,
    check_template_name,
    new_template,
)
from callbridge.config.phrase_check import phrase_warnings
from callbridge.config.store import Store
from callbridge.ingest.errors import UploadError

HELP = """The campaign is the trigger phrases, each pointing at an ad template, and the
templates themselves (a clip with an actor facing the camera). It lives in
DATA/callbridge.sqlite; a server running on the same data directory applies
every change made here live, within a second. `add-template` checks the clip and
tracks the actor's face through it (with a progress bar) before the template is
usable. `export` writes the whole campaign as TOML; `import` is all-or-nothing:
it checks the whole file and ingests every new clip before it replaces the
campaign, and a bad file changes nothing and names its line."""

FractionProgress = Callable[[str, float], None]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("campaign", help="list, change, export or import the campaign", description=HELP)
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))

    ls = _action(actions, "list", "phrases and templates, with warnings and ingest state", run_list)
    ls.add_argument("--json", action="store_true", help="print what GET /api/campaign answers")

    add = _action(actions, "add-phrase", "add a trigger phrase", run_add_phrase)
    add.add_argument("phrase", metavar="PHRASE")
    add.add_argument("--template", required=True, metavar="NAME", help="the template it plays")
    add.add_argument("--cooldown", type=float, default=0.0, metavar="S", help="seconds before it may fire again")
    add.add_argument("--disabled", action="store_true", help="add it switched off")

    rm = _action(actions, "remove-phrase", "remove a trigger phrase", run_remove_phrase)
    rm.add_argument("phrase", metavar="PHRASE")

    tpl = _action(actions, "add-template", "check and ingest a clip as a template", run_add_template)
    tpl.add_argument("clip", type=Path, metavar="CLIP")
    tpl.add_argument("--name", required=True, help="1-40 lowercase letters, digits or -")
    tpl.add_argument("--title", required=True)
    tpl.add_argument("--tagline", default="")
    tpl.add_argument("--licence", required=True, metavar="TEXT", help="licence of the clip and the actor's release")
    tpl.add_argument("--max-duration", type=float, default=8.0, metavar="S", help="seconds of the clip an ad plays")
    tpl.add_argument("--fallback", default="plain", choices=["plain", "none"], help="without a usable face")

    exp = _action(actions, "export", "write the whole campaign as TOML", run_export)
    exp.add_argument("file", type=Path, metavar="FILE.toml")
    exp.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    imp = _action(actions, "import", "replace the campaign with a TOML file's (all or nothing)", run_import)
    imp.add_argument("file", type=Path, metavar="FILE.toml")


def _action(actions: Any, name: str, help: str, run: Callable[[argparse.Namespace], int]) -> Any:
    p = actions.add_parser(name, help=help, description=HELP)
    p.add_argument("--data", default=Path("data"), type=Path, metavar="DIR", help="data directory (default: data)")
    p.set_defaults(run=_guarded(run))
    return p


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Every refusal as one line on stderr and exit 2."""

    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (CampaignError, UploadError) as exc:
            return _bad(str(exc))
        except OSError as exc:  # an unreadable data directory or clip, a full disk
            return _bad(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc))

    return guarded


def _bad(message: str) -> int:
    print(f"callbridge campaign: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


# ---------------------------------------------------------------------------------------------- list


def run_list(args: argparse.Namespace) -> int:
    campaign = Store(args.data).campaign()
    if args.json:
        print(json.dumps(campaign_json(campaign), indent=2, ensure_ascii=False))
        return 0
    print(f"Phrases ({len(campaign.phrases)}):")
    print(_columns([("PHRASE", "TEMPLATE", "STATE", "COOLDOWN")] + [_phrase_row(r) for r in campaign.phrases]))
    for rule in campaign.phrases:
        for warning in phrase_warnings(rule.phrase):
            print(f"  ! {rule.phrase!r}: {warning}")
    print(f"\nTemplates ({len(campaign.templates)}):")
    print(_columns([("NAME", "STATUS", "TITLE", "DETAIL")] + [_template_row(t) for t in campaign.templates]))
    print(f"\nrevision {campaign.revision}")
    return 0


def _phrase_row(rule: PhraseRule) -> tuple[str, ...]:
    return (rule.phrase, rule.template, "enabled" if rule.enabled else "disabled", f"{rule.cooldown_s:g} s")


def _template_row(record: TemplateRecord) -> tuple[str, ...]:
    if record.status == "failed":
        detail = f"error: {record.error or 'unknown'}"
    elif record.status == "ingesting":
        detail = f"{record.progress:.0%} ingested"
    else:
        detail = record.verdict or ""
    return (record.name, record.status, record.title, detail)


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


# ---------------------------------------------------------------------------------------------- phrases


def run_add_phrase(args: argparse.Namespace) -> int:
    rule = PhraseRule(
        check_phrase(args.phrase),
        check_template_name(args.template),
        not args.disabled,
        check_cooldown(args.cooldown),
    )
    Store(args.data).add_phrase(rule)
    for warning in phrase_warnings(rule.phrase):
        print(f"callbridge campaign: warning: {rule.phrase!r}: {warning}", file=sys.stderr)
    state = "" if rule.enabled else " (disabled)"
    print(f"added phrase {rule.phrase!r} -> template {rule.template!r}{state}")
    return 0


def run_remove_phrase(args: argparse.Namespace) -> int:
    phrase = check_phrase(args.phrase)
    Store(args.data).remove_phrase(phrase)
    print(f"removed phrase {phrase!r}")
    return 0


# ---------------------------------------------------------------------------------------------- templates


def run_add_template(args: argparse.Namespace) -> int:
    record = new_template(args.name, args.title, args.tagline, args.licence, args.max_duration, args.fallback)
    if not args.clip.is_file():
        raise CampaignError(f"no clip file at {args.clip}")
    from callbridge.config import intake  # imported here: it brings the ingest machinery

    with fraction_bars(enabled=sys.stderr.isatty()) as progress:
        ready = intake.admit(Store(args.data), args.clip, record, lambda f: progress(record.name, f))
    print(f"added template {ready.name!r}: {ready.verdict or 'ready'}")
    return 0


@contextmanager
def fraction_bars(enabled: bool) -> Iterator[FractionProgress]:
    """A callback (label, fraction done) drawing one bar per label on stderr."""
    if not enabled:
        yield lambda label, fraction: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    tasks: dict[str, TaskID] = {}
    with bars:

        def update(label: str, fraction: float) -> None:
            if label not in tasks:
                tasks[label] = bars.add_task(f"ingesting {label}", total=1.0)
            bars.update(tasks[label], completed=max(0.0, min(1.0, fraction)))

        yield update


# ---------------------------------------------------------------------------------------------- export, import


def run_export(args: argparse.Namespace) -> int:
    from callbridge.config.campaign_file import export_campaign

    if args.file.exists() and not args.force:
        raise CampaignError(f"{args.file} exists; add --force to overwrite it")
    if not args.file.parent.is_dir():
        raise CampaignError(f"no folder {args.file.parent} to write {args.file.name} in")
    summary = export_campaign(Store(args.data), args.file)
    if summary.skipped:
        skipped = ", ".join(summary.skipped)
        print(f"callbridge campaign: warning: not ready, not exported (nor their phrases): {skipped}", file=sys.stderr)
    print(f"exported {summary.templates} templates and {summary.phrases} phrases to {args.file}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from callbridge.config.campaign_file import import_campaign

    with fraction_bars(enabled=sys.stderr.isatty()) as progress:
        summary = import_campaign(Store(args.data), args.file, progress)
    counts = f"{len(summary.ingested)} ingested, {len(summary.reused)} unchanged"
    print(f"imported {summary.templates} templates ({counts}) and {summary.phrases} phrases from {args.file}")
    return 0
