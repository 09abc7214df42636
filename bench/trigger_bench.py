"""Trigger-engine benchmark: recall, false triggers, latency and real-time factor.

Builds (or reuses) the synthesised corpus in bench/corpus/, runs a fresh
TriggerEngine over every item, 20 ms chunk by 20 ms chunk as in a call, and
writes bench/results/triggers.json (bench/results/triggers.quick.json with
--quick). A full run also runs the held-out set (bench/heldout.py: flite and
festival voices, reported apart) and rewrites the table between the docs/benchmarks.md markers
<!-- bench:triggers:start --> and <!-- bench:triggers:end --> when they exist.

    .venv/bin/python -m bench.trigger_bench [--quick] [--runs N] [--no-realtime]   # from the repository root
"""

from __future__ import annotations

# isort: off
import triggers  # noqa: F401  first: it sets thread limits before numpy loads (triggers/__init__.py)

# isort: on
import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.corpus import PHRASES, build_corpus, summarise
from bench.heldout import VOICES as HELDOUT_VOICES
from bench.heldout import plan_heldout
from bench.metrics import MATCH_TOLERANCE_S, metrics, pct, score_item
from bench.report import BENCHMARKS, TARGETS, console, machine_info, markdown, print_table, update_benchmarks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CORPUS_DIR = HERE / "corpus"
HELDOUT_DIR = HERE / "corpus_heldout"
RESULTS_DIR = HERE / "results"

err = console(stderr=True)


# --------------------------------------------------------------------------- helpers


def select(items: list[dict[str, Any]], quick: bool) -> list[dict[str, Any]]:
    """The whole corpus, or for --quick an evenly spread, deterministic subset."""
    if not quick:
        return items

    def spread(group: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
        if len(group) <= n:
            return group
        step = len(group) / n
        return [group[int(i * step)] for i in range(n)]

    out: list[dict[str, Any]] = []
    for phrase in PHRASES:
        out += spread([i for i in items if i["kind"] == "positive" and i["phrase"] == phrase], 5)
        out += spread([i for i in items if i["kind"] == "near_miss" and i["near_miss_of"] == phrase], 5)
    out += spread([i for i in items if i["kind"] == "unrelated"], 6)
    conv = [i for i in items if i["kind"] == "conversation"]
    out += [next(i for i in conv if i["snr_db"] is None), next(i for i in conv if i["snr_db"] is not None)]
    return out


# --------------------------------------------------------------------------- engine pass


def run_item(rec: Any, item: dict[str, Any], corpus_dir: Path = CORPUS_DIR) -> dict[str, Any]:
    from triggers import TranscriptEvent, TriggerEngine, TriggerEvent, chunks, load_audio

    audio = load_audio(corpus_dir / item["path"])
    engine = TriggerEngine(list(PHRASES), recognizer=rec)
    events: list[Any] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for c in chunks(audio):
        events += engine.feed(c)
    events += engine.flush()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    fired = [e for e in events if isinstance(e, TriggerEvent)]
    finals = [e.text for e in events if isinstance(e, TranscriptEvent) and e.final]
    return {
        "audio_s": len(audio) / 16_000,
        "cpu_s": cpu,
        "wall_s": wall,
        "triggers": [
            {
                "phrase": t.phrase,
                "heard": t.heard,
                "phrase_end_s": round(t.phrase_end_s, 3),
                "emitted_at_s": round(t.emitted_at_s, 3),
                "confidence": round(float(t.confidence), 3),
            }
            for t in fired
        ],
        "heard": " | ".join(finals),
    }


def engine_pass(
    rec: Any, items: list[dict[str, Any]], label: str, corpus_dir: Path = CORPUS_DIR
) -> list[dict[str, Any]]:
    runs = []
    with Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
    ) as progress:
        task = progress.add_task("", total=len(items))
        for item in items:
            progress.update(task, description=item["id"])
            runs.append(run_item(rec, item, corpus_dir))
            progress.advance(task)
    return runs


HELDOUT_KEYS = (
    "positives",
    "recall",
    "recall_by_phrase",
    "recall_clean",
    "recall_noisy",
    "missed_positives",
    "near_misses",
    "near_miss_items_triggered",
    "near_miss_by_phrase",
    "near_miss_triggered",
    "unrelated",
    "unrelated_false_triggers",
    "unrelated_triggered",
    "latency_p50_s",
    "latency_p95_s",
    "rtf_cpu",
)


