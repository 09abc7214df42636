"""Presentation of the trigger-engine benchmark: targets and pass/fail verdicts,
the rich console table, and the Markdown tables written between the markers in
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "benchmarks.md"

TARGETS = {
    "recall": (">=", 0.97),
    "false_triggers_per_hour": ("<=", 1.0),
    "latency_p50_s": ("<=", 0.5),
    "latency_p95_s": ("<=", 0.9),
    "realtime_wall_p50_s": ("<=", 0.7),
    "rtf_cpu": ("<=", 0.3),
}


def console(stderr: bool = False) -> Console:
    """Rich console; 110 columns when not a terminal (logs, make) instead of 80."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr) if stream.isatty() else Console(stderr=stderr, width=110)


def verdict(key: str, value: float | None) -> str:
    if key not in TARGETS or value is None:
        return ""
    op, target = TARGETS[key]
    ok = value >= target if op == ">=" else value <= target
    return "[green]pass[/]" if ok else "[red]FAIL[/]"


def rows(m: dict[str, Any], rt: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    def f(v: float | None, fmt: str) -> str:
        return "n/a" if v is None else format(v, fmt)

    def tgt(key: str, unit: str = "") -> str:
        op, t = TARGETS[key]
        return f"{'≥' if op == '>=' else '≤'} {t:g}{unit}" if key != "recall" else f"≥ {t:.0%}"

    nm_phr = ", ".join(
        f"{p.split()[0]} {v['false_triggers']}/{v['items']}" for p, v in m["near_miss_by_phrase"].items()
    )
    rec_phr = ", ".join(f"{p.split()[0]} {f(v, '.0%')}" for p, v in m["recall_by_phrase"].items())
    return (
        [
            ("Recall (phrase end within 1 s)", f"{f(m['recall'], '.1%')} of {m['positives']}", tgt("recall"), "recall"),
            ("  by phrase", rec_phr, "", ""),
            (
                "  clean / noisy (10–20 dB SNR)",
                f"{f(m['recall_clean'], '.1%')} / {f(m['recall_noisy'], '.1%')}",
                "",
                "",
            ),
            (
                "False triggers / hour, unrelated speech",
                f"{f(m['false_triggers_per_hour'], '.2f')} "
                f"({m['unrelated_false_triggers'] + m['conversation_false_triggers']} "
                f"in {m['non_trigger_speech_hours'] * 60:.1f} min)",
                tgt("false_triggers_per_hour"),
                "false_triggers_per_hour",
            ),
            (
                "Near-miss false triggers",
                f"{m['near_miss_false_triggers']} on {m['near_misses']} items "
                f"({f(m['near_miss_rate_per_item'], '.1%')})",
                "",
                "",
            ),
            ("  by phrase", nm_phr, "", ""),
            (
                "Extra triggers on positives (wrong phrase)",
                f"{m['false_triggers_on_positives']} ({m['wrong_phrase_triggers_on_positives']})",
                "",
                "",
            ),
            (
                "Latency p50 (audio clock)",
                f"{f(m['latency_p50_s'], '.2f')} s",
                tgt("latency_p50_s", " s"),
                "latency_p50_s",
            ),
            (
                "Latency p95 / max",
                f"{f(m['latency_p95_s'], '.2f')} / {f(m['latency_max_s'], '.2f')} s",
                tgt("latency_p95_s", " s"),
                "latency_p95_s",
            ),
            ("Phrase-end error, median abs", f"{f(m['phrase_end_abs_error_median_s'], '.2f')} s", "", ""),
            (
                "Realtime wall latency p50 / p95 (CLI)",
                f"{f(rt.get('p50_s'), '.2f')} / {f(rt.get('p95_s'), '.2f')} s" if rt.get("available") else "n/a",
                tgt("realtime_wall_p50_s", " s"),
                "realtime_wall_p50_s",
            ),
            ("Real-time factor, CPU / wall", f"{m['rtf_cpu']:.3f} / {m['rtf_wall']:.3f}", tgt("rtf_cpu"), "rtf_cpu"),
        ]
        + long_call_rows(m.get("long_call"))
        + heldout_rows(m.get("heldout"))
    )


def long_call_rows(lc: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    if not lc:
        return []
    seg = lc["segments"][0]["end_min"] if lc["segments"] else 0
    return [
        (
            f"{lc['minutes']:g}-min call: RTF first / last {seg:g} min",
            f"{lc['rtf_first_segment']:.3f} / {lc['rtf_last_segment']:.3f} (x{lc['rtf_growth']:.2f})",
            "flat",
            "",
        ),
        (
            "  latency p50, first / second half",
            f"{lc['latency_p50_first_half_s']} / {lc['latency_p50_second_half_s']} s "
            f"({lc['phrases_detected']}/{lc['phrases_spliced']} phrases, {lc['other_triggers']} other triggers)",
            "flat",
            "",
        ),
    ]


def heldout_rows(ho: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """Figures on held-out engines and sentences (bench/heldout.py); no target applies to them."""
    if not ho:
        return []
    if not ho.get("available"):
        return [("Held-out voices (flite, festival)", f"not run: {ho.get('error')}", "", "")]
    by_phrase = ", ".join(f"{p.split()[0]} {v:.0%}" for p, v in ho["recall_by_phrase"].items())
    return [
        (
            f"Held-out voices: recall ({len(ho['voices'])} flite/festival voices, unseen sentences)",
            f"{ho['recall']:.1%} of {ho['positives']}",
            "",
            "",
        ),
        ("  by phrase", by_phrase, "", ""),
        (
            "  near-miss / unrelated items fired",
            f"{ho['near_miss_items_triggered']}/{ho['near_misses']} / "
            f"{ho['unrelated_false_triggers']}/{ho['unrelated']}",
            "",
            "",
        ),
    ]


def status_value(m: dict[str, Any], rt: dict[str, Any], key: str) -> float | None:
    return rt.get("p50_s") if key == "realtime_wall_p50_s" else m.get(key)


def print_table(m: dict[str, Any], rt: dict[str, Any], title: str) -> None:
    table = Table(title=title)
    for col in ("Metric", "Value", "Target", ""):
        table.add_column(col)
    for name, value, target, key in rows(m, rt):
        table.add_row(name, value, target, verdict(key, status_value(m, rt, key)) if key else "")
    console().print(table)


def markdown(m: dict[str, Any], rt: dict[str, Any], meta: dict[str, Any]) -> str:
    strip = lambda s: re.sub(r"\[/?[a-z]*\]", "", s)  # noqa: E731
    lines = ["| Metric | Value | Target | |", "|---|---|---|---|"]
    for name, value, target, key in rows(m, rt):
        mark = strip(verdict(key, status_value(m, rt, key))) if key else ""
        label = name.strip() if not name.startswith(" ") else "&nbsp;&nbsp;" + name.strip()
        lines.append(f"| {label} | {value} | {target} | {mark} |")
    lines.append("")
    lines.append(
        f"_{meta['model']} on {meta['device']}, {meta['machine']['cpu']} ({meta['machine']['cores']} cores), "
        f"{meta['date'][:10]}; {meta['corpus']['items']} synthesised items, "
        f"{meta['corpus']['minutes']:.1f} min of audio. "
        "`make bench` to reproduce._"
    )
    return "\n".join(lines)


def update_benchmarks(text: str, section: str = "triggers", path: Path | None = None) -> bool:
    """Replace the text between the section's bench markers in docs/benchmarks.md (or `path`).

    False, and nothing written, when the file or either marker is missing.
    """
    path = BENCHMARKS if path is None else path
    mark_start, mark_end = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
    if not path.exists():
        return False
    body = path.read_text()
    if mark_start not in body or mark_end not in body:
        return False
    start = body.index(mark_start) + len(mark_start)
    end = body.index(mark_end, start)
    path.write_text(body[:start] + "\n" + text + "\n" + body[end:])
    return True


def publish(path: Path, result: dict[str, Any], table: str, section: str) -> None:
    """Write a bench's results file, print its table and put the table in docs/benchmarks.md."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(table)
    update_benchmarks(table, section)


def run_line(result: dict[str, Any], module: str) -> str:
    """The italic line under a bench's table: when, on what, and the command that made it."""
    m = result["machine"]
    return f"_{result['date'][:10]}, {m['cpu']} ({m['usable_cores']} cores); `python -m {module}`._"


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