def heldout_pass(rec: Any, seed: int) -> dict[str, Any]:
    """The engine on held-out engines, voices and sentences (bench/heldout.py): reported apart, never tuned on."""
    try:
        items = build_corpus(HELDOUT_DIR, seed=seed, planner=plan_heldout)
    except RuntimeError as exc:
        return {"available": False, "error": str(exc)}
    runs = engine_pass(rec, items, "held-out", HELDOUT_DIR)
    results = [score_item(item, run) for item, run in zip(items, runs)]
    m = metrics(results, [runs])
    return {
        "available": True,
        "voices": list(HELDOUT_VOICES),
        "minutes": round(sum(i["duration_s"] for i in items) / 60, 2),
        **{k: m[k] for k in HELDOUT_KEYS},
        "items": results,
    }


def run_long_call(rec: Any, items: list[dict[str, Any]], minutes: float) -> dict[str, Any]:
    from bench.longcall import long_call

    with Progress(
        TextColumn(f"[bold]long call ({minutes:g} min)[/]"), BarColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        task = progress.add_task("", total=1.0)
        result = long_call(
            rec,
            items,
            CORPUS_DIR,
            list(PHRASES),
            minutes=minutes,
            progress=lambda f: progress.update(task, completed=f),
        )
    return result


# --------------------------------------------------------------------------- realtime CLI


def realtime_cli(items: list[dict[str, Any]], n: int, model: str, device: str) -> dict[str, Any]:
    """Run `callbridge listen --realtime --json` over n positives; wall latency of triggers."""
    positives = [i for i in items if i["kind"] == "positive"]
    chosen: list[dict[str, Any]] = []
    per = max(1, n // len(PHRASES))
    for phrase in PHRASES:
        group = [i for i in positives if i["phrase"] == phrase]
        chosen += group[:: max(1, len(group) // per)][:per]
    cli = ROOT / ".venv" / "bin" / "callbridge"
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "callbridge"]
    cmd += ["listen", "--realtime", "--json", "--model", model, "--device", device]
    for p in PHRASES:
        cmd += ["--phrase", p]
    cmd += [str(CORPUS_DIR / i["path"]) for i in chosen]
    audio_s = sum(i["duration_s"] for i in chosen)
    result: dict[str, Any] = {
        "files": [i["id"] for i in chosen],
        "audio_s": round(audio_s, 2),
        "command": " ".join(cmd[:4]) + " ...",
    }
    err.print(f"[bold]realtime[/] callbridge listen --realtime over {len(chosen)} positives ({audio_s:.0f} s of audio)")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=audio_s * 3 + 180, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {**result, "available": False, "error": f"{type(exc).__name__}: {exc}", "p50_s": None, "p95_s": None}
    by_path = {str(CORPUS_DIR / i["path"]): i for i in chosen}
    latencies, latencies_gt, misses = [], [], []
    seen: set[str] = set()
    for line in proc.stdout.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("event") != "trigger" or rec.get("latency_ms") is None:
            continue
        item = by_path.get(rec.get("file", ""))
        if item is None or item["id"] in seen or rec["phrase"] != item["phrase"]:
            continue
        if abs(rec["phrase_end_s"] - item["phrase_end_s"]) > MATCH_TOLERANCE_S:
            continue
        seen.add(item["id"])
        latencies.append(rec["latency_ms"] / 1000)
        # the CLI measures from the engine's phrase end; shift to the ground-truth end
        latencies_gt.append(rec["latency_ms"] / 1000 + rec["phrase_end_s"] - item["phrase_end_s"])
    misses = [i["id"] for i in chosen if i["id"] not in seen]
    if proc.returncode != 0 and not latencies:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {**result, "available": False, "error": f"exit {proc.returncode}: {tail}", "p50_s": None, "p95_s": None}
    return {
        **result,
        "available": True,
        "returncode": proc.returncode,
        "detected": len(latencies),
        "missed": misses,
        "latencies_s": [round(x, 3) for x in latencies],
        "p50_s": pct(latencies, 50),
        "p95_s": pct(latencies, 95),
        "gt_p50_s": pct(latencies_gt, 50),
        "gt_p95_s": pct(latencies_gt, 95),
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the trigger engine on a synthesised corpus.")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="a subset: 15 positives, 15 near misses, 6 unrelated, 2 conversations; no held-out set",
    )
    ap.add_argument(
        "--runs", type=int, default=1, help="repeat the engine pass N times; the RTF reported is the median"
    )
    ap.add_argument("--seed", type=int, default=0, help="corpus seed")
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    ap.add_argument(
        "--realtime-files", type=int, default=12, help="positives run through `callbridge listen --realtime`"
    )
    ap.add_argument("--no-realtime", action="store_true", help="skip the realtime CLI measurement")
    ap.add_argument(
        "--long-minutes",
        type=float,
        default=None,
        help="length of the long-call run (default 30, 5 with --quick; 0 skips it)",
    )
    ap.add_argument("--out", type=Path, help="results file (default bench/results/triggers[.quick].json)")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    items = build_corpus(CORPUS_DIR, seed=args.seed)
    chosen = select(items, args.quick)
    corpus_stats = summarise(items)

    from triggers import WhisperRecognizer

    err.print(f"loading {args.model} on {args.device}")
    rec = WhisperRecognizer(model=args.model, device=args.device)
    passes = []
    for k in range(max(1, args.runs)):
        label = "engine" if args.runs == 1 else f"engine {k + 1}/{args.runs}"
        passes.append(engine_pass(rec, chosen, label))
    results = [score_item(item, run) for item, run in zip(chosen, passes[0])]
    m = metrics(results, passes)

    if not args.quick:
        m["heldout"] = heldout_pass(rec, args.seed)

    long_minutes = args.long_minutes if args.long_minutes is not None else (5.0 if args.quick else 30.0)
    if long_minutes > 0:
        m["long_call"] = run_long_call(rec, items, long_minutes)

    if args.no_realtime:
        rt: dict[str, Any] = {"available": False, "error": "skipped (--no-realtime)", "p50_s": None, "p95_s": None}
    else:
        n_rt = min(args.realtime_files, 6) if args.quick else args.realtime_files
        rt = realtime_cli(chosen, n_rt, args.model, args.device)
    m["realtime_wall_p50_s"] = rt.get("p50_s")
    m["realtime_wall_p95_s"] = rt.get("p95_s")

    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "runs": args.runs,
        "model": args.model,
        "device": args.device,
        "phrases": list(PHRASES),
        "match_tolerance_s": MATCH_TOLERANCE_S,
        "machine": machine_info(),
        "corpus": {
            "dir": str(CORPUS_DIR.relative_to(ROOT)),
            "seed": args.seed,
            "items": len(chosen),
            "minutes": sum(i["duration_s"] for i in chosen) / 60,
            "full_corpus": corpus_stats["by_kind"],
            "voices": corpus_stats["voices"],
        },
        "targets": {k: {"op": op, "value": v} for k, (op, v) in TARGETS.items()},
        "bench_seconds": None,
    }
    meta["bench_seconds"] = round(time.perf_counter() - started, 1)
    out = args.out or RESULTS_DIR / ("triggers.quick.json" if args.quick else "triggers.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**meta, "metrics": m, "realtime_cli": rt, "items": results}, indent=1) + "\n")

    title = f"Trigger engine — {args.model} ({args.device}){' — QUICK subset' if args.quick else ''}"
    print_table(m, rt, title)
    if not rt.get("available"):
        err.print(f"realtime CLI latency not measured: {rt.get('error')}")
    for r in results + m.get("heldout", {}).get("items", []):
        if r["kind"] == "positive" and not r["detected"]:
            err.print(
                f"[yellow]missed[/] {r['id']} {r['phrase']!r}: said {r['text']!r}; heard {r['heard']!r}; "
                f"triggers {[t['phrase'] for t in r['triggers']]}"
            )
        elif r["kind"] != "positive" and r["detected"]:
            err.print(
                f"[red]false[/] {r['id']} ({r['kind']}): {[(t['phrase'], t['heard']) for t in r['triggers']]}; "
                f"said {(r['text'] or '')[:80]!r}"
            )
    print(f"results -> {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if not args.quick and update_benchmarks(markdown(m, rt, meta)):
        print(f"benchmark table updated ({BENCHMARKS.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
